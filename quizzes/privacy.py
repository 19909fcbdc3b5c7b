"""The quizzes plugin's part of privacy (lms/privacy.py).

The data download holds the learner's own attempts and responses. Scores and per-question
marks appear only when the quiz's review policy shows them to the learner at that moment, and
never for an attempt in progress; answer keys, correct answers and feedback are never included
(SECURITY.md item 1). At anonymisation (after the retention date) the learner's responses and
the trainers' comments are deleted; the attempts' scores stay as counted facts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import null, select, update

from courses.models import Course
from lms.extensions import db
from lms.models import User
from quizzes.models import Answer, Attempt, AttemptStatus, Quiz
from quizzes.questions import QuestionDataError, question_from_dict


def _question_texts(attempt: Attempt) -> dict[int, str]:
    texts: dict[int, str] = {}
    for item in attempt.questions or []:
        try:
            texts[int(item["question_id"])] = question_from_dict(item["data"]).text
        except (QuestionDataError, KeyError, TypeError, ValueError):
            continue
    return texts


def personal_data(sender: User, **kwargs: object) -> dict[str, Any]:
    """`get-personal-data`: the user's attempts with their own answers."""
    from quizzes.review import review_rights
    from quizzes.services import quiz_state

    user = sender
    rows = db.session.execute(
        select(Attempt, Quiz, Course.slug)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(Course, Course.id == Quiz.course_id)
        .where(Attempt.user_id == user.id)
        .order_by(Attempt.started_at, Attempt.id)
    ).all()
    states: dict[int, Any] = {}
    attempts = []
    for attempt, quiz, slug in rows:
        finished = attempt.status != AttemptStatus.IN_PROGRESS
        if finished and quiz.id not in states:
            states[quiz.id] = quiz_state(quiz, user)
        rights = review_rights(quiz, attempt, states[quiz.id]) if finished else None
        show_score = bool(rights and rights.score)
        show_marks = bool(rights and rights.correctness)
        texts = _question_texts(attempt)
        answers = []
        for answer in sorted(attempt.answers, key=lambda a: a.id):
            item: dict[str, Any] = {
                "question": texts.get(answer.question_id, ""),
                "your_response": answer.response,
                "saved_at": answer.saved_at,
            }
            if show_marks:
                item["mark"] = answer.fraction
            if finished and rights and rights.feedback and answer.trainer_comment:
                item["trainer_comment"] = answer.trainer_comment
            answers.append(item)
        attempts.append(
            {
                "quiz": quiz.title,
                "course": slug,
                "number": attempt.number,
                "status": str(attempt.status),
                "started_at": attempt.started_at,
                "submitted_at": attempt.submitted_at,
                "score_percent": round(attempt.score * 100, 1)
                if show_score and attempt.score is not None
                else None,
                "passed": attempt.passed if show_score else None,
                "answers": answers,
            }
        )
    return {"quizzes": {"attempts": attempts}}


def anonymise(sender: User, **kwargs: object) -> None:
    """`user-anonymised`: delete the learner's own words, keep the scores."""
    attempt_ids = select(Attempt.id).where(Attempt.user_id == sender.id)
    db.session.execute(
        update(Answer)
        .where(Answer.attempt_id.in_(attempt_ids))
        .values(response=null(), trainer_comment="")
    )
