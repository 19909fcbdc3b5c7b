"""Computes the report: asks the plugins for their sources, then counts every indicator with
one cached aggregate SQL statement (`lms.reports.statement`; the interface is in
`lms.reports`). The rows behind a figure (drill-down, exports) are read per indicator."""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.sql import Select

from lms import sme
from lms.extensions import db
from lms.models import AGE_BANDS, GENDERS, Company, CompanyFigures, User
from lms.reports import Period, Source, statement
from lms.reports.definitions import Definition, load_definitions
from lms.signals import collect, get_report_indicators
from lms.types import as_utc

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
    """One computation: the sources are collected once, company data loaded once, and every
    figure comes from one cached aggregate statement (`lms.reports.statement`)."""

    def __init__(self, period: Period, definitions: list[Definition] | None = None) -> None:
        self.period = period
        self.definitions = definitions if definitions is not None else load_definitions()
        self.sources: dict[str, list[Source]] = defaultdict(list)
        for source in collect(get_report_indicators, None, period=period):
            if isinstance(source, Source):
                self.sources[source.key].append(source)
        self.month_starts = _months(period)
        self._month_bounds = [period.local_midnight(m) for m in self.month_starts[1:]]
        self._companies: dict[int, _Company] | None = None
        self._company_first: dict[tuple, dict[int, tuple[datetime, int]]] = {}
        self._classes: dict[tuple[int | None, datetime], tuple[str, str, str]] = {}
        self._set_classes: dict[tuple, dict[int, tuple[str, str, str]]] = {}
        self._facts: dict[tuple, Any] = {}
        self._results: dict[tuple, _SetResult] | None = None
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

    def _sources_of(self, definition: Definition) -> tuple[Source, ...]:
        return tuple(s for key in definition.sources for s in self.sources.get(key, ()))

    def facts(self, definition: Definition):  # noqa: ANN201 - a Subquery
        """The definition's facts in the period as a subquery (None without contributions),
        for the rows behind a figure; built once per set of sources and filters."""
        key = _fact_set(definition)
        if key not in self._facts:
            sources = self._sources_of(definition)
            self._facts[key] = (
                statement.facts_select(
                    _plain_set(definition, sources), self.period.start, self.period.end
                ).subquery("f")
                if sources
                else None
            )
        return self._facts[key]

    def month_index(self, column: ColumnElement) -> ColumnElement:
        """The local month of a UTC timestamp as an index into `month_starts`, in portable SQL
        (a CASE over the months' UTC bounds: no date functions, time zone already applied)."""
        return statement.month_case(column, self._month_bounds)

    def month_of(self, at: datetime) -> int:
        return bisect.bisect_right(self._month_bounds, at)

    # --- companies ---------------------------------------------------------------------

    def _load_companies(self) -> dict[int, _Company]:
        """Every company's registration, listing and declared figures (oldest year first),
        in one query."""
        if self._companies is None:
            companies: dict[int, _Company] = {}
            current: _Company | None = None
            for cid, registered, listed, year, headcount, turnover, balance in _run(
                _company_query()
            ).all():
                if current is None or current.id != cid:
                    current = companies[cid] = _Company(cid, registered, bool(listed))
                if year is not None:
                    current.figures.append((year, headcount, turnover, balance))
            self._companies = companies
        return self._companies

    def classify(self, company_id: int | None, at: datetime) -> tuple[str, str, str]:
        """(size class, SME, start-up) of a company when it was supported at `at`: from the
        figures of the latest accounting year before that year (2003/361/EC annex art. 4)."""
        if company_id is None:
            return _NO_COMPANY_CLASS
        known = self._classes.get((company_id, at))
        if known is None:
            known = self._classes[(company_id, at)] = self._class_at(company_id, at)
        return known

    def _class_at(self, company_id: int, at: datetime) -> tuple[str, str, str]:
        """`classify` without its cache: the company's class on the local day of `at`."""
        company = self._load_companies().get(company_id)
        return _classify(company, at.astimezone(self._zone).date(), self._startup_months)

    def company_first(self, definition: Definition) -> dict[int, tuple[datetime, int]]:
        """company id -> (first qualifying fact, number of unique people) in the period, for
        the rows behind a figure (the figures themselves come from `compute`)."""
        key = _fact_set(definition)
        if key not in self._company_first:
            f = self.facts(definition)
            result: dict[int, tuple[datetime, int]] = {}
            if f is not None:
                company = statement.unordered(f.c.company_id)
                query = (
                    select(company, func.min(f.c.at), func.count(f.c.person_id.distinct()))
                    .where(f.c.company_id.is_not(None))
                    .group_by(company)
                )
                result = {cid: (first, people) for cid, first, people in _run(query)}
            self._company_first[key] = result
        return self._company_first[key]

    def company_classes(self, definition: Definition) -> dict[int, tuple[str, str, str]]:
        """company id -> its classification when first supported, for a definition's facts
        (kept per fact set: people and companies measures of the same facts share it)."""
        key = _fact_set(definition)
        if key not in self._set_classes:
            self._set_classes[key] = self._company_classes(definition, key)
        return self._set_classes[key]

    def _company_classes(self, definition: Definition, key: tuple) -> dict[int, tuple]:
        computed = self._results.get(key) if self._results is not None else None
        if computed is not None and computed.companies is not None:
            firsts = computed.companies
        else:
            firsts = {
                cid: first for cid, (first, _people) in self.company_first(definition).items()
            }
        return {cid: self._class_at(cid, first) for cid, first in firsts.items()}

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

    def _computed(self) -> dict[tuple, _SetResult]:
        """Every enabled definition's grouped results, from one statement (run once)."""
        if self._results is not None:
            return self._results
        plans: dict[tuple, dict[str, Any]] = {}
        for definition in self.definitions:
            if not definition.enabled or not self.contributed(definition):
                continue
            plan = plans.setdefault(_fact_set(definition), {"definition": definition})
            measure = definition.measure
            if measure == "people" and self.anonymous(definition):
                plan["anonymous"] = True
            elif measure == "people":
                plan["people"] = plan["companies"] = True  # size classes need companies
            elif measure == "companies":
                plan["companies"] = True
            else:
                plan["detail"] = True
        keys = list(plans)
        sets = tuple(
            replace(
                _plain_set(plan["definition"], self._sources_of(plan["definition"])),
                **{k: v for k, v in plan.items() if k != "definition"},
            )
            for plan in plans.values()
        )
        results = {
            key: _SetResult(len(self.month_starts), fact_set.companies)
            for key, fact_set in zip(keys, sets, strict=True)
        }
        if sets:
            shape = statement.Shape(
                sets,
                len(self.month_starts),
                self.period.start is not None,
                self.period.end is not None,
                _dialect(),
            )
            params = statement.parameters(
                shape, self.period.start, self.period.end, self._month_bounds
            )
            readers: dict[int, Callable[[Sequence[Any]], None]] = {}
            for index, key in enumerate(keys):
                readers.update(results[key].readers(index * statement.PARTS))
            for row in statement.run(db.session.connection(), shape, params):
                readers[row[0]](row)
        self._results = results
        return results

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
        computed = self._computed().get(_fact_set(definition)) if result.contributed else None
        if computed is not None:
            measure = definition.measure
            if measure == "people":
                self._people(definition, computed, months, splits, result.anonymous)
            elif measure == "companies":
                self._companies_measure(definition, computed, months, splits)
            elif measure in ("courses", "events"):
                self._distinct(computed, measure, months, splits)
            else:
                self._facts_measure(computed, measure, months, splits)
        result.value = _number(sum(months))
        result.months = [
            (m.strftime("%Y-%m"), _number(v))
            for m, v in zip(self.month_starts, months, strict=True)
        ]
        result.splits = {name: _ordered(name, values) for name, values in splits.items()}
        return result

    def _people(self, definition, computed, months, splits, anonymous) -> None:  # noqa: ANN001
        if anonymous:
            for index, count in enumerate(computed.anonymous_months):
                months[index] += count
            return
        for index, count in enumerate(computed.people_months):
            months[index] += count
        for name, values in (("gender", computed.genders), ("age_band", computed.ages)):
            bucket = splits[name]
            for value, count in values.items():
                _add(bucket, value or NOT_STATED, count)
        # People per classification first (a handful of values), then the splits.
        classes = self.company_classes(definition)
        weights: Counter[tuple[str, str, str]] = Counter()
        for company_id, count in computed.people_companies.items():
            weights[classes.get(company_id, _NO_COMPANY_CLASS)] += count
        without = sum(computed.people_months) - sum(computed.people_companies.values())
        if without:
            weights[_NO_COMPANY_CLASS] += without
        sizes, startups = splits["size_class"], splits["startup"]
        for (size, _sme, startup), count in weights.items():
            _add(sizes, size, count)
            _add(startups, startup, count)

    def _first_facts(self, f):  # noqa: ANN001, ANN202
        """Each person's first fact in the period with its reference (see
        `statement.first_facts`)."""
        return statement.first_facts(f, "ranked", _dialect(), ["ref"])

    def _companies_measure(self, definition, computed, months, splits) -> None:  # noqa: ANN001
        classes = self.company_classes(definition)
        sizes, smes, startups = splits["size_class"], splits["sme"], splits["startup"]
        companies = computed.companies or {}
        for index, count in Counter(map(self.month_of, companies.values())).items():
            months[index] += count
        for (size, is_sme, startup), count in Counter(map(classes.__getitem__, companies)).items():
            _add(sizes, size, count)
            _add(smes, is_sme, count)
            _add(startups, startup, count)

    def _distinct(self, computed, measure, months, splits) -> None:  # noqa: ANN001
        position = 0 if measure == "courses" else 1
        first: dict[int, tuple[datetime, str | None, str | None]] = {}
        for row in computed.detail:
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

    def _facts_measure(self, computed, measure, months, splits) -> None:  # noqa: ANN001
        column = 6 if measure == "count" else 7
        for row in computed.detail:
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
        ranked = self._first_facts(f)
        query = select(ranked.c.at).order_by(ranked.c.at)
        if split == "month":
            query = query.where(self._month_filter(ranked.c.at, value))
        return [(self.period.local_date(at),) for (at,) in _run(query)]

    def _people_rows(self, definition, f, split, value) -> list[tuple]:  # noqa: ANN001
        if f is None:
            return []
        ranked = self._first_facts(f)
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


