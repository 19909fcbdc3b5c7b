"""Trainer pages of a course's quizzes: results and statistics, settings, the essay grading
queue, response exports, and the question import (GIFT or Aiken) and GIFT export.

Only the course's owners and admins reach them: other trainers get 404 (as for a course that
does not exist), learners and coordinators 403. A module's quiz is addressed by the module
(``/quiz/<module_id>``), the final assessment by ``/final``; a module of another course, or a
deleted one, is 404. Every page reads with a fixed number of queries, whatever the number of
attempts; the arithmetic is in quizzes/stats.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from courses.access import editable_course_or_404
from courses.models import Course, Enrolment, Module
from lms.exports import safe_filename, tabular_response
from lms.extensions import db
from lms.models import Company, User
from lms.security import roles_required
from lms.services import ServiceError
from quizzes import aiken, gift, services, stats
from quizzes.forms import GradeForm, ImportForm, QuizSettingsForm
from quizzes.handlers import _gift_of
from quizzes.models import (
    DEFAULT_REVIEW,
    Answer,
    Attempt,
    AttemptStatus,
    Question,
    Quiz,
    QuizSlot,
)
from quizzes.views import bp

TRAINERS = ("trainer", "admin")
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
FINAL_CATEGORY = "Final assessment"
BANK_CATEGORY = "Question bank"
MAX_FLASHED_WARNINGS = 8  # flashes live in the session cookie, which must stay small


# --- where we are ---------------------------------------------------------------------------


def _course(slug: str) -> Course:
    return editable_course_or_404(slug, current_user)


def _live_modules(course: Course) -> list[Module]:
    """The working copy's modules in their order (what the trainer edits and numbers)."""
    return sorted((m for m in course.modules if not m.deleted), key=lambda m: m.position)


def module_or_404(course: Course, module_id: int) -> Module:
    """A live module of this course. Looked up among the course's modules (which the page
    loads anyway), so an id beyond the database's integer range is a plain 404."""
    module = next((m for m in _live_modules(course) if m.id == module_id), None)
    if module is None:
        abort(404)
    return module


def _module_number(course: Course, module: Module) -> int:
    return next(n for n, m in enumerate(_live_modules(course), 1) if m.id == module.id)


def _quiz_label(course: Course, module: Module | None) -> str:
    if module is None:
        return _("Final assessment")
    return _(
        "Module %(number)s: %(title)s", number=_module_number(course, module), title=module.title
    )


def _urls(course: Course, module: Module | None) -> dict[str, str]:
    """The links of one quiz's pages (module check or final assessment)."""
    if module is None:
        names = {
            "stats": "final_stats",
            "settings": "final_settings",
            "csv": "final_responses_csv",
            "xlsx": "final_responses_xlsx",
            "gift": "final_export_gift",
        }
        return {k: url_for(f"quizzes.{v}", slug=course.slug) for k, v in names.items()} | {
            "import": url_for("quizzes.import_gift", slug=course.slug, target="final")
        }
    names = {
        "stats": "quiz_stats",
        "settings": "quiz_settings",
        "csv": "responses_csv",
        "xlsx": "responses_xlsx",
        "gift": "export_gift",
    }
    return {
        k: url_for(f"quizzes.{v}", slug=course.slug, module_id=module.id) for k, v in names.items()
    } | {"import": url_for("quizzes.import_gift", slug=course.slug, target=f"module-{module.id}")}


def _categories(course: Course, keep: str | None = None) -> list[str]:
    found = set(
        db.session.scalars(
            select(Question.category).where(Question.course_id == course.id).distinct()
        )
    )
    if keep:
        found.add(keep)
    return sorted(c for c in found if c)


# --- results --------------------------------------------------------------------------------


