"""Signal receivers of the quizzes plugin: completion requirements, course packages, menu."""

from __future__ import annotations

import functools
from typing import NamedTuple

import yaml
from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, func, select

from courses.completion import Requirement
from courses.outline import outline_for
from courses.packages import PackageError
from lms.database import read_rows
from lms.extensions import db
from lms.ui import remembered_url
from quizzes import gift, services
from quizzes.models import Attempt, AttemptStatus, Quiz, QuizSlot


def _course_quizzes(course_id: int) -> list[Quiz]:
    """The course's quizzes that have questions. Within a request every course's quizzes are
    read in one statement, so pages listing many courses do not grow in queries."""
    if has_request_context():
        if "quizzes_by_course" not in g:
            g.quizzes_by_course = _quizzes_by_course(None)
        return g.quizzes_by_course.get(course_id, [])
    return _quizzes_by_course(course_id).get(course_id, [])


@functools.cache
def _quizzes_statement(one_course: bool) -> Select:
    """Built once per process: building this statement costs more than running it. The
    course id, when there is one, is a bound parameter."""
    counts = (
        select(QuizSlot.quiz_id, func.count(QuizSlot.id).label("n"))
        .group_by(QuizSlot.quiz_id)
        .subquery()
    )
    query = (
        select(Quiz)
        .outerjoin(counts, counts.c.quiz_id == Quiz.id)
        .where((func.coalesce(counts.c.n, 0) > 0) | Quiz.draw_count.is_not(None))
        .order_by(Quiz.id)
    )
    if one_course:
        query = query.where(Quiz.course_id == bindparam("course_id"))
    return query


def _quizzes_by_course(course_id: int | None) -> dict[int, list[Quiz]]:
    if course_id is None:
        quizzes = db.session.scalars(_quizzes_statement(False))
    else:
        quizzes = db.session.scalars(_quizzes_statement(True), {"course_id": course_id})
    found: dict[int, list[Quiz]] = {}
    for quiz in quizzes:
        found.setdefault(quiz.course_id, []).append(quiz)
    return found


_FINISHED_ATTEMPTS = select(Attempt.quiz_id, Attempt.number, Attempt.score, Attempt.status).where(
    Attempt.user_id == bindparam("user_id"), Attempt.status == AttemptStatus.FINISHED
)


def _finished_attempts(user_id: int) -> list:
    """The user's finished attempts (quiz, number, score, status), once per request."""

    def load() -> list:
        return list(db.session.execute(_FINISHED_ATTEMPTS, {"user_id": user_id}))

    if not has_request_context():
        return load()
    cache = g.setdefault("quiz_attempts_by_user", {})
    if user_id not in cache:
        cache[user_id] = load()
    return cache[user_id]


# What completion needs of a quiz: read as plain rows (no ORM objects), once per request.
_QUIZ_FIELDS = (Quiz.id, Quiz.course_id, Quiz.module_id, Quiz.title, Quiz.pass_mark, Quiz.grading)


@functools.cache
def _quiz_rows_statement(one_course: bool) -> Select:
    counts = (
        select(QuizSlot.quiz_id, func.count(QuizSlot.id).label("n"))
        .group_by(QuizSlot.quiz_id)
        .subquery()
    )
    query = (
        select(*_QUIZ_FIELDS)
        .outerjoin(counts, counts.c.quiz_id == Quiz.id)
        .where((func.coalesce(counts.c.n, 0) > 0) | Quiz.draw_count.is_not(None))
        .order_by(Quiz.id)
    )
    if one_course:
        query = query.where(Quiz.course_id == bindparam("course_id"))
    return query


def _quiz_rows(course_id: int) -> list:
    """The course's quizzes that have questions (id, course, module, title, pass mark,
    grading) as plain rows. Within a request every course's quizzes are read in one
    statement, so pages listing many courses do not grow in statements."""
    if not has_request_context():
        rows = db.session.execute(_quiz_rows_statement(True), {"course_id": course_id})
        return list(rows)
    cache = g.get("quiz_rows_by_course")
    if cache is None:
        cache = g.quiz_rows_by_course = {}
        for row in db.session.execute(_quiz_rows_statement(False)):
            cache.setdefault(row.course_id, []).append(row)
    return cache.get(course_id, [])