def _run(query: Any, parameters: dict[str, Any] | None = None) -> Any:
    """Execute on the session's connection (Core): no ORM row loading for plain aggregates."""
    return db.session.connection().execute(query, parameters)


def _dialect() -> str:
    """The database's dialect name: how the report's SQL finds first facts depends on it."""
    return db.session.get_bind().dialect.name


def _fact_set(definition: Definition) -> tuple:
    """Definitions with the same sources and filters count the same facts."""
    return (
        definition.sources,
        definition.course_ids,
        definition.event_ids,
        definition.min_hours,
    )


class _Company:
    """A company's data for classification, with what is derived from it cached."""

    __slots__ = ("_startup", "by_year", "figures", "id", "listed", "registered")

    def __init__(self, company_id: int, registered: date | None, listed: bool) -> None:
        self.id = company_id
        self.registered = registered
        self.listed = listed
        #: (reference year, headcount, turnover, balance sheet), oldest first.
        self.figures: list[tuple] = []
        #: year of support -> (size class, SME, whether a start-up is possible by size).
        self.by_year: dict[int, tuple[str, str, bool]] = {}
        self._startup: tuple[date, date] | None | bool = False

    def startup_window(self, min_months: int, max_months: int) -> tuple[date, date] | None:
        """The days on which this company, if unlisted and micro or small, counts as a
        start-up (the rule of `lms.sme.is_startup`), or None when it never does."""
        if self._startup is False:
            self._startup = (
                None
                if self.registered is None or self.listed
                else _startup_window(self.registered, min_months, max_months)
            )
        return self._startup  # type: ignore[return-value]