@bp.route("/course/<slug>")
@roles_required(*TRAINERS)
def results(slug: str):
    """Every quiz of the course: module checks in module order, then the final assessment."""
    course = _course(slug)
    modules = _live_modules(course)
    quizzes = {
        q.module_id: q for q in db.session.scalars(select(Quiz).where(Quiz.course_id == course.id))
    }
    quiz_ids = [q.id for q in quizzes.values()]
    attempts: dict[int, list[stats.AttemptSummary]] = {i: [] for i in quiz_ids}
    question_counts: dict[int, int] = {}
    if quiz_ids:
        for quiz_id, user_id, number, status, score in db.session.execute(
            select(
                Attempt.quiz_id, Attempt.user_id, Attempt.number, Attempt.status, Attempt.score
            ).where(Attempt.quiz_id.in_(quiz_ids))
        ):
            attempts[quiz_id].append(stats.AttemptSummary(user_id, number, status, score))
        question_counts = dict(
            db.session.execute(
                select(QuizSlot.quiz_id, func.count(QuizSlot.id))
                .where(QuizSlot.quiz_id.in_(quiz_ids))
                .group_by(QuizSlot.quiz_id)
            ).all()
        )
    entries = []
    for module in [*modules, None]:
        quiz = quizzes.get(module.id if module else None)
        entries.append(
            {
                "label": _quiz_label(course, module),
                "module": module,
                "quiz": quiz,
                "questions": (quiz.draw_count or question_counts.get(quiz.id, 0)) if quiz else 0,
                "summary": stats.quiz_summary(attempts[quiz.id], quiz.grading, quiz.pass_mark)
                if quiz
                else None,
                "urls": _urls(course, module),
            }
        )
    pending = sum(e["summary"].pending for e in entries if e["summary"])
    return render_template(
        "quizzes/trainer/results.html", course=course, entries=entries, pending=pending
    )


# --- one quiz -------------------------------------------------------------------------------


def _attempt_rows(course: Course, quiz: Quiz, submitted_only: bool = False) -> list[Any]:
    """Attempts with the learner and the company they enrolled for, in one query."""
    query = (
        select(Attempt, User.name, User.email, Company.name)
        .join(User, User.id == Attempt.user_id)
        .outerjoin(
            Enrolment, (Enrolment.user_id == Attempt.user_id) & (Enrolment.course_id == course.id)
        )
        .outerjoin(Company, Company.id == Enrolment.company_id)
        .where(Attempt.quiz_id == quiz.id)
    )
    if submitted_only:
        query = query.where(Attempt.status != AttemptStatus.IN_PROGRESS)
    rows = db.session.execute(query).all()
    rows.sort(key=lambda r: (r[1].casefold(), r[2], r[0].number))
    return rows


def _answers(quiz: Quiz) -> dict[int, dict[int, stats.AnswerRecord]]:
    """The answers of the quiz's submitted attempts, by attempt and question, in one query."""
    found: dict[int, dict[int, stats.AnswerRecord]] = {}
    for attempt_id, question_id, response, fraction in db.session.execute(
        select(Answer.attempt_id, Answer.question_id, Answer.response, Answer.fraction)
        .join(Attempt, Attempt.id == Answer.attempt_id)
        .where(Attempt.quiz_id == quiz.id, Attempt.status != AttemptStatus.IN_PROGRESS)
    ):
        found.setdefault(attempt_id, {})[question_id] = stats.AnswerRecord(response, fraction)
    return found


def _question_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        db.session.execute(select(Question.id, Question.name).where(Question.id.in_(ids))).all()
    )


def _stats_page(course: Course, module: Module | None):
    quiz = services.quiz_for(course, module)
    context: dict[str, Any] = {
        "course": course,
        "module": module,
        "quiz": quiz,
        "label": _quiz_label(course, module),
        "urls": _urls(course, module),
    }
    if quiz is None:
        return render_template("quizzes/trainer/quiz.html", **context)
    rows = _attempt_rows(course, quiz)
    answers = _answers(quiz)
    records = [
        stats.AttemptRecord(
            questions=attempt.questions or [],
            answers=answers.get(attempt.id, {}),
            finished=attempt.status == AttemptStatus.FINISHED,
        )
        for attempt, *_rest in sorted(rows, key=lambda r: r[0].started_at)
        if attempt.status != AttemptStatus.IN_PROGRESS
    ]
    question_stats = stats.question_statistics(records, [s.question_id for s in quiz.slots])
    names = _question_names({q.question_id for q in question_stats})
    summary = stats.quiz_summary(
        (stats.AttemptSummary(a.user_id, a.number, a.status, a.score) for a, *_r in rows),
        quiz.grading,
        quiz.pass_mark,
    )
    attempts = [
        {
            "attempt": attempt,
            "name": name,
            "email": email,
            "company": company,
            "duration": stats.format_duration(
                (attempt.submitted_at - attempt.started_at).total_seconds()
                if attempt.submitted_at
                else None
            ),
        }
        for attempt, name, email, company in rows
    ]
    return render_template(
        "quizzes/trainer/quiz.html",
        **context,
        attempts=attempts,
        summary=summary,
        questions=question_stats,
        names=names,
        flag_after=stats.FLAG_AFTER_ATTEMPTS,
    )


