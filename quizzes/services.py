"""Every write of the quizzes plugin: the bank, quizzes, attempts, scoring and grading.

Scoring happens only here, from the attempt's own snapshot of its questions; a score or pass
flag sent by a browser is never read. Submitting is idempotent: a conditional update lets
exactly one of any number of concurrent submits through; the others get AttemptClosed.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from courses.models import Course, Module
from courses.services import find_enrolment, recompute_for_course
from lms.extensions import db
from lms.models import User, utcnow
from lms.services import ServiceError
from quizzes import gift, questions, scoring
from quizzes.models import (
    DEFAULT_REVIEW,
    REVIEW_WHEN,
    Answer,
    Attempt,
    AttemptStatus,
    Grading,
    Question,
    Quiz,
    QuizSlot,
)
from quizzes.signals import quiz_passed, quiz_submitted


class AttemptClosed(ServiceError):
    """The attempt was already submitted, or its time is over (answered with 409)."""


class InvalidAnswers(ServiceError):
    """Answers that do not fit the attempt's questions (answered with 400; nothing stored)."""


# --- the bank -----------------------------------------------------------------------------


def add_question(course: Course, item: questions.ImportedQuestion, category: str = "") -> Question:
    question = Question(
        course_id=course.id,
        category=(item.category or category)[:200],
        name=(item.name or questions.default_name(item.text))[:200],
        qtype=item.question.type,
        data=item.question.to_dict(),
        tags=list(item.tags),
    )
    db.session.add(question)
    return question


def import_gift(course: Course, text: str, module: Module | None = None) -> list[Question]:
    """Add the questions of a GIFT file to the course's bank, filed under the module's title
    (or "Final assessment" without a module); `set_quiz` then makes them a quiz. Nothing is
    stored when the file has any error."""
    result = gift.parse_gift(text)
    if result.errors:
        lines = "; ".join(f"line {line}: {message}" for line, message in result.errors[:20])
        raise ServiceError(_l("The GIFT file has errors: %(errors)s", errors=lines), "file")
    if not result.questions:
        raise ServiceError(_l("The file contains no questions."), "file")
    category = module.title if module is not None else "Final assessment"
    made = [add_question(course, item, category) for item in result.questions]
    db.session.flush()
    return made


# --- quizzes ------------------------------------------------------------------------------

SETTING_KEYS = {
    "title",
    "pass_mark",
    "max_attempts",
    "grading",
    "time_limit_minutes",
    "shuffle",
    "shuffle_questions",
    "shuffle_options",
    "draw_count",
    "draw_category",
    "review",
    "opens_at",
    "closes_at",
}


def settings_errors(settings: dict[str, Any]) -> list[str]:
    """Problems with quiz settings as a course package or the settings form gives them."""
    errors = []
    unknown = set(settings) - SETTING_KEYS
    if unknown:
        errors.append(f"unknown quiz setting(s): {', '.join(sorted(map(str, unknown)))}")
    mark = settings.get("pass_mark", 70)
    if not isinstance(mark, int) or isinstance(mark, bool) or not 0 <= mark <= 100:
        errors.append("pass_mark must be a whole number from 0 to 100")
    for key in ("max_attempts", "time_limit_minutes", "draw_count"):
        value = settings.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000
        ):
            errors.append(f"{key} must be a whole number from 1 to 1000")
    if settings.get("grading", "highest") not in set(Grading):
        errors.append("grading must be highest, last, first or average")
    review = settings.get("review", {})
    if (
        not isinstance(review, dict)
        or set(review) - set(DEFAULT_REVIEW)
        or any(v not in REVIEW_WHEN for v in review.values())
    ):
        errors.append(
            "review maps score/correctness/correct_answers/feedback to "
            "always/after_pass/when_closed/never"
        )
    moments = {}
    for key in ("opens_at", "closes_at"):
        try:
            moments[key] = _moment(settings.get(key))
        except (TypeError, ValueError):
            errors.append(f"{key} must be a date and time (ISO 8601)")
    if (
        moments.get("opens_at")
        and moments.get("closes_at")
        and moments["closes_at"] <= moments["opens_at"]
    ):
        errors.append("closes_at must come after opens_at")
    if "title" in settings and (
        not isinstance(settings["title"], str) or not settings["title"].strip()
    ):
        errors.append("title must be text")
    return errors


