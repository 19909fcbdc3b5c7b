"""The one aggregate statement that computes every figure of a report.

The engine groups the enabled indicator definitions by *fact set* (the same sources with the
same course/event/hours filters count the same facts) and asks, per fact set, only for the
grouped results its measures need. Every fact set becomes a common table expression ``f<i>``
(the sources' facts in the period, read once even when several measures use them) and each
needed result one grouped SELECT over it; all of them are joined with UNION ALL into a single
statement, so the whole report is one round trip whose result is a few hundred rows (bounded by
the number of companies, courses and months, not by the number of people or facts).

SQL common to SQLite and PostgreSQL: common table expressions, CASE, GROUP BY and UNION ALL
with explicitly typed NULLs; no GROUPING SETS, no date functions. One part differs, for speed:
each person's first fact (`first_facts`) is a min() grouping on SQLite and ``DISTINCT ON`` on
PostgreSQL; the shape records the dialect, and a test checks the tie rule on both databases.

Building and compiling such a statement costs milliseconds, so it is built **once per process**
for each shape (the fact sets with their sources and filters, the number of months, open or
closed period ends) and kept in a small cache; the period's UTC bounds and month bounds are
bound parameters filled in on each call. The cache key holds the definitions' sources (the
plugins' Select objects, compared by identity), filters and measures, so editing a definition or
a plugin answering with another Select builds a new statement.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    String,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select, visitors
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType

from lms.models import User
from lms.reports import Source
from lms.types import UTCDateTime

#: The kinds of grouped rows (`tag % PARTS`; `tag // PARTS` is the fact set's index).
PEOPLE = 0  # (month, gender, age band) of each person's first fact -> people
ANONYMOUS = 2  # month of each person's first fact -> people (anonymous sources)
COMPANY_FIRST = 3  # each company's first fact [and the people whose first fact was there]
DETAIL = 4  # (course, event, topic, delivery mode, month) -> first fact, facts, hours
PARTS = 8

_INT, _TEXT, _FLOAT, _AT = Integer(), String(), Float(), UTCDateTime()
#: The result's `at` column: the database's own timestamp type, so reading the rows runs no
#: Python per row (UTCDateTime's conversion, about a tenth of the report on PostgreSQL); the
#: few rows that carry a timestamp are made aware UTC by `lms.types.as_utc`.
_AT_READ = DateTime(timezone=True)
_WIDE = literal_column(str(10**17), _INT)


@dataclass(frozen=True)
class FactSet:
    """One set of facts and what the definitions counting it need."""

    sources: tuple[Source, ...]
    course_ids: tuple[int, ...] = ()
    event_ids: tuple[int, ...] = ()
    min_hours: Decimal | None = None
    people: bool = False  # unique people with their splits (needs `companies` too)
    anonymous: bool = False  # unique people, by month only
    companies: bool = False  # each company's first fact (companies, people by size class)
    detail: bool = False  # courses, events, count and hours


@dataclass(frozen=True)
class Shape:
    """Everything a statement's text depends on (the cache key)."""

    sets: tuple[FactSet, ...]
    months: int  # number of local months in the period (>= 1)
    has_start: bool
    has_end: bool
    dialect: str = ""  # how each person's first fact is found (see first_facts)


def facts_select(
    fact_set: FactSet,
    start: Any = None,
    end: Any = None,
    prefix: str = "",
    columns: Sequence[str] | None = None,
) -> Select:
    """The set's facts restricted to the period and filters: the labelled fact columns, or
    only `columns` of them (a narrower row is cheaper to keep and sort). `start`/`end` are
    bound parameters or values (None: open end)."""
    selects = [s.facts for s in fact_set.sources]
    raw = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery(f"raw{prefix}")
    conditions: list[ColumnElement[bool]] = []
    if start is not None:
        conditions.append(raw.c.at >= start)
    if end is not None:
        conditions.append(raw.c.at < end)
    if fact_set.course_ids:
        conditions.append(raw.c.course_id.in_(fact_set.course_ids))
    if fact_set.event_ids:
        conditions.append(raw.c.event_id.in_(fact_set.event_ids))
    if fact_set.min_hours is not None:
        conditions.append(raw.c.hours >= fact_set.min_hours)
    chosen = raw.c if columns is None else [raw.c[name] for name in columns]
    return select(*chosen).where(*conditions)