@bp.route("/course/<slug>/quiz/<int:module_id>")
@roles_required(*TRAINERS)
def quiz_stats(slug: str, module_id: int):
    course = _course(slug)
    return _stats_page(course, module_or_404(course, module_id))


@bp.route("/course/<slug>/final")
@roles_required(*TRAINERS)
def final_stats(slug: str):
    return _stats_page(_course(slug), None)


# --- settings -------------------------------------------------------------------------------


def _settings_errors(form: QuizSettingsForm, course: Course) -> list[tuple[Any, str]]:
    """What the form's own validators cannot see: the dates' order and the drawing pool."""
    errors: list[tuple[Any, str]] = []
    opens, closes = form.dates()
    if opens and closes and closes <= opens:
        errors.append((form.closes_at, _("The closing time must come after the opening time.")))
    if form.draw_count.data and not form.draw_category.data:
        errors.append((form.draw_category, _("Choose the category to draw the questions from.")))
    elif form.draw_count.data and not form.draw_count.errors and not form.draw_category.errors:
        pool = (
            db.session.scalar(
                select(func.count(Question.id)).where(
                    Question.course_id == course.id, Question.category == form.draw_category.data
                )
            )
            or 0
        )
        if pool < form.draw_count.data:
            errors.append(
                (
                    form.draw_count,
                    ngettext(
                        "The category has only %(num)s question.",
                        "The category has only %(num)s questions.",
                        pool,
                    ),
                )
            )
    return errors


def _settings_page(course: Course, module: Module | None):
    quiz = services.quiz_for(course, module)
    form = QuizSettingsForm(_categories(course, quiz.draw_category if quiz else None))
    status = 200
    if request.method == "GET":
        if quiz is not None:
            form.fill_from(quiz)
        else:  # what a new quiz starts with
            form.title.data = (
                _("Final assessment")
                if module is None
                else _("Check: %(title)s", title=module.title)
            )
            form.pass_mark.data = 70
            form.shuffle_questions.data = form.shuffle_options.data = True
            for key, value in DEFAULT_REVIEW.items():
                getattr(form, f"review_{key}").data = value
    else:
        valid = form.validate_on_submit()
        for field, message in _settings_errors(form, course):  # shown with the others
            field.errors = [*field.errors, message]
        problems: list[str] = []
        if valid and not any(f.errors for f in form):
            settings = form.settings()
            problems = services.settings_errors(settings)
        if valid and not any(f.errors for f in form) and not problems:
            try:
                if quiz is None:
                    quiz = services.set_quiz(course, module, settings, [])
                else:
                    services.apply_settings(quiz, settings)
                # apply_settings leaves the dates alone (see the report to the services' owner).
                quiz.opens_at, quiz.closes_at = form.dates()
                db.session.flush()
            except ServiceError as error:
                db.session.rollback()
                problems = [str(error.message)]
            else:
                db.session.commit()
                flash(_("The settings of “%(title)s” are saved.", title=quiz.title), "success")
                return redirect(_urls(course, module)["stats"])
        for problem in problems:
            flash(problem, "error")
        status = 400
    return render_template(
        "quizzes/trainer/settings.html",
        course=course,
        module=module,
        quiz=quiz,
        form=form,
        label=_quiz_label(course, module),
        urls=_urls(course, module),
        review_keys=list(DEFAULT_REVIEW),
    ), status


@bp.route("/course/<slug>/quiz/<int:module_id>/settings", methods=["GET", "POST"])
@roles_required(*TRAINERS)
def quiz_settings(slug: str, module_id: int):
    course = _course(slug)
    return _settings_page(course, module_or_404(course, module_id))


@bp.route("/course/<slug>/final/settings", methods=["GET", "POST"])
@roles_required(*TRAINERS)
def final_settings(slug: str):
    return _settings_page(_course(slug), None)


# --- essay grading --------------------------------------------------------------------------


def _snapshot(attempt: Attempt, question_id: int) -> dict[str, Any] | None:
    return next(
        (q["data"] for q in attempt.questions or [] if q.get("question_id") == question_id), None
    )


