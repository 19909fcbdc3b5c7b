"""The grant report: indicators computed from *contributions* that plugins give through the
`get-report-indicators` collector, so the core never imports a plugin.

The contribution interface (plugins write against this; it is stable)
=====================================================================

**Asking.** The engine sends ``lms.signals.get_report_indicators`` with ``sender=None`` and one
keyword argument, ``period`` (a :class:`Period`). A receiver returns one :class:`Source` or a
list of them (or None). It should ignore ``period`` unless it can use it to narrow its query
cheaply: **the engine filters every source by period itself** (on the ``at`` column), so a
receiver may simply describe *all* its facts.

**A Source is a description, not data.** ``Source.facts`` is a SQLAlchemy ``Select`` (not
executed by the receiver) that yields one row per *fact* with these labelled columns:

=============  ==========================================================================
column         meaning
=============  ==========================================================================
``at``         **required**: when the fact happened, a UTC timestamp column (the engine
               compares it with the period's UTC bounds; local-time months come from the
               bounds too, so the cluster's time zone is applied without SQL date functions)
``person_id``  the ``user.id`` of the person (NULL for facts that are not about a person)
``company_id`` the ``company.id`` the person worked for *at that moment* (a snapshot), or NULL
``course_id``  the course, or NULL
``event_id``   the event / live session, or NULL
``topic``      a curriculum topic key ("circular-economy", ...), or NULL
``delivery_mode`` "online" / "on-site" / "blended", or NULL
``hours``      a number (contact hours of this fact; e.g. a course's contact hours for one
               completion), or NULL
``ref``        a short text shown in drill-down rows (a certificate code, a course title), or NULL
=============  ==========================================================================

Use :func:`fact_columns` to label your columns and fill the missing ones with typed NULLs::

    from lms.reports import Source, fact_columns
    select(*fact_columns(at=Enrolment.completed_at, person_id=Enrolment.user_id, ...))
        .where(Enrolment.completed_at.is_not(None))

Keep the Select simple (joins and WHERE only; no GROUP BY, no LIMIT): the engine wraps it as a
subquery and does all counting, de-duplication and grouping **in SQL**, in one aggregate
statement for the whole report (`lms.reports.statement`), so the report stays fast with tens of
thousands of people. Write portable SQL (SQLite and PostgreSQL): no dialect-specific functions.

**Answer with the same Select each time** (build it once, e.g. in a ``functools.cache``d
function: it must not depend on the period or the request). The engine caches the statement it
builds from your Select by its identity; a new Select on every call still gives the right
figures but rebuilds the statement (milliseconds) for every report.

``Source.key`` names the source, namespaced by the plugin: ``"courses.completions"``,
``"certificates.issued"``, ``"certificates.revoked"``, ``"courses.event_attendance"``,
``"courses.improved_skills"``... Indicator *definitions* (see ``lms.reports.definitions``; the
cluster admin edits them) pick a source by key and a *measure* that says how to count it:

* ``people``    – unique ``person_id`` (each person once, however many facts);
                  split by gender, age band, company size class, start-up, month;
* ``companies`` – unique ``company_id``; split SME / not SME, by size class, start-up, month;
* ``courses``   – unique ``course_id``; by topic, delivery mode, month;
* ``events``    – unique ``event_id``; by topic, delivery mode, month;
* ``count``     – number of facts; by topic, delivery mode, month;
* ``hours``     – sum of ``hours``; by topic, delivery mode, month.

A definition may restrict which courses or events count (lists of ids): the engine applies
that filter on ``course_id`` / ``event_id``. A source that no receiver answers makes its
indicators show 0 with "no contributions yet".

**Anonymous sources.** Set ``Source.anonymous = True`` when the facts must never be listed
person by person (the skills self-assessment): the engine still counts unique ``person_id``
values (give a stable pseudonymous key if you have no user id) but drill-down shows no names.

**Evidence files.** The evidence pack ZIP for monitoring visits is filled from a second
collector, ``lms.signals.get_evidence_files`` (sender None, kwarg ``period``): return
:class:`EvidenceFile` objects (a file name inside the ZIP and a callable that produces its
bytes; it is only called when the pack is built), e.g. the certificate register CSV or the
attendance sheets of the period's events.

Receivers stay thin, run no writes and never commit (see ``lms.signals``).

Counting rules the engine applies (DOMAIN.md, EEA and Norway Grants core indicators): a person
or a company is counted once per indicator and period; for the splits, a person or company is
placed by their *first* qualifying fact in the period (its month for the trend, its company for
size class and start-up). A company's size class is that of the figures of its latest
approved accounting year before that first fact (Recommendation 2003/361/EC, annex art. 4:
"the data ... relating to the latest approved accounting period"), i.e. the figures of the
year before; if none is that old, the oldest figures declared. Periods are local dates in the
cluster's time zone (``REPORT_TIME_ZONE``, Europe/Sofia): a completion at 23:30 UTC on 31 March
is on 1 April in Sofia and counts in April.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Integer, Numeric, String, literal, null
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

__all__ = [
    "FACT_COLUMNS",
    "MEASURES",
    "EvidenceFile",
    "Period",
    "Source",
    "fact_columns",
]

#: The labelled columns of a source's facts, with their SQL types (for typed NULLs).
FACT_COLUMNS: dict[str, object] = {
    "at": DateTime(timezone=True),
    "person_id": Integer(),
    "company_id": Integer(),
    "course_id": Integer(),
    "event_id": Integer(),
    "topic": String(40),
    "delivery_mode": String(10),
    "hours": Numeric(10, 2),
    "ref": String(200),
}

MEASURES = ("people", "companies", "courses", "events", "count", "hours")


def fact_columns(**columns: ColumnElement | object) -> list[ColumnElement]:
    """The columns of a fact Select in the engine's order: the given ones labelled, the others
    typed NULLs. `at` is required; unknown names are an error (a typo would silently count 0)."""
    unknown = set(columns) - set(FACT_COLUMNS)
    if unknown:
        raise ValueError(f"unknown fact columns: {', '.join(sorted(unknown))}")
    if "at" not in columns:
        raise ValueError("a fact needs an `at` column")
    result = []
    for name, type_ in FACT_COLUMNS.items():
        value = columns.get(name)
        if value is None:
            result.append(null().cast(type_).label(name))  # type: ignore[arg-type]
        elif isinstance(value, ColumnElement) or hasattr(value, "__clause_element__"):
            result.append(value.label(name))  # type: ignore[union-attr]
        else:
            result.append(literal(value, type_).label(name))  # type: ignore[arg-type]
    return result


@dataclass(frozen=True)
class Source:
    """One named source of facts a plugin contributes (see the module documentation)."""

    key: str
    facts: Select
    #: Shown in the definitions editor next to the key.
    label: str = ""
    #: Never list the people behind this source (counted only).
    anonymous: bool = False


@dataclass(frozen=True)
class EvidenceFile:
    """A file for the evidence pack: `name` inside the ZIP (folders allowed, e.g.
    "attendance/2025-03-14-webinar.pdf") and `content()` producing its bytes on demand."""

    name: str
    content: Callable[[], bytes]
    description: str = ""


@dataclass(frozen=True)
class Period:
    """A reporting period of local dates in the cluster's time zone, both ends included.

    ``start``/``end`` are the UTC instants bounding it (``start`` included, ``end`` excluded);
    None on a side means open (cumulative reports start at the project start, so ``start`` is
    normally set). ``first_day``/``last_day`` are the local dates."""

    first_day: date | None
    last_day: date | None
    time_zone: str = "Europe/Sofia"
    cumulative: bool = False
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local_midnight(self, day: date) -> datetime:
        """The UTC instant of local midnight at the start of `day`."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def start(self) -> datetime | None:
        return None if self.first_day is None else self.local_midnight(self.first_day)

    @property
    def end(self) -> datetime | None:
        if self.last_day is None:
            return None
        return self.local_midnight(self.last_day + timedelta(days=1))

    def contains(self, at: datetime) -> bool:
        start, end = self.start, self.end
        return (start is None or at >= start) and (end is None or at < end)

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def label(self) -> str:
        first = self.first_day.isoformat() if self.first_day else "…"
        last = self.last_day.isoformat() if self.last_day else "…"
        return f"{first} – {last}"