def apply_settings(quiz: Quiz, settings: dict[str, Any]) -> None:
    errors = settings_errors(settings)
    if errors:
        raise ServiceError(errors[0], "settings")
    quiz.title = (settings.get("title") or quiz.title or "Quiz").strip()[:200]
    quiz.pass_mark = settings.get("pass_mark", quiz.pass_mark if quiz.pass_mark is not None else 70)
    quiz.max_attempts = settings.get("max_attempts")
    quiz.grading = settings.get("grading", Grading.HIGHEST)
    quiz.time_limit_minutes = settings.get("time_limit_minutes")
    shuffle = settings.get("shuffle", True)
    quiz.shuffle_questions = settings.get("shuffle_questions", shuffle)
    quiz.shuffle_options = settings.get("shuffle_options", shuffle)
    quiz.draw_count = settings.get("draw_count")
    quiz.draw_category = settings.get("draw_category")
    quiz.review = {**DEFAULT_REVIEW, **settings.get("review", {})}
    quiz.opens_at = _moment(settings.get("opens_at"))
    quiz.closes_at = _moment(settings.get("closes_at"))


def _moment(value: Any) -> datetime | None:
    """A quiz date from a datetime or ISO text; naive values are taken as UTC."""
    if value in (None, ""):
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def quiz_for(course: Course, module: Module | None) -> Quiz | None:
    return db.session.scalar(
        select(Quiz).where(
            Quiz.course_id == course.id,
            Quiz.module_id.is_(None) if module is None else Quiz.module_id == module.id,
        )
    )


def set_quiz(
    course: Course, module: Module | None, settings: dict[str, Any], question_list: list[Question]
) -> Quiz:
    """Create or replace the module's quiz (or the final assessment) with these questions."""
    quiz = quiz_for(course, module)
    if quiz is None:
        quiz = Quiz(
            course_id=course.id, module_id=module.id if module else None, title="Quiz", pass_mark=70
        )
        db.session.add(quiz)
    apply_settings(quiz, settings)
    quiz.slots = [QuizSlot(question_id=q.id, position=i) for i, q in enumerate(question_list, 1)]
    db.session.flush()
    return quiz


# --- attempts -----------------------------------------------------------------------------


@dataclass
class QuizState:
    """Where a learner stands with a quiz."""

    quiz: Quiz
    attempts: list[Attempt]
    grade: float | None  # 0..1 by the quiz's grading method, over finished attempts
    passed: bool
    in_progress: Attempt | None
    attempts_left: int | None
    reasons: list[object] = field(default_factory=list)  # why no attempt can start now

    @property
    def can_start(self) -> bool:
        return not self.reasons


def quiz_grade(quiz: Quiz, attempts: list[Attempt]) -> float | None:
    scores = [
        a.score
        for a in sorted(attempts, key=lambda a: a.number)
        if a.status == AttemptStatus.FINISHED and a.score is not None
    ]
    if not scores:
        return None
    if quiz.grading == Grading.LAST:
        return scores[-1]
    if quiz.grading == Grading.FIRST:
        return scores[0]
    if quiz.grading == Grading.AVERAGE:
        return round(sum(scores) / len(scores), 6)
    return max(scores)


def is_pass(quiz: Quiz, grade: float | None) -> bool:
    return grade is not None and grade * 100 >= quiz.pass_mark - 1e-9


def grace() -> timedelta:
    return timedelta(seconds=current_app.config["QUIZZES_GRACE_SECONDS"])


def quiz_state(quiz: Quiz, user: User, attempts: list[Attempt] | None = None) -> QuizState:
    if attempts is None:
        attempts = list(
            db.session.scalars(
                select(Attempt)
                .where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id)
                .order_by(Attempt.number)
            )
        )
    in_progress = next((a for a in attempts if a.status == AttemptStatus.IN_PROGRESS), None)
    grade = quiz_grade(quiz, attempts)
    used = len(attempts)
    left = None if quiz.max_attempts is None else max(quiz.max_attempts - used, 0)
    reasons: list[object] = []
    now = utcnow()
    if quiz.opens_at and now < quiz.opens_at:
        reasons.append(
            _l("The quiz opens on %(date)s.", date=quiz.opens_at.strftime("%d.%m.%Y %H:%M UTC"))
        )
    if quiz.closes_at and now > quiz.closes_at:
        reasons.append(
            _l("The quiz closed on %(date)s.", date=quiz.closes_at.strftime("%d.%m.%Y %H:%M UTC"))
        )
    if left == 0 and in_progress is None:
        reasons.append(_l("You have used all %(count)s attempts.", count=quiz.max_attempts))
    return QuizState(quiz, attempts, grade, is_pass(quiz, grade), in_progress, left, reasons)


def _draw(quiz: Quiz, rng: random.Random) -> list[Question]:
    if quiz.draw_count:
        pool = list(
            db.session.scalars(
                select(Question)
                .where(
                    Question.course_id == quiz.course_id,
                    Question.category == (quiz.draw_category or ""),
                )
                .order_by(Question.id)
            )
        )
        if len(pool) < quiz.draw_count:
            raise ServiceError(_l("This quiz is not ready: its question pool is too small."))
        chosen = rng.sample(pool, quiz.draw_count)
    else:
        chosen = [slot.question for slot in quiz.slots]
        if quiz.shuffle_questions:
            rng.shuffle(chosen)
    if not chosen:
        raise ServiceError(_l("This quiz has no questions yet."))
    return chosen


