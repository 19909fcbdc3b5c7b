"""The courses plugin's part of privacy (lms/privacy.py): the learner's data download, and
what happens to their course records after erasure.

Erasure keeps enrolments, completions, progress, attendance and survey answers (audit
evidence, restricted until the retention date; pages only ever show the account's placeholder
name). The copies of the name and email that attendance rows keep (walk-ins, imported lists)
are erased at once; the company stays. At anonymisation, after the retention date, the
lesson-by-lesson trail, event registrations and free-text feedback comments are deleted and
the "enrolled by" link to a coordinator is cut; enrolments (with their company, dates and
completion), module completions, attendance and skills ratings stay as counted facts of an
anonymous unit, so indicator totals do not change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from courses.models import (
    Attendance,
    Course,
    Enrolment,
    EventFeedback,
    EventRegistration,
    LessonProgress,
    LiveEvent,
    Module,
    ModuleCompletion,
    SkillsAssessment,
)
from lms.extensions import db
from lms.models import Company, User, normalise_email


def personal_data(sender: User, **kwargs: object) -> dict[str, Any]:
    """`get-personal-data`: the user's enrolments, lesson progress and module completions."""
    user = sender
    enrolments = db.session.execute(
        select(Enrolment, Course.slug, Course.title, Company.name)
        .join(Course, Course.id == Enrolment.course_id)
        .outerjoin(Company, Company.id == Enrolment.company_id)
        .where(Enrolment.user_id == user.id)
        .order_by(Enrolment.enrolled_at, Enrolment.id)
    ).all()
    progress = db.session.execute(
        select(LessonProgress, Course.slug)
        .join(Course, Course.id == LessonProgress.course_id)
        .where(LessonProgress.user_id == user.id)
        .order_by(LessonProgress.first_seen_at, LessonProgress.id)
    ).all()
    modules = db.session.execute(
        select(ModuleCompletion, Course.slug, Module.published_title, Module.title)
        .join(Course, Course.id == ModuleCompletion.course_id)
        .join(Module, Module.id == ModuleCompletion.module_id)
        .where(ModuleCompletion.user_id == user.id)
        .order_by(ModuleCompletion.completed_at, ModuleCompletion.id)
    ).all()
    return {
        "courses": {
            **_events_data(user),
            "enrolments": [
                {
                    "course": slug,
                    "course_title": title,
                    "company": company,
                    "enrolled_at": e.enrolled_at,
                    "enrolled_version": e.enrolled_version,
                    "last_activity_at": e.last_activity_at,
                    "completed_at": e.completed_at,
                    "completed_version": e.completed_version,
                }
                for e, slug, title, company in enrolments
            ],
            "lesson_progress": [
                {
                    "course": slug,
                    "lesson_id": p.lesson_id,
                    "first_seen_at": p.first_seen_at,
                    "done_at": p.done_at,
                    "revision": p.revision,
                }
                for p, slug in progress
            ],
            "module_completions": [
                {
                    "course": slug,
                    "module": published_title or title,
                    "completed_at": m.completed_at,
                }
                for m, slug, published_title, title in modules
            ],
        }
    }


def anonymise(sender: User, **kwargs: object) -> None:
    """`user-anonymised`: delete the lesson-by-lesson trail, keep the counted facts."""
    db.session.execute(delete(LessonProgress).where(LessonProgress.user_id == sender.id))
    db.session.execute(delete(EventRegistration).where(EventRegistration.user_id == sender.id))
    db.session.execute(
        update(EventFeedback).where(EventFeedback.user_id == sender.id).values(comment="")
    )
    db.session.execute(
        update(Enrolment).where(Enrolment.user_id == sender.id).values(enrolled_by_id=None)
    )


def _events_data(user: User) -> dict[str, Any]:
    registrations = db.session.execute(
        select(EventRegistration, LiveEvent.title, LiveEvent.starts_at)
        .join(LiveEvent, LiveEvent.id == EventRegistration.event_id)
        .where(EventRegistration.user_id == user.id)
        .order_by(LiveEvent.starts_at, EventRegistration.id)
    ).all()
    attendance = db.session.execute(
        select(Attendance, LiveEvent.title, LiveEvent.starts_at)
        .join(LiveEvent, LiveEvent.id == Attendance.event_id)
        .where(Attendance.user_id == user.id)
        .order_by(LiveEvent.starts_at, Attendance.id)
    ).all()
    assessments = db.session.execute(
        select(SkillsAssessment, Course.slug)
        .join(Course, Course.id == SkillsAssessment.course_id)
        .where(SkillsAssessment.user_id == user.id)
        .order_by(SkillsAssessment.submitted_at, SkillsAssessment.id)
    ).all()
    feedback = db.session.execute(
        select(EventFeedback, LiveEvent.title)
        .join(LiveEvent, LiveEvent.id == EventFeedback.event_id)
        .where(EventFeedback.user_id == user.id)
        .order_by(EventFeedback.submitted_at, EventFeedback.id)
    ).all()
    return {
        "event_registrations": [
            {"event": title, "starts_at": starts_at, "registered_at": r.registered_at}
            for r, title, starts_at in registrations
        ],
        "attendance": [
            {
                "event": title,
                "starts_at": starts_at,
                "minutes": a.minutes,
                "recorded_name": a.name,
                "recorded_email": a.email,
                "recorded_company": a.company,
                "source": a.source,
                "recorded_at": a.recorded_at,
            }
            for a, title, starts_at in attendance
        ],
        "skills_self_assessments": [
            {
                "course": slug,
                "phase": a.phase,
                "answers": a.answers,
                "average": a.average,
                "submitted_at": a.submitted_at,
            }
            for a, slug in assessments
        ],
        "event_feedback": [
            {
                "event": title,
                "satisfaction": f.satisfaction,
                "comment": f.comment,
                "submitted_at": f.submitted_at,
            }
            for f, title in feedback
        ],
    }


def erase(sender: User, email: str | None = None, **kwargs: object) -> None:
    """`user-erased`: erase the copies of the name and email in attendance lists; the
    attendance itself (event, minutes, company) is kept, restricted, for the audit."""
    db.session.execute(
        update(Attendance).where(Attendance.user_id == sender.id).values(name="", email="")
    )
    if email:
        # Guest rows recorded under the person's address (walk-ins, imported lists).
        db.session.execute(
            update(Attendance)
            .where(
                Attendance.user_id.is_(None),
                func.lower(Attendance.email) == normalise_email(email),
            )
            .values(name=sender.name, email="")
        )