class plain(FunctionElement):
    """A column's value without SQLite's type affinity (`+column`; the column as it is on
    other databases). SQLite gives a DATETIME column NUMERIC affinity, so comparing it with a
    text bound parameter tries to read the text as a number on every comparison; the stored
    timestamps are text that never converts, so values and order are the same, only cheaper
    (the month CASE below runs for every fact and person)."""

    name = "plain"
    inherit_cache = True

    def __init__(self, column: ColumnElement) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(plain)
def _plain(element: plain, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(plain, "sqlite")
def _plain_sqlite(element: plain, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def month_case(column: ColumnElement, bounds: Sequence[Any]) -> ColumnElement:
    """The local month of a UTC timestamp as an index into the period's months: a CASE over
    the months' UTC bounds (no date functions, the time zone is already applied)."""
    if not bounds:
        return literal_column("0", _INT)
    column = plain(column)
    return case(
        *[(column < bound, literal_column(str(index), _INT)) for index, bound in enumerate(bounds)],
        else_=literal_column(str(len(bounds)), _INT),
    )


def unordered(column: ColumnElement) -> ColumnElement:
    """An integer key as an expression (`key + 0`): same values, but SQLite no longer walks
    an index in key order for GROUP BY / PARTITION BY (one random row access per fact, about
    five times slower than a scan and a sort). Harmless on PostgreSQL."""
    return column + literal_column("0", _INT)


def _row(
    tag: int,
    k1: Any = None,
    k2: Any = None,
    s1: Any = None,
    s2: Any = None,
    month: Any = None,
    at: Any = None,
    n: Any = None,
    amount: Any = None,
) -> list[ColumnElement]:
    """One branch's columns in the common layout, NULLs typed (PostgreSQL's UNION needs it)."""

    def typed(value: Any, type_: Any, name: str) -> ColumnElement:
        if value is None:
            return cast(null(), type_).label(name)
        return type_coerce(value, type_).label(name)

    return [
        literal_column(str(tag), _INT).label("tag"),
        typed(k1, _INT, "k1"),
        typed(k2, _INT, "k2"),
        typed(s1, _TEXT, "s1"),
        typed(s2, _TEXT, "s2"),
        typed(month, _INT, "month"),
        typed(at, _AT_READ, "at"),
        typed(n, _INT, "n"),
        (cast(null(), _FLOAT) if amount is None else cast(amount, _FLOAT)).label("amount"),
    ]


def first_facts(facts: Any, name: str, dialect: str, extra: Sequence[str] = ()) -> Any:
    """Each person's first fact as a subquery `name` (person_id, company_id, at and the
    `extra` fact columns), one row per person; ties at the same instant go to the known
    company, then the smallest id. The report's statement and its drill-down both use it.

    Each database gets the form it runs fastest (both are checked by the same tie test):

    - SQLite: a grouping (a window would sort every fact; a grouping keeps the least key per
      person). SQLite takes the other columns of a min() query from the row that holds the
      minimum (its documented "bare columns"); the key orders as the rule does (the timestamp
      text, then the company as fixed-width digits, a missing company last).
    - PostgreSQL: ``DISTINCT ON (person) ... ORDER BY person, at,
      company NULLS LAST``. Same sort as ``row_number()``, but the planner estimates one row
      per person where it estimates "rn = 1" as 0.5% of the facts; with that misestimate it
      joined the people to `user` by one index probe each, about 15% of the whole report."""
    others = [facts.c.company_id, facts.c.at, *(facts.c[column] for column in extra)]
    if dialect == "sqlite":
        person = unordered(facts.c.person_id)
        # The company as 18 digits (10**17 + id: same width for any id below 9 * 10**17, so
        # the text orders as the number), a missing company as "~", after every digit.
        tie = func.coalesce(_WIDE + facts.c.company_id, literal_column("'~'", _TEXT))
        key = type_coerce(facts.c.at, _TEXT) + func.char(1) + type_coerce(tie, _TEXT)
        return (
            select(person.label("person_id"), *others, func.min(key).label("first_key"))
            .where(facts.c.person_id.is_not(None))
            .group_by(person)
            .subquery(name)
        )
    return (
        select(facts.c.person_id, *others)
        .where(facts.c.person_id.is_not(None))
        .ext(distinct_on(facts.c.person_id))
        .order_by(facts.c.person_id, facts.c.at, facts.c.company_id.nulls_last())
        .subquery(name)
    )


def start_name(index: int) -> str:
    return f"report_start_{index}"


def end_name(index: int) -> str:
    return f"report_end_{index}"


def bound_name(index: int, month: int) -> str:
    return f"report_month_{index}_{month}"


def _bound(name: str) -> ColumnElement:
    """A period bound: a parameter of the cached statement whose value is written into the
    SQL text when it runs (`literal_execute`). PostgreSQL then plans with the real dates:
    with placeholders, a statement the driver has prepared gets a generic plan that assumes a
    period holds 0.5% of the facts (sorting where hashing is twice as fast). The values are
    datetimes computed here, rendered by the column type, never user text."""
    return bindparam(name, literal_execute=True)


def build(shape: Shape) -> Select:
    """The statement for a shape (see the module documentation)."""
    branches: list[Select] = []
    for i, fact_set in enumerate(shape.sets):
        base = i * PARTS
        people = fact_set.people or fact_set.anonymous
        columns = ["at"]
        columns += ["person_id"] if people else []
        columns += ["company_id"] if people or fact_set.companies else []
        if fact_set.detail:
            columns += ["course_id", "event_id", "topic", "delivery_mode", "hours"]
        facts = facts_select(
            fact_set,
            _bound(start_name(i)) if shape.has_start else None,
            _bound(end_name(i)) if shape.has_end else None,
            prefix=str(i),
            columns=columns,
        ).cte(f"f{i}")
        bounds = [_bound(bound_name(i, k)) for k in range(shape.months - 1)]
        if people:
            # Each person's first fact in the period (ties: the known company first).
            ranked = first_facts(facts, f"r{i}", shape.dialect)
            month = month_case(ranked.c.at, bounds)
            if fact_set.anonymous:
                branches.append(
                    select(*_row(base + ANONYMOUS, month=month, n=func.count()))
                    .select_from(ranked)
                    .group_by(*([month] if bounds else []))
                )
            else:
                first = (
                    select(
                        ranked.c.company_id,
                        month.label("month"),
                        User.gender,
                        User.age_band,
                    )
                    .select_from(ranked)
                    .outerjoin(User, User.id == ranked.c.person_id)
                    .cte(f"p{i}")
                )
                # Two small groupings instead of one per split: months x genders x age bands
                # is bounded (a few hundred rows at most), companies by their number.
                keys = (first.c.gender, first.c.age_band, *([first.c.month] if bounds else []))
                branches.append(
                    select(
                        *_row(
                            base + PEOPLE,
                            s1=first.c.gender,
                            s2=first.c.age_band,
                            month=first.c.month if bounds else literal_column("0", _INT),
                            n=func.count(),
                        )
                    ).group_by(*keys)
                )
        if fact_set.people:
            # Each company's first fact and the people whose first fact was with it, in one
            # grouping: people are rows flagged 1, facts rows flagged 0. People without a
            # company are left out (the engine counts them as all people less those with one):
            # grouping them all under NULL costs as much as grouping them by company.
            persons = select(
                first.c.company_id.label("company_id"),
                cast(null(), _AT).label("at"),
                literal_column("1", _INT).label("person"),
            ).where(first.c.company_id.is_not(None))
            company_facts = select(
                facts.c.company_id,
                type_coerce(facts.c.at, _AT).label("at"),
                literal_column("0", _INT).label("person"),
            ).where(facts.c.company_id.is_not(None))
            both = union_all(persons, company_facts).subquery(f"c{i}")
            company = unordered(both.c.company_id)
            branches.append(
                select(
                    *_row(
                        base + COMPANY_FIRST,
                        k1=company,
                        at=func.min(both.c.at),
                        n=func.sum(both.c.person),
                    )
                ).group_by(company)
            )
        elif fact_set.companies:
            company = unordered(facts.c.company_id)
            branches.append(
                select(*_row(base + COMPANY_FIRST, k1=company, at=func.min(facts.c.at)))
                .where(facts.c.company_id.is_not(None))
                .group_by(company)
            )
        if fact_set.detail:
            month = month_case(facts.c.at, bounds)
            course, event = unordered(facts.c.course_id), unordered(facts.c.event_id)
            keys = (course, event, facts.c.topic, facts.c.delivery_mode)
            keys += (month,) if bounds else ()
            branches.append(
                select(
                    *_row(
                        base + DETAIL,
                        k1=course,
                        k2=event,
                        s1=facts.c.topic,
                        s2=facts.c.delivery_mode,
                        month=month,
                        at=func.min(facts.c.at),
                        n=func.count(),
                        amount=func.sum(facts.c.hours),
                    )
                ).group_by(*keys)
            )
    if not branches:
        return select(*_row(-1)).where(literal_column("1", _INT) == literal_column("0", _INT))
    return union_all(*branches) if len(branches) > 1 else branches[0]  # type: ignore[return-value]


def parameters(
    shape: Shape, start: datetime | None, end: datetime | None, bounds: Sequence[datetime]
) -> dict[str, Any]:
    """The bound values of a shape's statement for one period."""
    values: dict[str, Any] = {}
    for i in range(len(shape.sets)):
        if shape.has_start:
            values[start_name(i)] = start
        if shape.has_end:
            values[end_name(i)] = end
        for k, bound in enumerate(bounds):
            values[bound_name(i, k)] = bound
    return values


_CACHE: OrderedDict[Any, Any] = OrderedDict()
_CACHE_SIZE = 64
_LOCK = threading.Lock()
#: PostgreSQL: statements the report keeps prepared on one connection (least recent dropped);
#: each holds about 1.4 MB of the server process's memory with its plan (bench data set).
PREPARED_PER_CONNECTION = 3
_PREPARED_KEY = "lms_report_prepared"


def _cached(key: Any, make: Callable[[], Any]) -> Any:
    """A process-wide value made on first use (the least recently used are dropped)."""
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    made = make()
    with _LOCK:
        _CACHE[key] = made
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return made


def statement(shape: Shape) -> Select:
    """The cached statement of a shape (built on first use)."""
    return _cached(shape, lambda: build(shape))


def run(connection: Connection, shape: Shape, values: dict[str, Any]) -> Sequence[Any]:
    """The rows of a shape's statement for one period (`values`, see `parameters`).

    On PostgreSQL the statement is prepared on the connection once per period and afterwards
    only executed: parsing and planning a statement of this size costs about an eighth of
    running it, and the driver's own prepared statements do not outlive the rollback that
    ends most requests (psycopg forgets them on ROLLBACK). SQLite's driver already keeps
    compiled statements by their text from one transaction to the next. The prepared text
    has every value written in, as the plain statement has its period bounds, so the plan is
    made for the real dates; a connection keeps at most PREPARED_PER_CONNECTION of them.

    Preparing needs the driver's automatic preparation off (`prepare_threshold=None`, the
    default set in `lms.config`): psycopg answers its own forgetting with DEALLOCATE ALL,
    which would drop these statements too. With it on, the statement runs unprepared."""
    if not _keeps_prepared(connection):
        return connection.execute(statement(shape), values).all()
    text = _text(shape, values, connection.dialect)
    name = "lms_report_" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
    prepared: OrderedDict[str, bool] = connection.info.setdefault(_PREPARED_KEY, OrderedDict())
    if name in prepared:
        prepared.move_to_end(name)
    else:
        # PREPARE and DEALLOCATE outlive a rollback (they are not transactional), so what is
        # recorded here stays true for the connection's life.
        connection.exec_driver_sql(f"PREPARE {name} AS {text}")
        prepared[name] = True
        while len(prepared) > PREPARED_PER_CONNECTION:
            oldest, _ = prepared.popitem(last=False)
            connection.exec_driver_sql(f"DEALLOCATE {oldest}")
    return connection.exec_driver_sql(f"EXECUTE {name}").all()


def _keeps_prepared(connection: Connection) -> bool:
    """Whether statements prepared on this connection stay until the report drops them."""
    if connection.dialect.name != "postgresql":
        return False
    driver = connection.connection.driver_connection
    return getattr(driver, "prepare_threshold", 0) is None


def _cast_value(element: Any) -> Any:
    """A value written into the text keeps its type, as a bound parameter does (the driver
    casts those): a timestamp written as a bare string in a select list would be text."""
    if (
        isinstance(element, BindParameter)
        and not element.expanding
        and not isinstance(element.type, NullType)
    ):
        return cast(element, element.type)
    return None


def _text(shape: Shape, values: dict[str, Any], dialect: Any) -> str:
    """The shape's SQL for one period with every value written in by its type (the period
    bounds are datetimes computed by the engine, the rest the plugins' own constants; never
    user text). Compiling costs about ten milliseconds, so the texts are kept per process."""

    def typed() -> Select:
        return visitors.replacement_traverse(statement(shape), {}, _cast_value)

    def write() -> str:
        written = _cached(("typed", shape), typed).params(values)
        return str(written.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

    return _cached(("text", shape, tuple(sorted(values.items()))), write)