def _grading_queue(course: Course) -> list[dict[str, Any]]:
    """Essay answers waiting for a grade in this course, oldest submission first."""
    found = db.session.execute(
        select(Answer, Attempt, Quiz.title, User.name, User.email)
        .join(Attempt, Attempt.id == Answer.attempt_id)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(User, User.id == Attempt.user_id)
        .where(
            Quiz.course_id == course.id,
            Attempt.status == AttemptStatus.PENDING_GRADING,
            Answer.fraction.is_(None),
        )
        .order_by(Attempt.submitted_at, Attempt.id, Answer.id)
    ).all()
    items = []
    for answer, attempt, quiz_title, name, email in found:
        data = _snapshot(attempt, answer.question_id)
        if data is None or data.get("type") != "essay":
            continue
        items.append(
            {
                "answer": answer,
                "attempt": attempt,
                "quiz_title": quiz_title,
                "name": name,
                "email": email,
                "question": data,
                "text": (answer.response or {}).get("text") or "",
            }
        )
    return items


def _gradable_answer_or_404(course: Course, answer_id: int | None) -> tuple[Answer, Attempt]:
    """An essay answer of an attempt of a quiz of this course; anything else is 404. The row is
    locked (PostgreSQL; SQLite serialises writing requests anyway), so of two trainers grading
    the same answer at once the second sees it graded."""
    answer = db.session.get(Answer, answer_id, with_for_update=True) if answer_id else None
    attempt = db.session.get(Attempt, answer.attempt_id) if answer else None
    quiz = db.session.get(Quiz, attempt.quiz_id) if attempt else None
    if answer is None or attempt is None or quiz is None or quiz.course_id != course.id:
        abort(404)
    data = _snapshot(attempt, answer.question_id)
    if data is None or data.get("type") != "essay":
        abort(404)
    return answer, attempt


@bp.route("/course/<slug>/grading", methods=["GET", "POST"])
@roles_required(*TRAINERS)
def grading(slug: str):
    course = _course(slug)
    failed: GradeForm | None = None
    if request.method == "POST":
        form = GradeForm()
        if form.validate_on_submit():
            answer, attempt = _gradable_answer_or_404(course, form.answer_id_value())
            if attempt.status != AttemptStatus.PENDING_GRADING or answer.fraction is not None:
                flash(_("This answer was graded already; nothing changed."), "info")
                return redirect(url_for("quizzes.grading", slug=course.slug), 303)
            try:
                services.grade_answer(
                    answer,
                    form.grade.data / 100,
                    form.comment.data or "",
                    current_user._get_current_object(),
                )
            except ServiceError as error:
                db.session.rollback()
                form.grade.errors = [str(error.message)]
                failed = form
            else:
                db.session.commit()
                attempt = db.session.get(Attempt, attempt.id)
                if attempt.status == AttemptStatus.FINISHED:
                    flash(
                        _(
                            "Grade saved. The attempt is complete: %(score)s%%.",
                            score=round(attempt.score * 100, 1),
                        ),
                        "success",
                    )
                else:
                    flash(_("Grade saved. The attempt has more answers to grade."), "success")
                return redirect(url_for("quizzes.grading", slug=course.slug), 303)
        else:
            if form.answer_id_value() is not None:
                _gradable_answer_or_404(course, form.answer_id_value())
            failed = form
    items = _grading_queue(course)
    forms = {}
    for item in items:
        answer_id = item["answer"].id
        if failed is not None and failed.answer_id_value() == answer_id:
            forms[answer_id] = failed
        else:
            item_form = GradeForm(formdata=None, answer_id=str(answer_id))
            forms[answer_id] = item_form
    return render_template(
        "quizzes/trainer/grading.html", course=course, items=items, forms=forms, failed=failed
    ), (400 if failed is not None else 200)


# --- exports --------------------------------------------------------------------------------


def _responses_export(course: Course, module: Module | None, fmt: str) -> Response:
    """Every answer of every submitted attempt, one row each."""
    quiz = services.quiz_for(course, module)
    if quiz is None:
        abort(404)
    rows = _attempt_rows(course, quiz, submitted_only=True)
    answers = _answers(quiz)
    names = _question_names({q["question_id"] for a, *_r in rows for q in a.questions or []})
    headers = [
        _("Learner"),
        _("Email"),
        _("Company"),
        _("Attempt"),
        _("Submitted at (UTC)"),
        _("Question number"),
        _("Question"),
        _("Response"),
        _("Fraction (0–1)"),
    ]

    def lines():  # noqa: ANN202
        for attempt, name, email, company in rows:
            given = answers.get(attempt.id, {})
            for number, q in enumerate(attempt.questions or [], 1):
                qid = q["question_id"]
                answer = given.get(qid)
                yield [
                    name,
                    email,
                    company,
                    attempt.number,
                    attempt.submitted_at,
                    number,
                    names.get(qid) or q["data"].get("text", ""),
                    stats.response_text(q["data"], answer.response if answer else None),
                    answer.fraction if answer else None,
                ]

    part = f"module-{_module_number(course, module)}" if module else "final"
    stem = f"responses-{course.slug}-{part}-{date.today().isoformat()}"
    return tabular_response(stem, headers, lines(), fmt, sheet_title=_("Responses"))