class _QuizRow(NamedTuple):
    id: int
    course_id: int
    module_id: int | None
    title: str
    pass_mark: int
    grading: str


class _AttemptRow(NamedTuple):
    quiz_id: int
    number: int
    score: float | None
    status: str


@functools.cache
def _quiz_rows_with_attempts_statement() -> Select:
    """The quiz rows of `_quiz_rows_statement(False)`, each with the user's finished attempts
    (outer-joined: a quiz without any comes once, with None)."""
    statement = _quiz_rows_statement(False)
    return (
        statement.add_columns(
            Attempt.number.label("attempt_number"),
            Attempt.score.label("attempt_score"),
            Attempt.status.label("attempt_status"),
        )
        .outerjoin(
            Attempt,
            (Attempt.quiz_id == Quiz.id)
            & (Attempt.user_id == bindparam("user_id"))
            & (Attempt.status == AttemptStatus.FINISHED),
        )
        .order_by(Attempt.number)
    )


def _read_quizzes_with_attempts(user_id: int) -> None:
    """In a request that has read neither the quiz rows nor this user's attempts yet (the
    learner's home, a lesson or quiz completing), read both in one statement into the same
    per-request caches that `_quiz_rows` and `_finished_attempts` fill."""
    if not has_request_context() or "quiz_rows_by_course" in g:
        return
    attempts_by_user = g.setdefault("quiz_attempts_by_user", {})
    if user_id in attempts_by_user:
        return
    by_course: dict[int, list[_QuizRow]] = {}
    attempts: list[_AttemptRow] = []
    last_quiz = None
    rows = read_rows(_quiz_rows_with_attempts_statement(), {"user_id": user_id}).all()
    for quiz_id, course_id, module_id, title, pass_mark, grading, number, score, status in rows:
        if quiz_id != last_quiz:  # rows come ordered by quiz
            last_quiz = quiz_id
            by_course.setdefault(course_id, []).append(
                _QuizRow(quiz_id, course_id, module_id, title, pass_mark, grading)
            )
        if number is not None:
            attempts.append(_AttemptRow(quiz_id, number, score, status))
    g.quiz_rows_by_course = by_course
    attempts_by_user[user_id] = attempts


def completion_requirements(course, user, enrolment, **kwargs) -> list[Requirement]:  # noqa: ANN001
    """Each module check and the final assessment must be passed (by the quiz's grading)."""
    if enrolment is not None:
        _read_quizzes_with_attempts(user.id)
    quizzes = _quiz_rows(course.id)
    if not quizzes:
        return []
    live_modules = {m.id for m in outline_for(course).modules}
    quizzes = [q for q in quizzes if q.module_id is None or q.module_id in live_modules]
    attempts = _finished_attempts(user.id) if enrolment is not None else []
    by_quiz: dict[int, list] = {}
    for attempt in attempts:
        by_quiz.setdefault(attempt.quiz_id, []).append(attempt)
    with_url = has_request_context()
    return [
        Requirement(
            key=f"quiz:{quiz.id}",
            label=_l("Pass “%(title)s”", title=quiz.title),
            done=services.is_pass(quiz, services.quiz_grade(quiz, by_quiz.get(quiz.id, []))),
            module_id=quiz.module_id,
            url=remembered_url("quizzes.quiz", quiz_id=quiz.id) if with_url else None,
            weight=2,
        )
        for quiz in quizzes
    ]