@cache
def _company_query() -> Select:
    """The company data classification needs (built once: building a statement and its cache
    key costs a fifth of running it)."""
    return (
        select(
            Company.id,
            Company.registered_on,
            Company.is_listed,
            CompanyFigures.reference_year,
            CompanyFigures.headcount,
            CompanyFigures.turnover_eur,
            CompanyFigures.balance_sheet_eur,
        )
        .outerjoin(CompanyFigures, CompanyFigures.company_id == Company.id)
        .order_by(Company.id, CompanyFigures.reference_year)
    )


_UNCLASSIFIED = (UNKNOWN, UNKNOWN, "not_startup")
_NO_COMPANY_CLASS = (NO_COMPANY, UNKNOWN, NO_COMPANY)
#: size class -> (its value, SME or not, whether it may be a start-up: micro or small).
_CLASS_FACTS = {
    klass: (
        klass.value,
        "sme" if sme.is_sme(klass) else "not_sme",
        klass in (sme.SizeClass.MICRO, sme.SizeClass.SMALL),
    )
    for klass in sme.SizeClass
}


def _classify(
    company: _Company | None, on: date, startup_months: tuple[int, int]
) -> tuple[str, str, str]:
    """(size class, SME, start-up) of a company supported on the local day `on`."""
    if company is None or not company.figures:
        return _UNCLASSIFIED
    of_year = company.by_year.get(on.year)
    if of_year is None:
        of_year = company.by_year[on.year] = _classify_year(company, on.year)
    size, is_sme, may_be_startup = of_year
    if may_be_startup:
        window = company.startup_window(*startup_months)
        if window is not None and window[0] <= on <= window[1]:
            return size, is_sme, "startup"
    return size, is_sme, "not_startup"


