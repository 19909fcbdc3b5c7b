"""Report services: periods from user input, live and frozen reports, snapshots, definitions.
Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms import sme
from lms.extensions import db
from lms.models import User
from lms.reports import MEASURES, Period
from lms.reports.definitions import Definition, ensure_saved, load_definitions
from lms.reports.engine import Report, ReportEngine, RowTable, make_period
from lms.reports.models import IndicatorDefinition, ReportSnapshot

PRESETS = ("quarter", "last6", "cumulative")
DATE_COLUMNS = frozenset({"first_date", "date"})


class ReportError(Exception):
    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def today_local() -> date:
    zone = current_app.config.get("REPORT_TIME_ZONE", "Europe/Sofia")
    return Period(None, None, zone).local_date(datetime.now(UTC))


def preset_period(preset: str, today: date | None = None) -> Period:
    today = today or today_local()
    if preset == "cumulative":
        return make_period(None, today, cumulative=True)
    if preset == "last6":
        return make_period(sme.add_months(today, -6) + timedelta(days=1), today)
    # This quarter, from its first day to its last.
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return make_period(first, sme.add_months(first, 3) - timedelta(days=1))


def _parse_day(raw: str | None, field: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ReportError(
            _l("Enter the date as YYYY-MM-DD, for example 2025-03-31."), field
        ) from None
    if not date(2000, 1, 1) <= day <= date(2100, 12, 31):
        raise ReportError(_l("Enter a date between the years 2000 and 2100."), field)
    return day


def period_from_args(args: Any) -> Period:
    """The period a request asks for: a preset, or from/to dates (either may be left empty:
    the project start and today). Raises ReportError for bad input."""
    preset = (args.get("preset") or "").strip()
    first = _parse_day(args.get("from"), "from")
    last = _parse_day(args.get("to"), "to")
    if preset and preset not in PRESETS:
        raise ReportError(_l("Choose one of the offered periods."), "preset")
    if preset and first is None and last is None:
        return preset_period(preset)
    if first is None and last is None:
        return preset_period("quarter")
    if first and last and first > last:
        raise ReportError(_l("The start of the period must not be after its end."), "to")
    return make_period(first, last, cumulative=first is None)


def period_args(period: Period) -> dict[str, str]:
    """Query arguments that select the same period again."""
    assert period.first_day and period.last_day
    return {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}


# --- live and frozen reports ---------------------------------------------------------------


class LiveReport:
    """A report computed now from the database."""

    frozen = False
    snapshot: ReportSnapshot | None = None

    def __init__(
        self, period: Period, engine: ReportEngine | None = None, report: Report | None = None
    ) -> None:
        self.engine = engine or ReportEngine(period)
        self.report: Report = report or self.engine.compute()
        self._definitions = {d.key: d for d in self.engine.definitions}

    def definition(self, key: str) -> Definition | None:
        return self._definitions.get(key)

    def rows(self, key: str, split: str | None = None, value: str | None = None) -> RowTable:
        definition = self._definitions[key]
        return self.engine.rows(definition, split, value)


class FrozenReport:
    """A submitted snapshot: figures and rows exactly as frozen."""

    frozen = True

    def __init__(self, snapshot: ReportSnapshot) -> None:
        self.snapshot = snapshot
        self.report = Report.from_dict(snapshot.data["report"])

    def rows(self, key: str, split: str | None = None, value: str | None = None) -> RowTable:
        stored = self.snapshot.data.get("rows", {}).get(key, {"columns": [], "rows": []})
        columns = tuple(stored["columns"])
        dates = [i for i, c in enumerate(columns) if c in DATE_COLUMNS]
        rows = []
        for row in stored["rows"]:
            row = list(row)
            for i in dates:
                if isinstance(row[i], str):
                    row[i] = date.fromisoformat(row[i])
            rows.append(tuple(row))
        return RowTable(columns, rows)


#: Row columns that name a person: never stored in a frozen snapshot.
PERSONAL_COLUMNS = frozenset({"person", "email"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def freeze(live: LiveReport, user: User, note: str) -> ReportSnapshot:
    """Freeze a live report as a submitted snapshot (figures, splits and every row)."""
    note = (note or "").strip()
    if len(note) > 2000:
        raise ReportError(_l("The note may have at most 2000 characters."), "note")
    rows: dict[str, Any] = {}
    for indicator in live.report.indicators:
        table = live.rows(indicator.key)
        # Snapshots are anonymous (DOMAIN.md, privacy): people's names and emails are not
        # stored; companies, dates and references are, so the figures stay traceable.
        personal = [i for i, column in enumerate(table.columns) if column in PERSONAL_COLUMNS]
        rows[indicator.key] = {
            "columns": list(table.columns),
            "rows": [
                [None if i in personal else _jsonable(v) for i, v in enumerate(row)]
                for row in table.rows
            ],
        }
    report = live.report
    snapshot = ReportSnapshot(
        first_day=report.first_day,
        last_day=report.last_day,
        cumulative=report.cumulative,
        data={"report": report.to_dict(), "rows": rows},
        note=note,
        frozen_by_id=user.id,
        frozen_by_name=user.name,
    )
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def snapshots() -> list[ReportSnapshot]:
    return list(db.session.scalars(select(ReportSnapshot).order_by(ReportSnapshot.id.desc())))


# --- definitions ---------------------------------------------------------------------------


@dataclass
class DefinitionData:
    name_en: str
    name_bg: str
    target: str
    enabled: bool
    sources: str
    measure: str
    course_ids: str
    event_ids: str
    min_hours: str


def _ids(raw: str, field: str) -> list[int]:
    values = [p.strip() for p in (raw or "").replace(";", ",").split(",") if p.strip()]
    if not all(v.isascii() and v.isdigit() and len(v) < 10 for v in values):  # not "²"
        raise ReportError(_l("List numbers separated by commas, for example 3, 7, 12."), field)
    return sorted({int(v) for v in values})


def _decimal(raw: str, field: str) -> Decimal | None:
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ReportError(_l("Enter a number, for example 120 or 7.5."), field) from None
    if not value.is_finite() or value < 0 or value >= Decimal("100000000000"):
        raise ReportError(_l("Enter a number of zero or more."), field)
    return value


def update_definition(key: str, data: DefinitionData) -> IndicatorDefinition:
    """Change one indicator definition (the defaults are saved first). Flushes."""
    rows = {r.key: r for r in ensure_saved()}
    row = rows.get(key)
    if row is None:
        raise LookupError(key)
    name_en, name_bg = data.name_en.strip(), data.name_bg.strip()
    if not name_en or len(name_en) > 200:
        raise ReportError(_l("Give the indicator a name of at most 200 characters."), "name_en")
    if len(name_bg) > 200:
        raise ReportError(_l("Give the indicator a name of at most 200 characters."), "name_bg")
    sources = ",".join(s.strip() for s in data.sources.split(",") if s.strip())
    if not sources or len(sources) > 300 or any(c.isspace() for c in sources):
        raise ReportError(
            _l("Name at least one source, for example courses.completions."), "sources"
        )
    if data.measure not in MEASURES:
        raise ReportError(_l("Choose how the indicator counts."), "measure")
    row.name_en, row.name_bg = name_en, name_bg
    row.target = _decimal(data.target, "target")
    row.min_hours = _decimal(data.min_hours, "min_hours")
    row.enabled = bool(data.enabled)
    row.sources = sources
    row.measure = data.measure
    row.course_ids = _ids(data.course_ids, "course_ids")
    row.event_ids = _ids(data.event_ids, "event_ids")
    db.session.flush()
    return row


def definitions_for_editing() -> list[Definition]:
    return load_definitions(include_disabled=True)