class PackageQuizzes:
    """Reads and writes the quizzes of a course package: `NN-module/quiz.gift` with its
    settings under `quiz:` in module.yaml, and `final-assessment.gift` with `final_quiz:` in
    course.yaml."""

    file_patterns = ("*/quiz.gift", "final-assessment.gift")
    course_keys = ("final_quiz", "pass_mark")

    def validate(self, package) -> list[PackageError]:  # noqa: ANN001
        errors: list[PackageError] = []
        for module in package.modules:
            text = module.files.get("quiz.gift")
            if text is not None:
                errors.extend(self._gift_errors(f"{module.folder}/quiz.gift", text))
            settings = (module.meta or {}).get("quiz")
            if settings is not None and isinstance(settings, dict):
                errors.extend(
                    PackageError(f"{module.folder}/module.yaml", None, f"quiz: {e}")
                    for e in services.settings_errors(settings)
                )
        text = package.files.get("final-assessment.gift")
        if text is not None:
            errors.extend(self._gift_errors("final-assessment.gift", text))
        final = package.meta.get("final_quiz")
        if final is not None:
            if not isinstance(final, dict):
                errors.append(
                    PackageError(
                        "course.yaml",
                        package.line_of("final_quiz"),
                        "final_quiz must be a set of key: value settings",
                    )
                )
            else:
                errors.extend(
                    PackageError("course.yaml", package.line_of("final_quiz"), f"final_quiz: {e}")
                    for e in services.settings_errors(final)
                )
        return errors

    @staticmethod
    def _gift_errors(path: str, text: str) -> list[PackageError]:
        result = gift.parse_gift(text)
        return [PackageError(path, line, message) for line, message in result.errors]

    def apply(self, package, course) -> None:  # noqa: ANN001
        from courses.models import Module

        default_mark = package.meta.get("pass_mark", 70)
        for module_spec in package.modules:
            text = module_spec.files.get("quiz.gift")
            if text is None:
                continue
            module = db.session.get(Module, module_spec.module_id)
            settings = {
                "pass_mark": default_mark,
                "title": f"Check: {module.title}",
                **(module_spec.meta.get("quiz") or {}),
            }
            made = services.import_gift(course, text, module)
            services.set_quiz(course, module, settings, made)
        text = package.files.get("final-assessment.gift")
        if text is not None:
            settings = {
                "pass_mark": default_mark,
                "title": "Final assessment",
                **(package.meta.get("final_quiz") or {}),
            }
            made = services.import_gift(course, text, None)
            services.set_quiz(course, None, settings, made)


def package_importers(sender, **kwargs) -> PackageQuizzes:  # noqa: ANN001
    return PackageQuizzes()


def package_exporters(course, **kwargs):  # noqa: ANN001, ANN201
    def export(course, folder) -> None:  # noqa: ANN001
        from courses.packages import _live  # the order packages give the module folders

        quizzes = {q.module_id: q for q in _course_quizzes(course.id)}
        folders = sorted(p for p in folder.iterdir() if p.is_dir() and p.name[:2].isdigit())
        for module, module_folder in zip(_live(course.modules), folders, strict=False):
            quiz = quizzes.get(module.id)
            if quiz is not None and quiz.slots:
                (module_folder / "quiz.gift").write_text(_gift_of(quiz), encoding="utf-8")
        final = quizzes.get(None)
        if final is not None and final.slots:
            (folder / "final-assessment.gift").write_text(_gift_of(final), encoding="utf-8")
            meta_path = folder / "course.yaml"
            meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
            meta["final_quiz"] = export_settings(final)
            meta_path.write_text(
                yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )

    return export


def export_settings(quiz: Quiz) -> dict:
    settings = {
        "title": quiz.title,
        "pass_mark": quiz.pass_mark,
        "grading": quiz.grading,
        "shuffle_questions": quiz.shuffle_questions,
        "shuffle_options": quiz.shuffle_options,
    }
    for key in ("max_attempts", "time_limit_minutes", "draw_count", "draw_category"):
        if getattr(quiz, key) is not None:
            settings[key] = getattr(quiz, key)
    return settings


def _gift_of(quiz: Quiz) -> str:
    from quizzes.questions import ImportedQuestion, question_from_dict

    items = [
        ImportedQuestion(
            question=question_from_dict(slot.question.data),
            line=0,
            name=slot.question.name,
            tags=list(slot.question.tags),
        )
        for slot in quiz.slots
    ]
    return gift.write_gift(items)


def module_quiz_link(sender, course, module, progress=None, **kwargs) -> str | None:  # noqa: ANN001
    quiz = next((q for q in _course_quizzes(course.id) if q.module_id == module.id), None)
    if quiz is None:
        return None
    from flask import render_template

    done = progress is not None and any(
        r.key == f"quiz:{quiz.id}" and r.done for r in progress.requirements
    )
    return render_template("quizzes/_quiz_link.html", quiz=quiz, done=done, progress=progress)


