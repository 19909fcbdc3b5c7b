"""Fixtures for the certificates tests: a learner who has completed a course."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from courses import services as course_services
from courses.models import Course, Enrolment
from lms.extensions import db
from lms.models import User


@pytest.fixture()
def complete_course(app) -> Callable[..., Enrolment]:  # noqa: ANN001
    """Enrol `user` in `course` and finish every lesson (through the services, so the
    `course-completed` signal fires exactly as in a request); commits."""

    def finish(user: User, course: Course) -> Enrolment:
        course_services.enrol(user, course)
        for module in course.published_modules:
            for lesson in module.published_lessons:
                course_services.complete_lesson(user, lesson)
        db.session.commit()
        return db.session.scalar(
            select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
        )

    return finish
