"""The courses plugin's contributions to the grant report (see `lms.reports`).

``courses.completions``: one fact per completed enrolment, at its completion, with the company
recorded at enrolment and the course's contact hours. It answers indicators 1, 2, 4 and 7:
courses delivered (distinct courses: a course is delivered in a period when at least one
participant completed all of it; the definition's minimum hours, e.g. 8, demands "more than one
day" of contact time), participants who completed, enterprises supported, and training hours
(contact hours x participants).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql import Select

from courses.models import Course, Enrolment
from lms.reports import Source, fact_columns


@cache
def _completions() -> Select:
    """Built once per process: the engine caches its statements by the identity of this
    Select, so answering with the same object each time lets it reuse them."""
    return (
        select(
            *fact_columns(
                at=Enrolment.completed_at,
                person_id=Enrolment.user_id,
                company_id=Enrolment.company_id,
                course_id=Enrolment.course_id,
                topic=Course.topic,
                delivery_mode=Course.delivery_mode,
                hours=Course.contact_hours,
                ref=Course.title,
            )
        )
        # `+ 0`: SQLite would otherwise read the enrolments course by course through the
        # course_id index (a random row access each); this way it scans them once.
        .join(Course, Course.id == Enrolment.course_id + 0)
        .where(Enrolment.completed_at.is_not(None))
    )


def report_sources(sender: Any = None, **kwargs: Any) -> list[Source]:
    """Receiver of `get-report-indicators`."""
    return [Source("courses.completions", _completions(), "Course completions")]
