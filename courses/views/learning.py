"""Learners: the catalogue, a course's page, enrolment, lessons, progress and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from courses import completion, services
from courses.access import can_edit
from courses.models import Course, CourseStatus, Enrolment, Lesson, Module, Topic
from courses.outline import OutlineLesson, outline_for, outlines_for
from courses.views import bp
from lms.extensions import db
from lms.forms import ActionForm

# What outlines and progress need of a lesson (not its texts, not the working copy).
OUTLINE_LESSON_COLUMNS = (
    Lesson.id,
    Lesson.module_id,
    Lesson.course_id,
    Lesson.is_published,
    Lesson.published_position,
    Lesson.published_title,
    Lesson.published_minutes,
    Lesson.published_revision,
    Lesson.deleted,
)


# Statements of learner pages, built once (building one costs more than running it).
_COURSE = select(Course).where(Course.slug == bindparam("slug"))
_COURSE_WITH_MODULES = _COURSE.options(
    selectinload(Course.modules).selectinload(Module.lessons).load_only(*OUTLINE_LESSON_COLUMNS)
)
# The lesson page: the course, the reader's enrolment and the lesson's text in one statement.
_LESSON_PAGE = (
    select(Course, Enrolment, Lesson.published_html)
    .outerjoin(
        Enrolment,
        (Enrolment.course_id == Course.id) & (Enrolment.user_id == bindparam("user_id")),
    )
    .outerjoin(Lesson, (Lesson.id == bindparam("lesson_id")) & (Lesson.course_id == Course.id))
    .where(Course.slug == bindparam("slug"))
)
_DASHBOARD_ENROLMENTS = (
    select(Enrolment)
    .where(Enrolment.user_id == bindparam("user_id"))
    .options(joinedload(Enrolment.course))
    .order_by(Enrolment.completed_at.is_not(None), Enrolment.last_activity_at.desc())
)


@dataclass(frozen=True, slots=True)
class LessonPage(OutlineLesson):
    """The lesson being read: its outline entry plus its published text."""

    published_html: str = ""


def _load_course(slug: str, with_modules: bool = True) -> Course:
    """The course with its modules and lessons in three statements, whatever their number;
    only the course row (one statement) when the page uses the cached outline instead."""
    query = _COURSE_WITH_MODULES if with_modules else _COURSE
    course = db.session.scalar(query, {"slug": slug})
    if course is None:
        abort(404)
    return course


def _visible_course(slug: str, with_modules: bool = True) -> tuple[Course, Enrolment | None]:
    """A course the current user may see: published; archived if they were enrolled;
    a draft only for its authors. Anything else is 404."""
    course = _load_course(slug, with_modules)
    enrolment = (
        services.find_enrolment(current_user.id, course.id)
        if current_user.is_authenticated
        else None
    )
    _visible_or_404(course, enrolment)
    return course, enrolment


def _visible_or_404(course: Course, enrolment: Enrolment | None) -> None:
    """The rule of `_visible_course` for a course and enrolment already read."""
    if course.status == CourseStatus.PUBLISHED:
        return
    if course.status == CourseStatus.ARCHIVED and enrolment is not None:
        return
    if can_edit(current_user, course) and course.version > 0:
        return
    abort(404)


@bp.route("/")
def catalogue():
    topic = request.args.get("topic", "")
    language = request.args.get("language", "")
    query = select(Course).where(Course.status == CourseStatus.PUBLISHED).order_by(Course.title)
    if topic in set(Topic):
        query = query.where(Course.topic == topic)
    else:
        topic = ""
    if language in ("bg", "en"):
        query = query.where(Course.language == language)
    else:
        language = ""
    courses = db.session.scalars(query).all()
    enrolments = {}
    if current_user.is_authenticated:
        enrolments = {
            e.course_id: e
            for e in db.session.scalars(
                select(Enrolment).where(Enrolment.user_id == current_user.id)
            )
        }
    return render_template(
        "courses/catalogue.html",
        courses=courses,
        topic=topic,
        language=language,
        topics=list(Topic),
        enrolments=enrolments,
    )


@bp.route("/<slug>")
def course(slug: str):
    course, enrolment = _visible_course(slug)
    progress = completion.course_progress(course, current_user, enrolment) if enrolment else None
    return render_template(
        "courses/course.html",
        course=course,
        enrolment=enrolment,
        progress=progress,
        translation=services.translation_of(course),
        action_form=ActionForm(),
        can_edit=can_edit(current_user, course),
    )


@bp.route("/<slug>/enrol", methods=["POST"])
@login_required
def enrol(slug: str):
    course, enrolment = _visible_course(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        enrolment = services.enrol(current_user, course)
    except services.ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("courses.course", slug=course.slug))
    db.session.commit()
    flash(_("You are enrolled. Enjoy the course!"), "success")
    progress = completion.course_progress(course, current_user, enrolment)
    lesson = progress.next_lesson
    if lesson is None:
        return redirect(url_for("courses.course", slug=course.slug))
    return redirect(url_for("courses.lesson", slug=course.slug, lesson_id=lesson.id))


@bp.route("/<slug>/resume")
@login_required
def resume(slug: str):
    """Where the learner left off: the first lesson they have not finished."""
    course, enrolment = _visible_course(slug, with_modules=False)
    if enrolment is None:
        return redirect(url_for("courses.course", slug=course.slug))
    done = completion.done_lesson_ids(current_user.id, course.id)
    lessons = outline_for(course).lessons
    target = next((x for x in lessons if x.id not in done), lessons[0] if lessons else None)
    if target is None:
        return redirect(url_for("courses.course", slug=course.slug))
    return redirect(url_for("courses.lesson", slug=course.slug, lesson_id=target.id))


@bp.route("/<slug>/lessons/<int:lesson_id>")
@login_required
def lesson(slug: str, lesson_id: int):
    found = db.session.execute(
        _LESSON_PAGE, {"slug": slug, "user_id": current_user.id, "lesson_id": lesson_id}
    ).first()
    if found is None:
        abort(404)
    course, enrolment, text = found
    _visible_or_404(course, enrolment)
    if enrolment is None and not can_edit(current_user, course):
        flash(_("Enrol in the course to read its lessons."), "info")
        return redirect(url_for("courses.course", slug=course.slug))
    cached = outline_for(course)
    index = cached.index_of(lesson_id)
    if index is None:
        abort(404)
    ordered = cached.lessons
    # The text (read with the course above) is the one thing of the lesson not in the outline.
    entry = ordered[index]
    current = LessonPage(
        entry.id,
        entry.module_id,
        entry.course_id,
        entry.published_title,
        entry.published_position,
        entry.published_minutes,
        entry.published_revision,
        published_html=text or "",
    )
    done = completion.done_lesson_ids(current_user.id, course.id) if enrolment else set()
    return render_template(
        "courses/lesson.html",
        course=course,
        lesson=current,
        outline=[(m, m.published_lessons) for m in cached.modules],
        done=done,
        previous=ordered[index - 1] if index > 0 else None,
        next=ordered[index + 1] if index + 1 < len(ordered) else None,
        position=index + 1,
        total=len(ordered),
        enrolment=enrolment,
    )


@bp.route("/<slug>/lessons/<int:lesson_id>/done", methods=["POST"])
@login_required
def lesson_done(slug: str, lesson_id: int):
    """Mark a lesson as done: from the button, or from the page's script when the learner
    reaches the end of the lesson (then the answer is JSON)."""
    course, enrolment = _visible_course(slug)
    wants_json = request.accept_mimetypes.best == "application/json"
    lesson = next(
        (x for m in course.published_modules for x in m.published_lessons if x.id == lesson_id),
        None,
    )
    if lesson is None or enrolment is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    if course.status != CourseStatus.PUBLISHED:
        abort(409)
    newly = services.complete_lesson(current_user, lesson)
    db.session.commit()
    if wants_json:
        return {
            "done": True,
            "first_time": newly,
            "course_completed": enrolment.completed_at is not None,
        }
    ordered = [x for m in course.published_modules for x in m.published_lessons]
    index = ordered.index(lesson)
    if enrolment.completed_at is not None and newly:
        flash(_("Congratulations, you have completed the course!"), "success")
        return redirect(url_for("courses.course", slug=course.slug))
    if index + 1 < len(ordered):
        return redirect(
            url_for("courses.lesson", slug=course.slug, lesson_id=ordered[index + 1].id)
        )
    return redirect(url_for("courses.course", slug=course.slug))


def dashboard_context(user) -> dict:  # noqa: ANN001
    """Each enrolled course with its progress and what is still missing."""
    enrolments = db.session.scalars(_DASHBOARD_ENROLMENTS, {"user_id": user.id}).all()
    # Outlines come from the per-process cache (published content only, the same for all).
    outlines = outlines_for([e.course for e in enrolments])
    done = completion.done_lesson_ids_by_course(user.id, [e.course_id for e in enrolments])
    items = [
        completion.course_progress(
            e.course, user, e, done[e.course_id], outline=outlines[e.course_id]
        )
        for e in enrolments
    ]
    return {"items": items}


@bp.route("/my")
@login_required
def dashboard():
    return render_template("courses/dashboard.html", **dashboard_context(current_user))