def _classify_year(company: _Company, year: int) -> tuple[str, str, bool]:
    """(size class, SME, micro or small) of a company supported in `year`: by the figures of
    the latest accounting year before it, the oldest when none is (2003/361/EC annex art. 4)."""
    chosen = company.figures[0]
    for row in company.figures:  # oldest first
        if row[0] <= year - 1:
            chosen = row
    return _CLASS_FACTS[sme.size_class(chosen[1], chosen[2], chosen[3])]


@lru_cache(maxsize=4096)
def _startup_window(registered: date, min_months: int, max_months: int) -> tuple[date, date]:
    """`lms.sme.is_startup`'s bounds for a registration date (pure, so kept per process)."""
    return sme.add_months(registered, min_months), sme.add_months(registered, max_months)


def _plain_set(definition: Definition, sources: tuple[Source, ...]) -> statement.FactSet:
    """The definition's fact set (sources and filters; the measures are added by the plan)."""
    return statement.FactSet(
        sources,
        definition.course_ids,
        definition.event_ids,
        definition.min_hours,
    )


class _SetResult:
    """The grouped rows of one fact set, sorted by kind (see `lms.reports.statement`)."""

    __slots__ = (
        "ages",
        "anonymous_months",
        "companies",
        "detail",
        "genders",
        "people_companies",
        "people_months",
    )

    def __init__(self, months: int, companies: bool) -> None:
        self.people_months = [0] * months
        self.anonymous_months = [0] * months
        self.genders: dict[str | None, int] = {}
        self.ages: dict[str | None, int] = {}
        #: company id -> people whose first fact was with it (people without one: the rest).
        self.people_companies: dict[int, int] = {}
        #: company id -> its first fact in the period (None: not asked for).
        self.companies: dict[int, datetime] | None = {} if companies else None
        #: (course, event, topic, delivery mode, month, first fact, facts, hours)
        self.detail: list[tuple] = []

    def readers(self, base: int) -> dict[int, Callable[[Sequence[Any]], None]]:
        """What reads each kind of row of this set, by its tag (`base` + the kind). Rows are
        (tag, k1, k2, s1, s2, month, at, n, amount); see `lms.reports.statement`."""
        return {
            base + statement.PEOPLE: self._read_people,
            base + statement.ANONYMOUS: self._read_anonymous,
            base + statement.COMPANY_FIRST: self._read_company,
            base + statement.DETAIL: self._read_detail,
        }

    def _read_people(self, row: Sequence[Any]) -> None:
        _tag, _k1, _k2, gender, age_band, month, _at, n, _amount = row
        self.people_months[month] += n
        self.genders[gender] = self.genders.get(gender, 0) + n
        self.ages[age_band] = self.ages.get(age_band, 0) + n

    def _read_anonymous(self, row: Sequence[Any]) -> None:
        self.anonymous_months[row[5]] += row[7]

    def _read_company(self, row: Sequence[Any]) -> None:
        _tag, company_id, _k2, _s1, _s2, _month, at, n, _amount = row
        if at is not None:
            self.companies[company_id] = as_utc(at)  # type: ignore[index]
        if n:
            self.people_companies[company_id] = n

    def _read_detail(self, row: Sequence[Any]) -> None:
        _tag, course, event, topic, mode, month, at, n, amount = row
        at = None if at is None else as_utc(at)
        self.detail.append((course, event, topic, mode, month, at, n, amount))


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
