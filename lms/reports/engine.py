"""Computes the report: asks the plugins for their sources, then counts each indicator with
one or two aggregate SQL statements (see the interface in `lms.reports`)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, case, func, literal, select, union_all

from lms import sme
from lms.extensions import db
from lms.models import AGE_BANDS, GENDERS, Company, CompanyFigures, User
from lms.reports import Period, Source
from lms.reports.definitions import Definition, load_definitions
from lms.signals import collect, get_report_indicators

NOT_STATED = "not_stated"
NO_COMPANY = "no_company"
UNKNOWN = "unknown"
#: Splits shown for each measure, besides the trend by month.
SPLITS: dict[str, tuple[str, ...]] = {
    "people": ("gender", "age_band", "size_class", "startup"),
    "companies": ("sme", "size_class", "startup"),
    "courses": ("topic", "delivery_mode"),
    "events": ("topic", "delivery_mode"),
    "count": ("topic", "delivery_mode"),
    "hours": ("topic", "delivery_mode"),
}
SIZE_ORDER = (*[str(s) for s in sme.SizeClass], UNKNOWN, NO_COMPANY)
#: The fixed order of known values, so tables and charts do not jump around.
VALUE_ORDER: dict[str, tuple[str, ...]] = {
    "gender": (*GENDERS, NOT_STATED),
    "age_band": (*AGE_BANDS, NOT_STATED),
    "size_class": SIZE_ORDER,
    "startup": ("startup", "not_startup", NO_COMPANY),
    "sme": ("sme", "not_sme", UNKNOWN),
}


def make_period(
    first_day: date | None, last_day: date | None, *, cumulative: bool = False
) -> Period:
    """A period in the configured zone; open ends become the project start and today."""
    config = current_app.config
    zone = config.get("REPORT_TIME_ZONE", "Europe/Sofia")
    start = date.fromisoformat(str(config.get("REPORT_PROJECT_START", "2024-01-01")))
    probe = Period(None, None, zone)
    today = probe.local_date(datetime.now(UTC))
    if cumulative or first_day is None:
        first_day = start
    if last_day is None:
        last_day = max(today, first_day)
    return Period(first_day, last_day, zone, cumulative=cumulative)


def _months(period: Period) -> list[date]:
    """First days of the local months the period touches."""
    assert period.first_day and period.last_day
    months = []
    current = period.first_day.replace(day=1)
    while current <= period.last_day:
        months.append(current)
        current = sme.add_months(current, 1)
    return months


def _number(value: Any) -> int | float:
    if value is None:
        return 0
    if isinstance(value, Decimal | float):
        rounded = round(float(value), 1)
        return int(rounded) if rounded == int(rounded) else rounded
    return int(value)


@dataclass
class IndicatorResult:
    key: str
    position: int
    name_en: str
    name_bg: str
    measure: str
    target: float | None
    value: int | float
    contributed: bool
    anonymous: bool = False
    splits: dict[str, dict[str, int | float]] = field(default_factory=dict)
    months: list[tuple[str, int | float]] = field(default_factory=list)

    def name(self, language: str) -> str:
        return self.name_bg if language == "bg" and self.name_bg else self.name_en

    @property
    def progress(self) -> int | None:
        """Achieved as a percentage of the target (capped at 100 for the bar)."""
        if not self.target:
            return None
        return min(100, round(100 * float(self.value) / float(self.target)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "position": self.position,
            "name_en": self.name_en,
            "name_bg": self.name_bg,
            "measure": self.measure,
            "target": self.target,
            "value": self.value,
            "contributed": self.contributed,
            "anonymous": self.anonymous,
            "splits": self.splits,
            "months": [list(m) for m in self.months],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndicatorResult:
        return cls(
            **{k: v for k, v in data.items() if k != "months"},
            months=[(m[0], m[1]) for m in data.get("months", [])],
        )


@dataclass
class Report:
    first_day: date
    last_day: date
    cumulative: bool
    time_zone: str
    generated_at: datetime
    indicators: list[IndicatorResult]

    @property
    def period(self) -> Period:
        return Period(self.first_day, self.last_day, self.time_zone, cumulative=self.cumulative)

    def indicator(self, key: str) -> IndicatorResult | None:
        return next((i for i in self.indicators if i.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "cumulative": self.cumulative,
            "time_zone": self.time_zone,
            "generated_at": self.generated_at.isoformat(),
            "indicators": [i.to_dict() for i in self.indicators],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            first_day=date.fromisoformat(data["first_day"]),
            last_day=date.fromisoformat(data["last_day"]),
            cumulative=bool(data.get("cumulative")),
            time_zone=data.get("time_zone", "Europe/Sofia"),
            generated_at=datetime.fromisoformat(data["generated_at"]),
            indicators=[IndicatorResult.from_dict(i) for i in data["indicators"]],
        )


@dataclass(frozen=True)
class RowTable:
    """The rows behind a figure: column keys and tuples (values in column order)."""

    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]] | Iterator[tuple[Any, ...]]


PEOPLE_COLUMNS = ("person", "email", "company", "uic", "first_date", "reference")
COMPANY_COLUMNS = ("company", "uic", "size_class", "sme", "startup", "first_date", "people")
COURSE_COLUMNS = ("course_id", "reference", "topic", "delivery_mode", "first_date", "facts")
FACT_COLUMNS_OUT = (
    "date",
    "person",
    "company",
    "uic",
    "reference",
    "topic",
    "delivery_mode",
    "hours",
)
ANONYMOUS_COLUMNS = ("first_date",)


class ReportEngine:
    """One computation: the sources are collected once, company data loaded once."""

    def __init__(self, period: Period, definitions: list[Definition] | None = None) -> None:
        self.period = period
        self.definitions = definitions if definitions is not None else load_definitions()
        self.sources: dict[str, list[Source]] = defaultdict(list)
        for source in collect(get_report_indicators, None, period=period):
            if isinstance(source, Source):
                self.sources[source.key].append(source)
        self.month_starts = _months(period)
        self._month_bounds = [period.local_midnight(m) for m in self.month_starts[1:]]
        self._companies: dict[int, tuple[date | None, bool, list[tuple]]] | None = None
        self._company_first: dict[tuple, dict[int, tuple[datetime, int]]] = {}
        self._classes: dict[tuple[int | None, datetime], tuple[str, str, str]] = {}
        self._facts: dict[tuple, Any] = {}
        self._details: dict[tuple, list] = {}
        self._size_by_year: dict[tuple[int, int], sme.SizeClass] = {}
        self._zone = period.zone
        config = current_app.config
        self._startup_months = (
            int(config.get("STARTUP_MIN_MONTHS", 0)),
            int(config.get("STARTUP_MAX_MONTHS", 60)),
        )

    # --- facts -------------------------------------------------------------------------

    def contributed(self, definition: Definition) -> bool:
        return any(self.sources.get(key) for key in definition.sources)

    def anonymous(self, definition: Definition) -> bool:
        return any(s.anonymous for key in definition.sources for s in self.sources.get(key, ()))

    def facts(self, definition: Definition):  # noqa: ANN201 - a Subquery
        """The definition's facts in the period as a subquery (None without contributions);
        built once per set of sources and filters (building statements costs time too)."""
        key = _fact_set(definition)
        if key not in self._facts:
            self._facts[key] = self._build_facts(definition)
        return self._facts[key]

    def _build_facts(self, definition: Definition):  # noqa: ANN202
        selects: list[Select] = [
            s.facts for key in definition.sources for s in self.sources.get(key, ())
        ]
        if not selects:
            return None
        raw = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("raw")
        conditions: list[ColumnElement[bool]] = []
        if self.period.start is not None:
            conditions.append(raw.c.at >= self.period.start)
        if self.period.end is not None:
            conditions.append(raw.c.at < self.period.end)
        if definition.course_ids:
            conditions.append(raw.c.course_id.in_(definition.course_ids))
        if definition.event_ids:
            conditions.append(raw.c.event_id.in_(definition.event_ids))
        if definition.min_hours is not None:
            conditions.append(raw.c.hours >= definition.min_hours)
        return select(raw).where(*conditions).subquery("f")

    def month_index(self, column: ColumnElement) -> ColumnElement:
        """The local month of a UTC timestamp as an index into `month_starts`, in portable SQL
        (a CASE over the months' UTC bounds: no date functions, time zone already applied)."""
        if not self._month_bounds:
            return literal(0)
        return case(
            *[(column < bound, index) for index, bound in enumerate(self._month_bounds)],
            else_=len(self._month_bounds),
        )

    def month_of(self, at: datetime) -> int:
        return bisect.bisect_right(self._month_bounds, at)

    # --- companies ---------------------------------------------------------------------

    def _load_companies(self) -> dict[int, tuple[date | None, bool, list[tuple]]]:
        if self._companies is None:
            companies: dict[int, tuple[date | None, bool, list[tuple]]] = {
                cid: (registered, bool(listed), [])
                for cid, registered, listed in _run(
                    select(Company.id, Company.registered_on, Company.is_listed)
                )
            }
            for row in _run(
                select(
                    CompanyFigures.company_id,
                    CompanyFigures.reference_year,
                    CompanyFigures.headcount,
                    CompanyFigures.turnover_eur,
                    CompanyFigures.balance_sheet_eur,
                ).order_by(CompanyFigures.company_id, CompanyFigures.reference_year)
            ):
                if row[0] in companies:
                    companies[row[0]][2].append(tuple(row[1:]))
            self._companies = companies
        return self._companies

    def classify(self, company_id: int | None, at: datetime) -> tuple[str, str, str]:
        """(size class, SME, start-up) of a company when it was supported at `at`: from the
        figures of the latest accounting year before that year (2003/361/EC annex art. 4)."""
        if company_id is None:
            return NO_COMPANY, UNKNOWN, NO_COMPANY
        known = self._classes.get((company_id, at))
        if known is None:
            known = self._classes[(company_id, at)] = self._classify(company_id, at)
        return known

    def _classify(self, company_id: int, at: datetime) -> tuple[str, str, str]:
        registered, listed, figures = self._load_companies().get(company_id, (None, False, []))
        if not figures:
            return UNKNOWN, UNKNOWN, "not_startup"
        on = at.astimezone(self._zone).date()
        klass = self._size_by_year.get((company_id, on.year))
        if klass is None:
            chosen = figures[0]  # oldest, when none is older than the year of support
            for row in figures:  # oldest first
                if row[0] <= on.year - 1:
                    chosen = row
            klass = sme.size_class(chosen[1], chosen[2], chosen[3])
            self._size_by_year[(company_id, on.year)] = klass
        startup = sme.is_startup(registered, klass, listed, on, *self._startup_months)
        return (
            klass.value,
            "not_sme" if klass is sme.SizeClass.LARGE else "sme",
            "startup" if startup else "not_startup",
        )

    def company_first(self, definition: Definition) -> dict[int, tuple[datetime, int]]:
        """company id -> (first qualifying fact, number of unique people) in the period."""
        key = _fact_set(definition)
        if key not in self._company_first:
            f = self.facts(definition)
            result: dict[int, tuple[datetime, int]] = {}
            if f is not None:
                company = _unordered(f.c.company_id)
                query = (
                    select(company, func.min(f.c.at), func.count(f.c.person_id.distinct()))
                    .where(f.c.company_id.is_not(None))
                    .group_by(company)
                )
                result = {cid: (first, people) for cid, first, people in _run(query)}
            self._company_first[key] = result
        return self._company_first[key]

    def company_classes(self, definition: Definition) -> dict[int, tuple[str, str, str]]:
        return {
            cid: self.classify(cid, first)
            for cid, (first, _people) in self.company_first(definition).items()
        }

    # --- indicators --------------------------------------------------------------------

    def compute(self) -> Report:
        indicators = [self.indicator(d) for d in self.definitions if d.enabled]
        assert self.period.first_day and self.period.last_day
        return Report(
            first_day=self.period.first_day,
            last_day=self.period.last_day,
            cumulative=self.period.cumulative,
            time_zone=self.period.time_zone,
            generated_at=datetime.now(UTC),
            indicators=indicators,
        )

    def indicator(self, definition: Definition) -> IndicatorResult:
        result = IndicatorResult(
            key=definition.key,
            position=definition.position,
            name_en=definition.name_en,
            name_bg=definition.name_bg,
            measure=definition.measure,
            target=None if definition.target is None else _number(definition.target),
            value=0,
            contributed=self.contributed(definition),
            anonymous=self.anonymous(definition),
        )
        months: list[int | float] = [0] * len(self.month_starts)
        splits: dict[str, dict[str, int | float]] = {
            name: {} for name in SPLITS[definition.measure]
        }
        if result.anonymous:
            splits = {}
        f = self.facts(definition) if result.contributed else None
        if f is not None:
            measure = definition.measure
            if measure == "people":
                self._people(definition, f, months, splits, result.anonymous)
            elif measure == "companies":
                self._companies_measure(definition, months, splits)
            elif measure in ("courses", "events"):
                self._distinct(definition, f, measure, months, splits)
            else:
                self._facts_measure(definition, f, measure, months, splits)
        result.value = _number(sum(months))
        result.months = [
            (m.strftime("%Y-%m"), _number(v))
            for m, v in zip(self.month_starts, months, strict=True)
        ]
        result.splits = {name: _ordered(name, values) for name, values in splits.items()}
        return result

    def _people(self, definition, f, months, splits, anonymous) -> None:  # noqa: ANN001
        ranked = self._ranked(f)
        month = self.month_index(ranked.c.at)
        if anonymous:
            query = select(month, func.count()).where(ranked.c.rn == 1).group_by(month)
            for index, count in _run(query):
                months[index] += count
            return
        query = (
            select(User.gender, User.age_band, ranked.c.company_id, month, func.count())
            .select_from(ranked)
            .outerjoin(User, User.id == ranked.c.person_id)
            .where(ranked.c.rn == 1)
            .group_by(User.gender, User.age_band, ranked.c.company_id, month)
        )
        classes = self.company_classes(definition)
        genders, ages = splits["gender"], splits["age_band"]
        sizes, startups = splits["size_class"], splits["startup"]
        no_company = (NO_COMPANY, UNKNOWN, NO_COMPANY)
        for gender, age_band, company_id, index, count in _run(query):
            months[index] += count
            gender = gender or NOT_STATED
            genders[gender] = genders.get(gender, 0) + count
            age_band = age_band or NOT_STATED
            ages[age_band] = ages.get(age_band, 0) + count
            size, _sme, startup = classes.get(company_id, no_company)
            sizes[size] = sizes.get(size, 0) + count
            startups[startup] = startups.get(startup, 0) + count

    def _ranked(self, f):  # noqa: ANN001, ANN202
        """Each person's facts numbered by time: rn = 1 is their first in the period."""
        rn = (
            func.row_number()
            .over(partition_by=_unordered(f.c.person_id), order_by=(f.c.at, f.c.company_id))
            .label("rn")
        )
        return (
            select(f.c.person_id, f.c.company_id, f.c.at, f.c.ref, rn)
            .where(f.c.person_id.is_not(None))
            .subquery("ranked")
        )

    def _companies_measure(self, definition, months, splits) -> None:  # noqa: ANN001
        for cid, (first, _people) in self.company_first(definition).items():
            months[self.month_of(first)] += 1
            size, is_sme, startup = self.classify(cid, first)
            _add(splits["size_class"], size, 1)
            _add(splits["sme"], is_sme, 1)
            _add(splits["startup"], startup, 1)

    def _detail(self, definition: Definition, f) -> list:  # noqa: ANN001
        """One aggregate per set of facts, by course, event, topic, delivery mode and month:
        the courses, events, count and hours measures all read it (one scan, ~100s of rows)."""
        key = _fact_set(definition)
        if key not in self._details:
            month = self.month_index(f.c.at)
            course, event = _unordered(f.c.course_id), _unordered(f.c.event_id)
            keys = (course, event, f.c.topic, f.c.delivery_mode, month)
            query = select(*keys, func.min(f.c.at), func.count(), func.sum(f.c.hours)).group_by(
                *keys
            )
            self._details[key] = _run(query).all()
        return self._details[key]

    def _distinct(self, definition, f, measure, months, splits) -> None:  # noqa: ANN001
        position = 0 if measure == "courses" else 1
        first: dict[int, tuple[datetime, str | None, str | None]] = {}
        for row in self._detail(definition, f):
            item = row[position]
            if item is None:
                continue
            known = first.get(item)
            if known is None or row[5] < known[0]:
                first[item] = (row[5], row[2], row[3])
        for at, topic, mode in first.values():
            months[self.month_of(at)] += 1
            _add(splits["topic"], topic or UNKNOWN, 1)
            _add(splits["delivery_mode"], mode or UNKNOWN, 1)

    def _facts_measure(self, definition, f, measure, months, splits) -> None:  # noqa: ANN001
        column = 6 if measure == "count" else 7
        for row in self._detail(definition, f):
            amount = row[column] or 0
            months[row[4]] += amount
            _add(splits["topic"], row[2] or UNKNOWN, amount)
            _add(splits["delivery_mode"], row[3] or UNKNOWN, amount)

    # --- rows behind the figures -------------------------------------------------------

    def rows(
        self, definition: Definition, split: str | None = None, value: str | None = None
    ) -> RowTable:
        """The people, companies, courses or facts behind a figure (optionally one split's
        value, e.g. split="gender", value="female", or split="month", value="2025-04")."""
        measure = definition.measure
        f = self.facts(definition) if self.contributed(definition) else None
        if self.anonymous(definition):
            return RowTable(ANONYMOUS_COLUMNS, self._anonymous_rows(f, split, value))
        if measure == "people":
            return RowTable(PEOPLE_COLUMNS, self._people_rows(definition, f, split, value))
        if measure == "companies":
            return RowTable(COMPANY_COLUMNS, self._company_rows(definition, split, value))
        if measure in ("courses", "events"):
            return RowTable(COURSE_COLUMNS, self._course_rows(f, measure, split, value))
        return RowTable(FACT_COLUMNS_OUT, self._fact_rows(f, split, value))

    def _month_filter(self, column: ColumnElement, value: str | None) -> ColumnElement[bool]:
        labels = [m.strftime("%Y-%m") for m in self.month_starts]
        if value not in labels:
            return literal(False)
        return self.month_index(column) == labels.index(value)

    def _anonymous_rows(self, f, split, value) -> list[tuple]:  # noqa: ANN001
        if f is None:
            return []
        ranked = self._ranked(f)
        query = select(ranked.c.at).where(ranked.c.rn == 1).order_by(ranked.c.at)
        if split == "month":
            query = query.where(self._month_filter(ranked.c.at, value))
        return [(self.period.local_date(at),) for (at,) in _run(query)]

    def _people_rows(self, definition, f, split, value) -> list[tuple]:  # noqa: ANN001
        if f is None:
            return []
        ranked = self._ranked(f)
        hidden = _hidden_user_condition()
        query = (
            select(
                User.name,
                User.email,
                Company.name,
                Company.uic,
                ranked.c.at,
                ranked.c.ref,
                hidden,
            )
            .select_from(ranked)
            .outerjoin(User, User.id == ranked.c.person_id)
            .outerjoin(Company, Company.id == ranked.c.company_id)
            .where(ranked.c.rn == 1)
            .order_by(ranked.c.at, ranked.c.person_id)
        )
        if split in ("gender", "age_band"):
            column = User.gender if split == "gender" else User.age_band
            query = query.where(column.is_(None) if value == NOT_STATED else column == value)
        elif split in ("size_class", "startup"):
            position = 0 if split == "size_class" else 2
            classes = self.company_classes(definition)
            ids = [cid for cid, c in classes.items() if c[position] == value]
            condition = ranked.c.company_id.in_(ids)
            if value == NO_COMPANY:
                condition = ranked.c.company_id.is_(None)
            query = query.where(condition)
        elif split == "month":
            query = query.where(self._month_filter(ranked.c.at, value))
        rows = []
        for name, email, company, uic, at, ref, is_hidden in _run(query):
            if is_hidden:
                name, email = ANONYMOUS, ""
            rows.append(
                (name or ANONYMOUS, email or "", company, uic, self.period.local_date(at), ref)
            )
        return rows

    def _company_rows(self, definition, split, value) -> list[tuple]:  # noqa: ANN001
        first = self.company_first(definition)
        if not first:
            return []
        names = dict(
            (cid, (name, uic))
            for cid, name, uic in _run(
                select(Company.id, Company.name, Company.uic).where(Company.id.in_(list(first)))
            )
        )
        rows = []
        for cid, (at, people) in first.items():
            size, is_sme, startup = self.classify(cid, at)
            keep = (
                split is None
                or (split == "size_class" and size == value)
                or (split == "sme" and is_sme == value)
                or (split == "startup" and startup == value)
                or (
                    split == "month"
                    and self.month_starts[self.month_of(at)].strftime("%Y-%m") == value
                )
            )
            if keep:
                name, uic = names.get(cid, ("", ""))
                rows.append((name, uic, size, is_sme, startup, self.period.local_date(at), people))
        rows.sort(key=lambda r: (str(r[0]).lower(), r[1]))
        return rows

    def _course_rows(self, f, measure, split, value) -> list[tuple]:  # noqa: ANN001
        if f is None:
            return []
        column = f.c.course_id if measure == "courses" else f.c.event_id
        query = (
            select(
                column,
                func.min(f.c.ref),
                func.min(f.c.topic),
                func.min(f.c.delivery_mode),
                func.min(f.c.at),
                func.count(),
            )
            .where(column.is_not(None))
            .group_by(column)
            .order_by(column)
        )
        rows = []
        for row_id, ref, topic, mode, at, count in _run(query):
            month = self.month_starts[self.month_of(at)].strftime("%Y-%m")
            keep = (
                split is None
                or (split == "topic" and (topic or UNKNOWN) == value)
                or (split == "delivery_mode" and (mode or UNKNOWN) == value)
                or (split == "month" and month == value)
            )
            if keep:
                rows.append((row_id, ref, topic, mode, self.period.local_date(at), count))
        return rows

    def _fact_rows(self, f, split, value) -> Iterator[tuple]:  # noqa: ANN001
        if f is None:
            return iter(())
        hidden = _hidden_user_condition()
        query = (
            select(
                f.c.at,
                User.name,
                Company.name,
                Company.uic,
                f.c.ref,
                f.c.topic,
                f.c.delivery_mode,
                f.c.hours,
                hidden,
            )
            .select_from(f)
            .outerjoin(User, User.id == f.c.person_id)
            .outerjoin(Company, Company.id == f.c.company_id)
            .order_by(f.c.at)
        )
        if split in ("topic", "delivery_mode"):
            column = f.c.topic if split == "topic" else f.c.delivery_mode
            query = query.where(column.is_(None) if value == UNKNOWN else column == value)
        elif split == "month":
            query = query.where(self._month_filter(f.c.at, value))
        local = self.period.local_date

        def generate() -> Iterator[tuple]:
            result = _run(query.execution_options(yield_per=2000))
            for at, name, company, uic, ref, topic, mode, hours, is_hidden in result:
                person = ANONYMOUS if is_hidden else (name or "")
                yield (local(at), person, company, uic, ref, topic, mode, _number(hours))

        return generate()


ANONYMOUS = "—"


def _run(statement: Any) -> Any:
    """Execute on the session's connection (Core): no ORM row loading for plain aggregates."""
    return db.session.connection().execute(statement)


def _unordered(column: ColumnElement) -> ColumnElement:
    """An integer key as an expression (`key + 0`): same values, but SQLite no longer walks
    an index in key order for GROUP BY / PARTITION BY (one random row access per fact, about
    five times slower than a scan and a sort). Harmless on PostgreSQL."""
    return column + 0


def _fact_set(definition: Definition) -> tuple:
    """Definitions with the same sources and filters count the same facts."""
    return (
        definition.sources,
        definition.course_ids,
        definition.event_ids,
        definition.min_hours,
    )


def _hidden_user_condition() -> ColumnElement:
    """True for people whose data is erased or restricted (privacy work may add such
    columns to User); their rows show no name. Without such columns: always False."""
    conditions = [
        getattr(User, name).is_not(None)
        for name in ("erased_at", "restricted_at", "anonymised_at")
        if hasattr(User, name)
    ]
    if not conditions:
        return literal(False)
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined | condition
    return case((combined, True), else_=False)


def _add(bucket: dict[str, int | float], key: str, amount: int | float | Decimal) -> None:
    bucket[key] = bucket.get(key, 0) + amount  # type: ignore[operator]


def _ordered(name: str, values: dict[str, Any]) -> dict[str, int | float]:
    order = VALUE_ORDER.get(name, ())
    keys = [k for k in order if k in values] + sorted(k for k in values if k not in order)
    return {k: _number(values[k]) for k in keys}


def compute_report(period: Period, definitions: list[Definition] | None = None) -> Report:
    return ReportEngine(period, definitions).compute()
