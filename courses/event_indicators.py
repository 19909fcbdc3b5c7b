"""The grant report's sources about live events and the skills self-assessment (answers the
`get-report-indicators` collector; see `lms.reports` for the contribution interface).

* ``courses.event_attendance`` – one fact per person present at a standalone (awareness)
  event that was not cancelled, at the event's start. Guests without an account count too,
  under a stable pseudonymous key (the negative id of their first attendance record with the
  same email), so a guest at two webinars is one person. Course sessions are left out: their
  participants are trainees, reported through completions (DOMAIN.md indicator 3 vs 2).
* ``courses.session_hours`` – one fact per person present at a session of a course, with the
  hours attended (the minutes recorded, or the whole session), by the event's topic and
  delivery mode: training hours delivered in live sessions (contact hours × participants).
* ``courses.improved_skills`` – anonymous: one fact per person and course whose "after"
  self-assessment average is higher than the "before" one; the engine counts each person once.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Float, and_, cast, func, select
from sqlalchemy.orm import aliased

from courses.models import (
    Attendance,
    Course,
    Enrolment,
    EventStatus,
    LiveEvent,
    SkillsAssessment,
)
from lms.exports import csv_bytes, safe_filename
from lms.extensions import db
from lms.models import utcnow
from lms.reports import EvidenceFile, Source, fact_columns


def _person_key() -> Any:
    """The user's id, or for a guest a negative key shared by their records with one email."""
    first = aliased(Attendance)
    same_guest = (
        select(func.min(first.id))
        .where(
            first.user_id.is_(None),
            first.email != "",
            func.lower(first.email) == func.lower(Attendance.email),
        )
        .scalar_subquery()
    )
    return func.coalesce(Attendance.user_id, -func.coalesce(same_guest, Attendance.id))


def _hours() -> Any:
    minutes = func.coalesce(Attendance.minutes, LiveEvent.duration_minutes)
    return cast(minutes, Float) / 60


def _attendance_facts(sessions: bool) -> Any:
    course_filter = LiveEvent.course_id.is_not(None) if sessions else LiveEvent.course_id.is_(None)
    return (
        select(
            *fact_columns(
                at=LiveEvent.starts_at,
                person_id=_person_key(),
                company_id=Attendance.company_id,
                course_id=LiveEvent.course_id,
                event_id=LiveEvent.id,
                topic=LiveEvent.topic,
                delivery_mode=LiveEvent.delivery_mode,
                hours=_hours(),
                ref=LiveEvent.title,
            )
        )
        .select_from(Attendance)
        .join(LiveEvent, LiveEvent.id == Attendance.event_id)
        .where(LiveEvent.status == EventStatus.SCHEDULED, course_filter)
    )


def _improved_skills() -> Any:
    before = aliased(SkillsAssessment)
    after = aliased(SkillsAssessment)
    return (
        select(
            *fact_columns(
                at=after.submitted_at,
                person_id=after.user_id,
                company_id=Enrolment.company_id,
                course_id=after.course_id,
                topic=Course.topic,
                delivery_mode=Course.delivery_mode,
            )
        )
        .select_from(after)
        .join(
            before,
            and_(
                before.user_id == after.user_id,
                before.course_id == after.course_id,
                before.phase == "before",
            ),
        )
        .join(Course, Course.id == after.course_id)
        .outerjoin(
            Enrolment,
            and_(Enrolment.user_id == after.user_id, Enrolment.course_id == after.course_id),
        )
        .where(after.phase == "after", after.average > before.average)
    )


@cache
def _sources() -> tuple[Source, ...]:
    """Built once per process (the Selects do not depend on the period or the app): the
    engine caches its statements by the identity of these Selects."""
    return (
        Source(
            "courses.event_attendance",
            _attendance_facts(sessions=False),
            "Participants in awareness events (standalone events)",
        ),
        Source(
            "courses.session_hours",
            _attendance_facts(sessions=True),
            "Hours attended in live sessions of courses",
        ),
        Source(
            "courses.improved_skills",
            _improved_skills(),
            "Employees with improved skills (self-assessment, anonymous)",
            anonymous=True,
        ),
    )


def report_sources(sender: Any = None, **kwargs: Any) -> list[Source]:
    """`get-report-indicators`: this module's sources (the engine filters by period)."""
    return list(_sources())


def evidence_files(sender: Any = None, *, period: Any = None, **kwargs: Any) -> list[EvidenceFile]:
    """`get-evidence-files`: the attendance sheet (PDF, with the names of those present or
    registered) and the attendance list (CSV) of every event of the period that took place."""
    query = select(LiveEvent).where(
        LiveEvent.status == EventStatus.SCHEDULED, LiveEvent.starts_at <= utcnow()
    )
    if period is not None and period.start is not None:
        query = query.where(LiveEvent.starts_at >= period.start)
    if period is not None and period.end is not None:
        query = query.where(LiveEvent.starts_at < period.end)
    files: list[EvidenceFile] = []
    for event in db.session.scalars(query.order_by(LiveEvent.starts_at, LiveEvent.id)):
        stem = safe_filename(f"{event.starts_at:%Y-%m-%d}-{event.id}-{event.title[:60]}", "x")[:-2]

        def sheet(event_id: int = event.id) -> bytes:
            from courses.views.events import attendance_sheet_pdf

            return attendance_sheet_pdf(db.session.get(LiveEvent, event_id))

        def table(event_id: int = event.id) -> bytes:
            from courses.events import attendance_table

            return csv_bytes(*attendance_table(db.session.get(LiveEvent, event_id)))

        files.append(EvidenceFile(f"attendance/{stem}.pdf", sheet, "Attendance sheet"))
        files.append(EvidenceFile(f"attendance/{stem}.csv", table, "Attendance list"))
    return files