def _gift_export(course: Course, module: Module | None) -> Response:
    quiz = services.quiz_for(course, module)
    if quiz is None:
        abort(404)
    part = f"module-{_module_number(course, module)}" if module else "final"
    response = Response(_gift_of(quiz), mimetype="text/plain")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{safe_filename(f"{course.slug}-{part}", "gift")}"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/course/<slug>/quiz/<int:module_id>/responses.csv")
@roles_required(*TRAINERS)
def responses_csv(slug: str, module_id: int):
    course = _course(slug)
    return _responses_export(course, module_or_404(course, module_id), "csv")


@bp.route("/course/<slug>/quiz/<int:module_id>/responses.xlsx")
@roles_required(*TRAINERS)
def responses_xlsx(slug: str, module_id: int):
    course = _course(slug)
    return _responses_export(course, module_or_404(course, module_id), "xlsx")


@bp.route("/course/<slug>/final/responses.csv")
@roles_required(*TRAINERS)
def final_responses_csv(slug: str):
    return _responses_export(_course(slug), None, "csv")


@bp.route("/course/<slug>/final/responses.xlsx")
@roles_required(*TRAINERS)
def final_responses_xlsx(slug: str):
    return _responses_export(_course(slug), None, "xlsx")


@bp.route("/course/<slug>/quiz/<int:module_id>/export.gift")
@roles_required(*TRAINERS)
def export_gift(slug: str, module_id: int):
    course = _course(slug)
    return _gift_export(course, module_or_404(course, module_id))


@bp.route("/course/<slug>/final/export.gift")
@roles_required(*TRAINERS)
def final_export_gift(slug: str):
    return _gift_export(_course(slug), None)


# --- import ---------------------------------------------------------------------------------


def _import_targets(course: Course) -> list[tuple[str, str]]:
    targets = [("bank", _("The question bank only (no quiz changes)"))]
    for number, module in enumerate(_live_modules(course), 1):
        targets.append(
            (
                f"module-{module.id}",
                _(
                    "Module %(number)s: %(title)s — becomes its quiz",
                    number=number,
                    title=module.title,
                ),
            )
        )
    targets.append(("final", _("The final assessment — becomes its questions")))
    return targets


