"""Surveys for the outcome indicators: the before/after skills self-assessment of a course and
the satisfaction survey after an event.

The self-assessment asks "how would you rate your skills" from 1 to 5 for each *learning
outcome* of the course (what the course promises and what the certificate prints, so before
and after measure the same thing); a course without outcomes asks about its topic. The
"before" answer is given at enrolment or on the first visit (or, if the learner missed it,
retrospectively at the end, as the grant operator's wording allows); the "after" answer once
the course is completed. Each phase is answered once per person: a second answer is refused
(so nobody can tune their own improvement). Reports use only the averages, never names.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from courses import labels, services
from courses.models import (
    Attendance,
    Course,
    Enrolment,
    EventFeedback,
    EventStatus,
    LiveEvent,
    SkillsAssessment,
)
from lms.extensions import db
from lms.models import User, utcnow
from lms.services import ServiceError

PHASES = ("before", "after")
MAX_COMMENT = 2000


class AlreadyAnswered(ServiceError):
    """This person answered this survey already."""


def questions(course: Course) -> list[str]:
    """What the self-assessment asks about, in order: the course's learning outcomes, or its
    topic when it lists none."""
    outcomes = [o.strip() for o in (course.learning_outcomes or []) if o and o.strip()]
    return outcomes or [str(labels.TOPICS.get(course.topic, course.topic))]


def find_assessment(user_id: int, course_id: int, phase: str) -> SkillsAssessment | None:
    return db.session.scalar(
        select(SkillsAssessment).where(
            SkillsAssessment.user_id == user_id,
            SkillsAssessment.course_id == course_id,
            SkillsAssessment.phase == phase,
        )
    )


def next_phase(user: User, course: Course, enrolment: Enrolment | None) -> str | None:
    """The phase the learner should answer now, or None."""
    if enrolment is None:
        return None
    if find_assessment(user.id, course.id, "before") is None:
        return "before"
    if enrolment.completed_at is not None and find_assessment(user.id, course.id, "after") is None:
        return "after"
    return None


def _rating(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise ValueError(value)
    number = int(value)  # type: ignore[call-overload]
    if not 1 <= number <= 5:
        raise ValueError(value)
    return number


def submit_assessment(
    user: User, course: Course, phase: str, ratings: list[object]
) -> SkillsAssessment:
    """Store the learner's ratings (one per question, each 1 to 5) for `phase`."""
    enrolment = services.find_enrolment(user.id, course.id)
    if enrolment is None:
        raise ServiceError(_l("Enrol in the course first."), "course")
    if phase not in PHASES:
        raise ServiceError(_l("Unknown survey."), "phase")
    if phase == "after" and enrolment.completed_at is None:
        raise ServiceError(
            _l("The second self-assessment opens when you complete the course."), "phase"
        )
    if find_assessment(user.id, course.id, phase) is not None:
        raise AlreadyAnswered(_l("You have answered this self-assessment already. Thank you!"))
    asked = questions(course)
    if len(ratings) != len(asked):
        raise ServiceError(_l("Please rate every statement from 1 to 5."), "ratings")
    try:
        values = [_rating(r) for r in ratings]
    except (TypeError, ValueError, OverflowError):
        raise ServiceError(_l("Please rate every statement from 1 to 5."), "ratings") from None
    average = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"))
    assessment = SkillsAssessment(
        user_id=user.id,
        course_id=course.id,
        phase=phase,
        answers=dict(zip(asked, values, strict=True)),
        average=average,
        submitted_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(assessment)
    except IntegrityError:  # a double submit
        raise AlreadyAnswered(
            _l("You have answered this self-assessment already. Thank you!")
        ) from None
    return assessment


# --- satisfaction after events ------------------------------------------------------------


def attended(event: LiveEvent, user: User) -> bool:
    return (
        db.session.scalar(
            select(Attendance.id).where(
                Attendance.event_id == event.id, Attendance.user_id == user.id
            )
        )
        is not None
    )


def find_feedback(event: LiveEvent, user: User) -> EventFeedback | None:
    return db.session.scalar(
        select(EventFeedback).where(
            EventFeedback.event_id == event.id, EventFeedback.user_id == user.id
        )
    )


def feedback_open(event: LiveEvent, user: User) -> bool:
    """People recorded as present at an event that has started may rate it, once."""
    return (
        user.is_authenticated
        and event.status == EventStatus.SCHEDULED
        and event.starts_at <= utcnow()
        and attended(event, user)
    )


def submit_feedback(
    event: LiveEvent, user: User, satisfaction: object, comment: str = ""
) -> EventFeedback:
    if not feedback_open(event, user):
        raise ServiceError(_l("Only participants of this event can rate it, after it starts."))
    if find_feedback(event, user) is not None:
        raise AlreadyAnswered(_l("You have rated this event already. Thank you!"))
    try:
        value = _rating(satisfaction)
    except (TypeError, ValueError, OverflowError):
        raise ServiceError(_l("Choose a rating from 1 to 5."), "satisfaction") from None
    comment = (comment or "").replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT:
        raise ServiceError(
            _l("The comment is longer than %(limit)s characters.", limit=MAX_COMMENT), "comment"
        )
    feedback = EventFeedback(
        event_id=event.id, user_id=user.id, satisfaction=value, comment=comment
    )
    try:
        with db.session.begin_nested():
            db.session.add(feedback)
    except IntegrityError:
        raise AlreadyAnswered(_l("You have rated this event already. Thank you!")) from None
    return feedback


def feedback_summary(event: LiveEvent) -> dict[str, object]:
    """Count and average of the ratings, and the comments (without names)."""
    rows = db.session.execute(
        select(EventFeedback.satisfaction, EventFeedback.comment).where(
            EventFeedback.event_id == event.id
        )
    ).all()
    count = len(rows)
    return {
        "count": count,
        "average": round(sum(r.satisfaction for r in rows) / count, 1) if count else None,
        "comments": [r.comment for r in rows if r.comment],
    }