def final_quiz_link(sender, course, progress=None, **kwargs) -> str | None:  # noqa: ANN001
    quiz = next((q for q in _course_quizzes(course.id) if q.module_id is None), None)
    if quiz is None:
        return None
    from flask import render_template

    done = progress is not None and any(
        r.key == f"quiz:{quiz.id}" and r.done for r in progress.requirements
    )
    return render_template(
        "quizzes/_quiz_link.html", quiz=quiz, done=done, progress=progress, final=True
    )


def manage_links(sender, course, **kwargs) -> str:  # noqa: ANN001
    from flask import render_template

    return render_template("quizzes/_manage_links.html", course=course)


def correct_response(question_data: dict) -> dict | None:
    """A response that earns full marks, built from the key (demo learners use it)."""
    kind = question_data["type"]
    if kind == "single":
        best = max(question_data["options"], key=lambda o: o["fraction"])
        return {"option": best["id"]}
    if kind == "multiple":
        return {"options": [o["id"] for o in question_data["options"] if o["fraction"] > 0]}
    if kind == "truefalse":
        return {"value": question_data["correct"]}
    if kind == "shortanswer":
        best = max(question_data["answers"], key=lambda a: a["fraction"])
        return {"text": best["text"].replace("*", "")}
    if kind == "numerical":
        best = max(question_data["answers"], key=lambda a: a["fraction"])
        value = best["value"] if "value" in best else (best["min"] + best["max"]) / 2
        return {"text": repr(value)}
    if kind == "matching":
        return {"pairs": {p["id"]: p["right"] for p in question_data["pairs"]}}
    if kind == "ordering":
        return {"order": [i["id"] for i in question_data["items"]]}
    return None


def pass_demo_quizzes(sender, users: dict, **kwargs) -> None:  # noqa: ANN001
    """Demo learners who finished every lesson of a course also pass its quizzes, so their
    courses show as completed (and certificates, when enabled, are issued)."""
    from courses.completion import done_lesson_ids
    from courses.models import Enrolment
    from quizzes.models import Attempt

    for user in users.values():
        for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.user_id == user.id)):
            course = enrolment.course
            lessons = [x for m in course.published_modules for x in m.published_lessons]
            if not lessons or done_lesson_ids(user.id, course.id) != {x.id for x in lessons}:
                continue
            for quiz in _course_quizzes(course.id):
                if db.session.scalar(
                    select(Attempt.id).where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id)
                ):
                    continue
                attempt = services.start_attempt(quiz, user)
                responses = {}
                for question in attempt.questions:
                    response = correct_response(question["data"])
                    if response is not None:
                        responses[question["question_id"]] = response
                services.submit_attempt(attempt, responses)


def assessment_results(course, user, language: str = "en", **kwargs) -> list:  # noqa: ANN001
    """The learner's grade in each of the course's quizzes, for certificates and reports:
    the final assessment as "final", module checks as "module". Read fresh (not from the
    request cache): it is asked right after a submission may have changed it."""
    from flask_babel import force_locale, gettext

    from courses.completion import AssessmentResult

    quizzes = _quizzes_by_course(course.id).get(course.id, [])
    if not quizzes:
        return []
    rows = db.session.execute(
        select(Attempt.quiz_id, Attempt.number, Attempt.score, Attempt.status).where(
            Attempt.user_id == user.id,
            Attempt.status == AttemptStatus.FINISHED,
            Attempt.quiz_id.in_([q.id for q in quizzes]),
        )
    ).all()
    results = []
    with force_locale(language):
        for quiz in quizzes:
            grade = services.quiz_grade(quiz, [r for r in rows if r.quiz_id == quiz.id])
            if grade is None:
                continue
            percent = round(grade * 100, 1)
            passed = services.is_pass(quiz, grade)
            shown = f"{percent:g}".replace(".", ",") if language == "bg" else f"{percent:g}"
            text = (
                gettext("Passed, %(percent)s %%", percent=shown)
                if passed
                else gettext("Not passed, %(percent)s %%", percent=shown)
            )
            results.append(
                AssessmentResult(
                    kind="module" if quiz.module_id else "final",
                    label=quiz.title,
                    result=text,
                    percent=percent,
                    passed=passed,
                )
            )
    return results