def _read_questions(form: ImportForm) -> tuple[str | None, str | None]:
    """The text to import, from the file or the text box, or a message why there is none."""
    upload = form.file.data
    has_file = upload is not None and bool(getattr(upload, "filename", ""))
    pasted = form.text.data or ""
    if has_file and pasted.strip():
        return None, _("Upload a file or paste text, not both.")
    if not has_file and not pasted.strip():
        return None, _("Choose a file to upload or paste the questions.")
    if has_file:
        if not upload.filename.lower().endswith((".gift", ".txt")):
            return None, _("Upload a .gift or .txt file.")
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            return None, _("The file is larger than %(mb)s MB.", mb=MAX_UPLOAD_BYTES // 2**20)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None, _("The file is not UTF-8 text. Save it as UTF-8 and upload it again.")
    else:
        text = pasted
    if "\x00" in text:
        return None, _("The text contains a NUL character; it is not a question file.")
    return text, None


def _current_settings(quiz: Quiz) -> dict[str, Any]:
    """A stored quiz's settings in the form apply_settings takes, to keep them on import."""
    return {
        "title": quiz.title,
        "pass_mark": quiz.pass_mark,
        "max_attempts": quiz.max_attempts,
        "grading": quiz.grading,
        "time_limit_minutes": quiz.time_limit_minutes,
        "shuffle_questions": quiz.shuffle_questions,
        "shuffle_options": quiz.shuffle_options,
        "draw_count": quiz.draw_count,
        "draw_category": quiz.draw_category,
        "review": {**DEFAULT_REVIEW, **(quiz.review or {})},
    }


@bp.route("/course/<slug>/import", methods=["GET", "POST"])
@roles_required(*TRAINERS)
def import_gift(slug: str):
    """Questions from a GIFT or Aiken file (or pasted text). Everything is parsed first; a
    file with any error imports nothing, and every error is listed with its line."""
    course = _course(slug)
    targets = _import_targets(course)
    form = ImportForm(targets)
    if request.method == "GET" and request.args.get("target") in dict(targets):
        form.target.data = request.args["target"]
    errors: list[tuple[int, str]] = []
    warnings: list[tuple[int, str]] = []
    status = 200
    if request.method == "POST":
        status = 400
    if form.validate_on_submit():
        text, problem = _read_questions(form)
        if problem:
            form.file.errors = [*form.file.errors, problem]
        else:
            parse = aiken.parse_aiken if form.file_format.data == "aiken" else gift.parse_gift
            result = parse(text)
            errors, warnings = result.errors, result.warnings
            if not errors and not result.questions:
                form.file.errors = [*form.file.errors, _("The file contains no questions.")]
            elif not errors:
                stored = _store_questions(course, form, result.questions)
                if stored is not None:
                    db.session.commit()
                    _flash_import(stored, warnings)
                    return redirect(url_for("quizzes.results", slug=course.slug))
                form.file.errors = [
                    *form.file.errors,
                    _("The questions could not be stored; nothing was imported."),
                ]
    return render_template(
        "quizzes/trainer/import.html",
        course=course,
        form=form,
        errors=errors,
        warnings=warnings,
        max_mb=MAX_UPLOAD_BYTES // 2**20,
    ), status


@dataclass
class _Stored:
    count: int
    where: str | None  # the quiz the questions became, None for the bank only
    draws_from: Quiz | None = None  # a quiz that draws from a category ignores its own list


def _store_questions(course: Course, form: ImportForm, items: list) -> _Stored | None:
    """Add the questions and, for a quiz target, make them the quiz's questions (keeping
    its settings). Returns what was done, or None after a refusal (rolled back)."""
    target = form.target.data
    module = None
    if target.startswith("module-"):
        module = module_or_404(course, int(target.removeprefix("module-")))
        default_category = module.title
    else:
        default_category = FINAL_CATEGORY if target == "final" else BANK_CATEGORY
    category = (form.category.data or "").strip() or default_category
    stored = _Stored(len(items), None if target == "bank" else _quiz_label(course, module))
    try:
        made = [services.add_question(course, item, category) for item in items]
        db.session.flush()
        if target != "bank":
            existing = services.quiz_for(course, module)
            if existing is None:
                title = (
                    _("Final assessment")
                    if module is None
                    else _("Check: %(title)s", title=module.title)
                )
                services.set_quiz(course, module, {"title": title}, made)
            else:
                dates = existing.opens_at, existing.closes_at
                services.set_quiz(course, module, _current_settings(existing), made)
                existing.opens_at, existing.closes_at = dates
                stored.draws_from = existing if existing.draw_count else None
            db.session.flush()
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return None
    return stored


def _flash_import(stored: _Stored, warnings: list[tuple[int, str]]) -> None:
    if stored.where is None:
        message = ngettext(
            "%(num)s question was added to the question bank.",
            "%(num)s questions were added to the question bank.",
            stored.count,
        )
    else:
        message = ngettext(
            "%(num)s question was imported into %(where)s.",
            "%(num)s questions were imported into %(where)s.",
            stored.count,
            where=stored.where,
        )
    flash(message, "success")
    quiz = stored.draws_from
    if quiz is not None:
        flash(
            ngettext(
                "Note: this quiz draws %(num)s question from the category “%(category)s”, "
                "so its own list of questions is not used. You can change that in its settings.",
                "Note: this quiz draws %(num)s questions from the category “%(category)s”, "
                "so its own list of questions is not used. You can change that in its settings.",
                quiz.draw_count,
                category=quiz.draw_category or "",
            ),
            "info",
        )
    if warnings:
        shown = "; ".join(
            _("line %(line)s: %(message)s", line=line, message=text[:200])
            for line, text in warnings[:MAX_FLASHED_WARNINGS]
        )
        more = len(warnings) - MAX_FLASHED_WARNINGS
        if more > 0:
            shown += " " + ngettext("(and %(num)s more)", "(and %(num)s more)", more)
        flash(_("Warnings: %(warnings)s", warnings=shown), "info")
