"""Grant report benchmark (issue #6): ``python -m bench.reports [--postgres URL]``.

Generates a synthetic data set (500 companies, 20,000 learners, 300,000 lesson-progress rows,
100,000 quiz attempts, 15,000 certificates, 2,000 live sessions with attendance) with bulk
core inserts (executemany, never the ORM row by row) into a throw-away database, then measures
in the same run:

- the baseline: ONE hand-written SQL aggregate for the completions indicator (unique people
  who completed a course in the period, by gender), on the same schema and indexes (the
  migrations index ``courses_enrolment.completed_at``, so the baseline reads only the period);
- the full report for the same period, exactly what the dashboard and the exports compute
  (`LiveReport`: every indicator with its splits and monthly trend, through the plugins'
  contributions; chart drawing is not included): the ratio report / baseline, goal <= 5.
  The two are timed alternately (baseline, report, baseline, ...) so both see the same load
  on a shared machine; the ratio is the median of each report run over the mean of the
  baseline runs around it, with its quartiles and range, and the report's number of SQL
  statements;
- the first report of a period not seen before (its statement is written out and, on
  PostgreSQL, prepared on the connection; the timed runs above reuse it);
- the XLSX export of that report (summary + one sheet per indicator with all rows): time and
  peak Python memory (tracemalloc).

SQLite always; PostgreSQL too when ``--postgres URL`` names a server database (a fresh database
is created on it and dropped afterwards). Nothing is committed to the repository.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import secrets
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, make_url, text

from lms.app import create_app
from lms.extensions import db
from lms.sme import is_valid_uic

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
COMPANIES, LEARNERS, PROGRESS, ATTEMPTS, CERTIFICATES, SESSIONS = (
    500,
    20_000,
    300_000,
    100_000,
    15_000,
    2_000,
)
COURSES, MODULES, LESSONS = 20, 3, 5  # 300 lessons
GENDERS = ("female", "male", "other", "prefer_not_to_say", None)
AGES = ("under_25", "25_34", "35_44", "45_54", "55_64", "65_plus", None)
TOPICS = (
    "circular-economy",
    "resource-energy-efficiency",
    "green-innovation",
    "sustainable-business-models",
    "climate-neutrality",
)
MODES = ("online", "on-site", "blended")
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 700
PERIOD = (date(2025, 1, 1), date(2025, 6, 30))
NEW_PERIOD = (date(2025, 7, 1), date(2025, 12, 31))  # same shape, other dates
BASELINE_SQL = """
SELECT u.gender, COUNT(DISTINCT e.user_id)
FROM courses_enrolment e JOIN "user" u ON u.id = e.user_id
WHERE e.completed_at >= :start AND e.completed_at < :end
GROUP BY u.gender
"""


def _uic(n: int) -> str:
    base = 400_000_000 + n * 10
    return next(str(base + d) for d in range(10) if is_valid_uic(str(base + d)))


def _insert(table: str, rows: list[dict[str, Any]], chunk: int = 20_000) -> None:
    target = db.metadata.tables[table]
    for i in range(0, len(rows), chunk):
        db.session.execute(target.insert(), rows[i : i + chunk])


def _at(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(SPAN_DAYS * 86_400))


def generate(report: Callable[[str], None]) -> dict[str, int]:
    """Fill the empty schema; returns the row counts."""
    rng = random.Random(6)
    now = datetime.now(UTC)
    counts: dict[str, int] = {}

    companies = [
        {
            "id": c + 1,
            "name": f"Bench Company {c}",
            "uic": _uic(c),
            "is_listed": False,
            "nuts3": "BG341",
            "invitation_code": secrets.token_urlsafe(12),
            "created_at": now,
            "registered_on": date(2018 + c % 8, 1 + c % 12, 1),
        }
        for c in range(COMPANIES)
    ]
    _insert("company", companies)
    figures = []
    for c in range(COMPANIES):
        for year, headcount in ((2023, 5 + c % 300), (2024, 5 + (c * 7) % 260)):
            figures.append(
                {
                    "company_id": c + 1,
                    "reference_year": year,
                    "headcount": headcount,
                    "turnover_eur": None,
                    "balance_sheet_eur": None,
                }
            )
    _insert("company_figures", figures)
    counts["companies"] = COMPANIES

    users, memberships, roles = [], [], []
    for u in range(LEARNERS):
        users.append(
            {
                "id": u + 1,
                "email": f"learner{u}@bench.example",
                "name": f"Learner {u}",
                "password_hash": "x",
                "language": "bg",
                "gender": rng.choice(GENDERS),
                "age_band": rng.choice(AGES),
                "active": True,
                "session_version": 1,
                "is_demo": False,
                "created_at": now,
            }
        )
        memberships.append(
            {
                "user_id": u + 1,
                "company_id": 1 + u % COMPANIES,
                "is_coordinator": False,
                "joined_at": now,
            }
        )
        roles.append({"user_id": u + 1, "role": "learner"})
    _insert("user", users)
    _insert("membership", memberships)
    _insert("user_role", roles)
    counts["learners"] = LEARNERS
    report("people and companies")

    courses, modules, lessons = [], [], []
    for c in range(COURSES):
        courses.append(
            {
                "id": c + 1,
                "slug": f"bench-{c}",
                "title": f"Bench course {c}",
                "summary": "",
                "topic": TOPICS[c % 5],
                "language": "bg",
                "contact_hours": 2 + c % 6,
                "self_study_hours": 4,
                "assessment_hours": 1,
                "learning_outcomes": [],
                "greencomp": [],
                "delivery_mode": MODES[c % 3],
                "assessment": "",
                "complete_on_scroll": True,
                "status": "published",
                "version": 1,
                "published_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        for m in range(MODULES):
            module_id = c * MODULES + m + 1
            modules.append(
                {
                    "id": module_id,
                    "course_id": c + 1,
                    "position": m,
                    "title": f"M{m}",
                    "summary": "",
                    "deleted": False,
                    "is_published": True,
                    "published_position": m,
                    "published_title": f"M{m}",
                    "published_summary": "",
                    "settings": {},
                }
            )
            for k in range(LESSONS):
                lessons.append(
                    {
                        "id": len(lessons) + 1,
                        "module_id": module_id,
                        "course_id": c + 1,
                        "position": k,
                        "title": f"L{k}",
                        "body_md": "",
                        "body_html": "",
                        "minutes": 5,
                        "deleted": False,
                        "is_published": True,
                        "published_position": k,
                        "published_title": f"L{k}",
                        "published_html": "",
                        "published_minutes": 5,
                        "published_hash": "",
                        "published_revision": 1,
                    }
                )
    _insert("courses_course", courses)
    _insert("courses_module", modules)
    _insert("courses_lesson", lessons)

    # Each learner in two courses; 20,000 lessons x 15 = every lesson row is (user, lesson).
    enrolments, progress, completed = [], [], []
    per_course = MODULES * LESSONS
    for u in range(LEARNERS):
        for course in rng.sample(range(COURSES), 2):
            done = len(progress) < PROGRESS and rng.random() < 0.62
            at = _at(rng)
            enrolment = {
                "user_id": u + 1,
                "course_id": course + 1,
                "company_id": 1 + u % COMPANIES,
                "enrolled_version": 1,
                "enrolled_at": at - timedelta(days=20),
                "last_activity_at": at,
                "completed_at": at if done else None,
                "completed_version": 1 if done else None,
            }
            enrolments.append(enrolment)
            if done:
                completed.append(enrolment)
            lessons_done = per_course if done else rng.randrange(per_course)
            for k in range(lessons_done):
                if len(progress) >= PROGRESS:
                    break
                progress.append(
                    {
                        "user_id": u + 1,
                        "lesson_id": course * per_course + k + 1,
                        "course_id": course + 1,
                        "first_seen_at": at,
                        "done_at": at,
                        "revision": 1,
                    }
                )
    _insert("courses_enrolment", enrolments)
    _insert("courses_lesson_progress", progress)
    counts["enrolments"] = len(enrolments)
    counts["completions"] = len(completed)
    counts["lesson_progress"] = len(progress)
    report("courses, enrolments, lesson progress")

    if "quizzes_attempt" in db.metadata.tables:
        quizzes = [
            {
                "id": c + 1,
                "course_id": c + 1,
                "module_id": None,
                "title": "Final",
                "pass_mark": 70,
                "grading": "highest",
                "shuffle_questions": False,
                "shuffle_options": False,
                "review": {},
            }
            for c in range(COURSES)
        ]
        _insert("quizzes_quiz", quizzes)
        attempts = []
        for n in range(ATTEMPTS):
            user = 1 + n % LEARNERS
            at = _at(rng)
            attempts.append(
                {
                    "quiz_id": 1 + (n // LEARNERS) % COURSES,
                    "user_id": user,
                    "number": 1 + n // (LEARNERS * COURSES),
                    "status": "submitted",
                    "started_at": at,
                    "submitted_at": at,
                    "questions": [],
                    "score": rng.random(),
                    "passed": rng.random() < 0.7,
                    "closed_automatically": False,
                }
            )
        _insert("quizzes_attempt", attempts)
        counts["quiz_attempts"] = len(attempts)
    report("quiz attempts")

    if "certificates_certificate" in db.metadata.tables:
        certificates = []
        for n, enrolment in enumerate(completed[:CERTIFICATES]):
            certificates.append(
                {
                    "code": f"BENCH{n:010d}",
                    "user_id": enrolment["user_id"],
                    "course_id": enrolment["course_id"],
                    "course_version": 1,
                    "sequence": 0,
                    "company_id": enrolment["company_id"],
                    "language": "bg",
                    "issued_at": enrolment["completed_at"],
                    "snapshot": {
                        "learner_name": f"Learner {enrolment['user_id']}",
                        "course_title": "Bench",
                    },
                    "revoked_at": enrolment["completed_at"] + timedelta(days=3)
                    if n % 97 == 0
                    else None,
                }
            )
        _insert("certificates_certificate", certificates)
        counts["certificates"] = len(certificates)
    report("certificates")

    if "courses_event" in db.metadata.tables:
        events, attendance = [], []
        for n in range(SESSIONS):
            at = _at(rng)
            events.append(
                {
                    "id": n + 1,
                    "title": f"Session {n}",
                    "event_type": "webinar",
                    "topic": TOPICS[n % 5],
                    "starts_at": at,
                    "duration_minutes": 90,
                    "delivery_mode": MODES[n % 3],
                    "place": "",
                    "online_url": "",
                    "recording_url": "",
                    "with_ict_norway": n % 10 == 0,
                    "partner": "",
                    "capacity": None,
                    "course_id": (1 + n % COURSES) if n % 2 else None,
                    "description": "",
                    "status": "scheduled",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for user in rng.sample(range(1, LEARNERS + 1), 10):
                attendance.append(
                    {
                        "event_id": n + 1,
                        "user_id": user,
                        "name": "",
                        "email": "",
                        "company": "",
                        "minutes": None,
                        "source": "manual",
                        "recorded_at": at,
                    }
                )
        _insert("courses_event", events)
        _insert("courses_attendance", attendance)
        counts["sessions"] = len(events)
        counts["attendance"] = len(attendance)
    report("live sessions and attendance")
    db.session.commit()
    return counts


def _interleaved(
    baseline: Callable[[], Any], report: Callable[[], Any], repeat: int
) -> tuple[list[float], list[float], list[float]]:
    """Times the baseline and the report alternately (baseline, report, baseline, ...), so
    both see the same load on a shared machine; each report run is compared with the mean
    of the baseline runs before and after it. Returns (baseline s, report s, ratios)."""
    bases, reports, ratios = [], [], []

    def timed(function: Callable[[], Any]) -> float:
        started = time.perf_counter()
        function()
        return time.perf_counter() - started

    before = timed(baseline)
    for _ in range(repeat):
        spent = timed(report)
        after = timed(baseline)
        bases.append(before)
        reports.append(spent)
        ratios.append(spent / ((before + after) / 2))
        before = after
    bases.append(before)
    return bases, reports, ratios


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    low, _median, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, high


def measure(url: str, label: str, repeat: int) -> dict[str, Any]:
    from lms.reports import exports
    from lms.reports.engine import make_period
    from lms.reports.services import LiveReport

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "ENV": "development"})
    results: dict[str, Any] = {"database": label}
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        counts = generate(lambda step: print(f"  [{label}] generated {step}"))
        results["generate_s"] = round(time.perf_counter() - started, 1)
        results["rows"] = counts
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # As after any bulk load: VACUUM sets the visibility map and hint bits that
            # autovacuum would otherwise set in the middle of the timed runs.
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE")
                )
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        period = make_period(*PERIOD)
        bounds = {"start": period.start, "end": period.end}
        if db.engine.dialect.name == "sqlite":  # stored as naive UTC text
            bounds = {k: v.replace(tzinfo=None).isoformat(sep=" ") for k, v in bounds.items()}

        def baseline() -> list:
            rows = db.session.execute(text(BASELINE_SQL), bounds).all()
            db.session.rollback()
            return rows

        def full_report() -> LiveReport:
            live = LiveReport(period)
            db.session.rollback()
            return live

        baseline(), full_report()  # warm caches
        check = sum(n for _g, n in baseline())
        live = full_report()
        completed = live.report.indicator("participants_completed")
        assert completed is not None and completed.value == check, (completed, check)
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        full_report()
        event.remove(db.engine, "before_cursor_execute", count)
        bases, reports, ratios = _interleaved(baseline, full_report, repeat)
        low, high = _quartiles(ratios)
        # The first report of a period not seen before pays for writing its statement out and,
        # on PostgreSQL, preparing it (`lms.reports.statement.run`); later ones do not.
        started = time.perf_counter()
        LiveReport(make_period(*NEW_PERIOD))
        db.session.rollback()
        results["report_new_period_ms"] = round((time.perf_counter() - started) * 1000, 1)
        results.update(
            baseline_ms=round(statistics.median(bases) * 1000, 2),
            report_ms=round(statistics.median(reports) * 1000, 2),
            ratio=round(statistics.median(ratios), 2),
            ratio_quartiles=[round(low, 2), round(high, 2)],
            ratio_range=[round(min(ratios), 2), round(max(ratios), 2)],
            report_statements=len(statements),
            figures={i.key: i.value for i in live.report.indicators},
        )
        started = time.perf_counter()
        body = exports.xlsx_report(live, "en")
        results["xlsx_s"] = round(time.perf_counter() - started, 2)
        results["xlsx_bytes"] = len(body)
        results["xlsx_rows"] = sum(
            sum(1 for _ in live.rows(i.key).rows) for i in live.report.indicators
        )
        del body
        tracemalloc.start()
        exports.xlsx_report(live, "en", output=io.BytesIO())
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results["xlsx_peak_mib"] = round(peak / 2**20, 1)
        db.session.remove()
        db.engine.dispose()
    return results


def _fresh_postgres(server: str) -> tuple[str, Callable[[], None]]:
    url = make_url(server).set(drivername="postgresql+psycopg")
    name = f"lms_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def print_result(result: dict[str, Any]) -> None:
    print(
        f"\n{result['database']}: rows {json.dumps(result['rows'])}\n"
        f"  baseline (one SQL aggregate, completions by gender): {result['baseline_ms']:.1f} ms\n"
        f"  full report ({len(result['figures'])} indicators, splits, monthly trend): "
        f"{result['report_ms']:.1f} ms, {result['report_statements']} SQL statements\n"
        f"  ratio report / baseline = {result['ratio']:.2f}   (goal <= 5; interleaved runs, "
        f"quartiles {result['ratio_quartiles'][0]:.2f}-{result['ratio_quartiles'][1]:.2f}, "
        f"range {result['ratio_range'][0]:.2f}-{result['ratio_range'][1]:.2f})\n"
        f"  first report of a new period: {result['report_new_period_ms']:.1f} ms\n"
        f"  XLSX export: {result['xlsx_s']:.2f} s, {result['xlsx_rows']:,} rows, "
        f"{result['xlsx_bytes'] / 2**20:.1f} MiB file, peak Python memory "
        f"{result['xlsx_peak_mib']:.1f} MiB\n"
        f"  figures: {json.dumps(result['figures'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a fresh database is made)")
    parser.add_argument("--repeat", type=int, default=15, help="timed report runs")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite", args.repeat))
        print_result(results[-1])
    if args.postgres:
        url, drop = _fresh_postgres(args.postgres)
        try:
            results.append(measure(url, "PostgreSQL", args.repeat))
            print_result(results[-1])
        finally:
            drop()
    out = Path(__file__).resolve().parent.parent / "bench-results"
    out.mkdir(exist_ok=True)
    path = out / f"reports-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nSaved {path.relative_to(out.parent)}")


if __name__ == "__main__":
    main()
