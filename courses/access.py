"""Who may see and change what in the courses plugin. Views call these and answer 404 for
objects the user may not know about (object-level permission)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from courses.models import Course, CourseStatus, Lesson, Module
from lms.extensions import db
from lms.models import User


def can_edit(user: User, course: Course) -> bool:
    return user.is_authenticated and (user.is_admin or course.is_owned_by(user))


def can_view(user: User, course: Course) -> bool:
    """Learners see published (and archived, if enrolled: handled by the view) courses;
    authors also see drafts."""
    return course.status == CourseStatus.PUBLISHED or can_edit(user, course)


def course_or_404(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    return course


def editable_course_or_404(slug: str, user: User) -> Course:
    course = course_or_404(slug)
    if not can_edit(user, course):
        abort(404)
    return course


def module_or_404(course: Course, module_id: int) -> Module:
    module = db.session.get(Module, module_id)
    if module is None or module.course_id != course.id or module.deleted:
        abort(404)
    return module


def lesson_or_404(course: Course, lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id or lesson.deleted:
        abort(404)
    return lesson