def start_attempt(quiz: Quiz, user: User) -> Attempt:
    """Start (or return the attempt already in progress). The drawn questions, their order and
    the option shuffle are fixed now and kept with the attempt."""
    if find_enrolment(user.id, quiz.course_id) is None:
        raise ServiceError(_l("Enrol in the course first."))
    state = quiz_state(quiz, user)
    if state.in_progress is not None:
        close_if_expired(state.in_progress)
        if state.in_progress.status == AttemptStatus.IN_PROGRESS:
            return state.in_progress
        state = quiz_state(quiz, user)
    if not state.can_start:
        raise AttemptClosed(state.reasons[0])
    rng = random.Random(secrets.randbits(64))
    drawn = _draw(quiz, rng)
    now = utcnow()
    attempt = Attempt(
        quiz_id=quiz.id,
        user_id=user.id,
        number=len(state.attempts) + 1,
        started_at=now,
        status=AttemptStatus.IN_PROGRESS,
        deadline_at=now + timedelta(minutes=quiz.time_limit_minutes)
        if quiz.time_limit_minutes
        else None,
        questions=[
            {
                "question_id": q.id,
                "data": q.data,
                "seed": rng.randrange(1 << 30) if quiz.shuffle_options else None,
            }
            for q in drawn
        ],
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:  # a concurrent start took this number: use that attempt
        return db.session.scalar(
            select(Attempt).where(
                Attempt.quiz_id == quiz.id,
                Attempt.user_id == user.id,
                Attempt.status == AttemptStatus.IN_PROGRESS,
            )
        )  # type: ignore[return-value]
    return attempt


def attempt_questions(attempt: Attempt) -> list[tuple[int, questions.Question, Any]]:
    """(bank id, question, shuffle seed) for each question of the attempt, in its order.

    The snapshot is read (and checked) once per loaded attempt: the result is kept on the
    instance for as long as its `questions` value is the same object (a refresh reloads it)."""
    snapshot = attempt.questions
    kept = getattr(attempt, "_parsed_questions", None)
    if kept is None or kept[0] is not snapshot:
        parsed = tuple(
            (q["question_id"], questions.question_from_dict(q["data"]), q.get("seed"))
            for q in snapshot
        )
        kept = (snapshot, parsed)
        attempt._parsed_questions = kept  # type: ignore[attr-defined]
    return list(kept[1])


def _check_responses(attempt: Attempt, responses: dict[int, Any]) -> dict[int, questions.Question]:
    by_id = {qid: question for qid, question, _seed in attempt_questions(attempt)}
    problems: list[str] = []
    for qid, response in responses.items():
        if qid not in by_id:
            problems.append(f"question {qid} is not part of this attempt")
            continue
        problems.extend(scoring.validate_response(by_id[qid], response))
    if problems:
        raise InvalidAnswers(
            _l(
                "Some answers do not fit the questions: %(problems)s",
                problems="; ".join(problems[:5]),
            )
        )
    return by_id


def _is_open(attempt: Attempt) -> bool:
    if attempt.status != AttemptStatus.IN_PROGRESS or attempt.submitted_at is not None:
        return False
    return attempt.deadline_at is None or utcnow() <= attempt.deadline_at + grace()


def save_answers(attempt: Attempt, responses: dict[int, Any]) -> None:
    """Keep the learner's answers so far (not scored until submission)."""
    _check_responses(attempt, responses)
    if not _is_open(attempt):
        close_if_expired(attempt)
        raise AttemptClosed(_l("This attempt is closed; your saved answers were submitted."))
    _store(attempt, responses)


def _store(attempt: Attempt, responses: dict[int, Any]) -> None:
    existing = {a.question_id: a for a in attempt.answers}
    now = utcnow()
    for qid, response in responses.items():
        answer = existing.get(qid)
        if answer is None:
            attempt.answers.append(Answer(question_id=qid, response=response, saved_at=now))
        else:
            answer.response = response
            answer.saved_at = now
    db.session.flush()


def submit_attempt(
    attempt: Attempt, responses: dict[int, Any] | None = None, automatically: bool = False
) -> Attempt:
    """Score and close the attempt. Exactly one concurrent submit wins; the rest get
    AttemptClosed. After the time limit (plus grace) the learner's submit is refused and
    the attempt is closed with what was saved."""
    responses = responses or {}
    _check_responses(attempt, responses)
    if not automatically and not _is_open(attempt):
        close_if_expired(attempt)
        if attempt.status == AttemptStatus.IN_PROGRESS:
            raise AttemptClosed(_l("The time limit of this attempt is over."))
        raise AttemptClosed(_l("This attempt was already submitted."))
    now = utcnow()
    claimed = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(submitted_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.refresh(attempt)
        raise AttemptClosed(_l("This attempt was already submitted."))
    # This request owns the attempt now: record the claim in the instance and read the saved
    # answers fresh (a save may have landed since they were loaded).
    set_committed_value(attempt, "submitted_at", now)
    db.session.expire(attempt, ["answers"])
    _score_and_store(attempt, {} if automatically else responses, now)
    attempt.closed_automatically = automatically
    db.session.flush()
    quiz = attempt.quiz
    user = db.session.get(User, attempt.user_id)
    quiz_submitted.send(attempt, user=user, quiz=quiz)
    _after_finish(attempt, quiz, user)
    return attempt


def _score(attempt: Attempt) -> None:
    answers = {a.question_id: a for a in attempt.answers}
    fractions: list[float | None] = []
    for qid, question, _seed in attempt_questions(attempt):
        answer = answers.get(qid)
        if answer is None:
            answer = Answer(question_id=qid, response=None)
            attempt.answers.append(answer)
        if answer.graded_by_id is None:
            result = scoring.score(question, answer.response)
            answer.fraction = result.fraction
        fractions.append(answer.fraction)
    _set_result(attempt, fractions)


def _score_and_store(attempt: Attempt, responses: dict[int, Any], now: datetime) -> None:
    """Submission: score every question of the attempt from the given responses (or the saved
    answer when a question is not in them) and store all answers with their fractions: the
    saved ones are updated, the new ones inserted in one statement."""
    saved = {a.question_id: a for a in attempt.answers}
    new_rows: list[dict[str, Any]] = []
    fractions: list[float | None] = []
    for qid, question, _seed in attempt_questions(attempt):
        answer = saved.get(qid)
        given = qid in responses
        response = responses[qid] if given else (answer.response if answer else None)
        if answer is not None and answer.graded_by_id is not None:
            fraction = answer.fraction
        else:
            fraction = scoring.score(question, response).fraction
        if answer is None:
            new_rows.append(
                {
                    "attempt_id": attempt.id,
                    "question_id": qid,
                    "response": response,
                    "fraction": fraction,
                    "trainer_comment": "",
                    "saved_at": now,
                }
            )
        else:
            if given:
                answer.response = response
                answer.saved_at = now
            answer.fraction = fraction
        fractions.append(fraction)
    if new_rows:
        db.session.execute(insert(Answer), new_rows)
        db.session.expire(attempt, ["answers"])
    _set_result(attempt, fractions)


def _set_result(attempt: Attempt, fractions: list[float | None]) -> None:
    if any(f is None for f in fractions):
        attempt.status = AttemptStatus.PENDING_GRADING
        attempt.score = None
        attempt.passed = None
    else:
        attempt.status = AttemptStatus.FINISHED
        attempt.score = round(sum(fractions) / len(fractions), 6) if fractions else 0.0  # type: ignore[arg-type]
        attempt.passed = attempt.score * 100 >= attempt.quiz.pass_mark - 1e-9


def _after_finish(attempt: Attempt, quiz: Quiz, user: User) -> None:
    if attempt.status != AttemptStatus.FINISHED:
        return
    if attempt.passed:
        quiz_passed.send(attempt, user=user, quiz=quiz)
    course = db.session.get(Course, quiz.course_id)
    if course is not None:
        recompute_for_course(user, course)


def close_if_expired(attempt: Attempt) -> bool:
    """Close an attempt whose time is over, with the answers it saved (no cron needed: this
    runs whenever the attempt or its quiz is looked at)."""
    if attempt.status != AttemptStatus.IN_PROGRESS or attempt.deadline_at is None:
        return False
    if utcnow() <= attempt.deadline_at + grace():
        return False
    try:
        submit_attempt(attempt, automatically=True)
    except AttemptClosed:
        return False
    return True


def grade_answer(answer: Answer, fraction: float, comment: str, by: User) -> None:
    """A trainer's grade for an essay; the attempt is finished once every answer has one."""
    if not 0 <= fraction <= 1:
        raise ServiceError(_l("The grade must be between 0 and 100%."), "grade")
    answer.fraction = round(fraction, 6)
    answer.trainer_comment = (comment or "").strip()[:5000]
    answer.graded_by_id = by.id
    attempt = db.session.get(Attempt, answer.attempt_id)
    db.session.flush()
    was_pending = attempt.status == AttemptStatus.PENDING_GRADING
    if attempt.submitted_at is not None:
        _score(attempt)  # a re-grade of a finished attempt updates its score too
        db.session.flush()
        if was_pending:
            _after_finish(attempt, attempt.quiz, db.session.get(User, attempt.user_id))
