"""The grant report engine: every indicator on a hand-built data set with known answers.

The data set (period: Q2 2025, Europe/Sofia):
- Alpha (micro), Beta (large in 2023, small in 2024), Gamma (small start-up, registered 2023);
- Ana (female, 25-34, Alpha) completes course X on 10 April and course Y on 5 May: one person;
- Boris (male, 35-44, Beta) completes X at 23:30 UTC on 31 March: 1 April in Sofia, so in Q2;
- Vera (no gender given, Gamma) completes X at 23:00 Sofia on 30 June (in Q2) and Y at 00:30
  Sofia on 1 July (not in Q2);
- Dora (Alpha) is enrolled in X but never completes it;
- Emil (Beta) completes X at 23:00 Sofia on 31 March: not in Q2;
- Filip (Beta) completes X on 1 June 2024, when Beta's latest closed year (2023) was large;
- certificates: Ana 2 (April, May), Boris 1 revoked on 20 May and reissued the same day.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, literal, literal_column, select, text

from certificates.models import Certificate
from courses.models import Enrolment
from lms.extensions import db
from lms.models import CompanyFigures, User
from lms.reports import Period, Source, fact_columns
from lms.reports.definitions import DEFAULTS, load_definitions
from lms.reports.engine import ReportEngine, compute_report, make_period
from lms.signals import get_report_indicators

Q2 = (date(2025, 4, 1), date(2025, 6, 30))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def complete(user, course, at: datetime | None, company=None) -> Enrolment:  # noqa: ANN001
    enrolment = Enrolment(
        user_id=user.id,
        course_id=course.id,
        company_id=(company or user.primary_company).id if (company or user.memberships) else None,
        enrolled_version=course.version,
        enrolled_at=utc(2024, 1, 2),
        completed_at=at,
        completed_version=course.version if at else None,
    )
    db.session.add(enrolment)
    return enrolment


def certify(user, course, at: datetime, code: str, revoked_at=None, sequence=0):  # noqa: ANN001
    certificate = Certificate(
        code=code,
        user_id=user.id,
        course_id=course.id,
        course_version=course.version,
        sequence=sequence,
        company_id=user.primary_company.id,
        language="en",
        snapshot={"learner_name": user.name, "course_title": course.title},
        issued_at=at,
        revoked_at=revoked_at,
        revoked_reason="Issued with a typo." if revoked_at else None,
    )
    db.session.add(certificate)
    return certificate


@pytest.fixture
def report_data(create_company, create_user, create_course):  # noqa: ANN001, ANN201
    alpha = create_company("Alpha Ltd.", headcount=5, year=2024)
    beta = create_company("Beta Ltd.", headcount=300, year=2023)
    db.session.add(CompanyFigures(company_id=beta.id, reference_year=2024, headcount=20))
    gamma = create_company("Gamma Ltd.", headcount=15, year=2024)
    gamma.registered_on = date(2023, 1, 1)
    x = create_course(title="Course X", topic="circular-economy", contact_hours=2)
    y = create_course(
        title="Course Y", topic="green-innovation", contact_hours=3, delivery_mode="blended"
    )
    people = {
        "ana": create_user(
            "ana@example.org", company=alpha, gender="female", age_band="25_34", name="Ana"
        ),
        "boris": create_user(
            "boris@example.org", company=beta, gender="male", age_band="35_44", name="Boris"
        ),
        "vera": create_user("vera@example.org", company=gamma, name="Vera"),
        "dora": create_user("dora@example.org", company=alpha, gender="female", name="Dora"),
        "emil": create_user("emil@example.org", company=beta, gender="male", name="Emil"),
        "filip": create_user("filip@example.org", company=beta, gender="male", name="Filip"),
        "galia": create_user("galia@example.org", gender="female", name="Galia"),
    }
    complete(people["ana"], x, utc(2025, 4, 10, 9))
    complete(people["ana"], y, utc(2025, 5, 5, 9))
    complete(people["boris"], x, utc(2025, 3, 31, 23, 30))
    complete(people["vera"], x, utc(2025, 6, 30, 20))
    complete(people["vera"], y, utc(2025, 6, 30, 21, 30))
    complete(people["dora"], x, None)
    complete(people["emil"], x, utc(2025, 3, 31, 20))
    complete(people["filip"], x, utc(2024, 6, 1, 9))
    certify(people["ana"], x, utc(2025, 4, 10, 9), "CERT-ANA-X")
    certify(people["ana"], y, utc(2025, 5, 5, 9), "CERT-ANA-Y")
    certify(people["boris"], x, utc(2025, 3, 31, 23, 30), "CERT-BOR-1", revoked_at=utc(2025, 5, 20))
    certify(people["boris"], x, utc(2025, 5, 20), "CERT-BOR-2", sequence=1)
    db.session.commit()
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "x": x, "y": y, **people}


@contextmanager
def receiver(function) -> Iterator[None]:  # noqa: ANN001
    get_report_indicators.connect(function)
    try:
        yield
    finally:
        get_report_indicators.disconnect(function)


def attendance(emails: list[str], at: datetime, key: str = "courses.event_attendance"):  # noqa: ANN201
    """A fake plugin answering the awareness events source: the people with these emails
    attended event 1 at `at`."""

    def answer(sender=None, **kwargs):  # noqa: ANN001, ANN202
        facts = select(
            *fact_columns(
                at=literal(at, User.created_at.type),
                person_id=User.id,
                event_id=1,
                topic="climate-neutrality",
                delivery_mode="online",
                hours=Decimal("1.5"),
            )
        ).where(User.email.in_(emails))
        return Source(key, facts, "Fake event attendance")

    return answer


def q2() -> Period:
    return make_period(*Q2)


def figures(period: Period | None = None):  # noqa: ANN201
    report = compute_report(period or q2())
    return {i.key: i for i in report.indicators}


def test_default_definitions_follow_domain_md(app) -> None:  # noqa: ANN001
    keys = [d.key for d in load_definitions()]
    assert keys == [d.key for d in DEFAULTS]
    assert keys[:7] == [
        "courses_delivered",
        "participants_completed",
        "awareness_participants",
        "enterprises_supported",
        "certificates_issued",
        "improved_skills",
        "training_hours",
    ]


def test_participants_completed_counts_each_person_once(report_data) -> None:  # noqa: ANN001
    result = figures()["participants_completed"]
    assert result.value == 3  # Ana (twice), Boris (1 April local), Vera (30 June)
    assert result.splits["gender"] == {"female": 1, "male": 1, "not_stated": 1}
    assert result.splits["age_band"] == {"25_34": 1, "35_44": 1, "not_stated": 1}
    assert result.splits["size_class"] == {"micro": 1, "small": 2}
    assert result.splits["startup"] == {"startup": 1, "not_startup": 2}
    assert dict(result.months) == {"2025-04": 2, "2025-05": 0, "2025-06": 1}


def test_people_without_a_company_are_split_as_no_company(report_data) -> None:  # noqa: ANN001
    """The size class and start-up splits still add up to the total when some people have no
    company (the report counts them as everyone less those with one)."""
    complete(report_data["galia"], report_data["y"], utc(2025, 5, 10, 9))
    db.session.commit()
    result = figures()["participants_completed"]
    assert result.value == 4
    assert result.splits["size_class"] == {"micro": 1, "small": 2, "no_company": 1}
    assert result.splits["startup"] == {"startup": 1, "not_startup": 2, "no_company": 1}
    assert figures()["enterprises_supported"].value == 3


def test_a_tie_at_the_same_instant_goes_to_the_known_company_then_the_smaller_id(
    report_data, create_user
) -> None:  # noqa: ANN001
    """A person's first fact decides their company: at the same instant, a fact with a
    company before one without, and the company with the smaller id between two. The figure
    and the drill-down agree (both find first facts with `statement.first_facts`, which on
    SQLite groups instead of numbering)."""
    at = utc(2025, 5, 12, 8)
    galia = report_data["galia"]  # no company of her own
    complete(galia, report_data["x"], at)
    complete(galia, report_data["y"], at, company=report_data["beta"])
    hristo = create_user("hristo@example.org", name="Hristo", gender="male")
    assert report_data["alpha"].id < report_data["gamma"].id
    complete(hristo, report_data["x"], at, company=report_data["gamma"])
    complete(hristo, report_data["y"], at, company=report_data["alpha"])
    db.session.commit()
    result = figures()["participants_completed"]
    assert result.value == 5
    assert result.splits["size_class"] == {"micro": 2, "small": 3}  # Galia: Beta; Hristo: Alpha
    assert result.splits["startup"] == {"startup": 1, "not_startup": 4}
    engine = ReportEngine(q2())
    definition = next(d for d in engine.definitions if d.key == "participants_completed")
    micro = engine.rows(definition, "size_class", "micro")
    assert sorted(r[0] for r in micro.rows) == ["Ana", "Hristo"]
    small = engine.rows(definition, "size_class", "small")
    assert sorted(r[0] for r in small.rows) == ["Boris", "Galia", "Vera"]


def test_time_zone_moves_a_late_utc_completion_into_the_next_local_month(report_data) -> None:  # noqa: ANN001
    march = figures(make_period(date(2025, 3, 1), date(2025, 3, 31)))
    # Emil (23:00 Sofia, 31 March) is in March; Boris (23:30 UTC = 02:30 Sofia, 1 April) is not.
    assert march["participants_completed"].value == 1
    engine = ReportEngine(make_period(date(2025, 3, 1), date(2025, 3, 31)))
    definition = next(d for d in engine.definitions if d.key == "participants_completed")
    assert [r[0] for r in engine.rows(definition).rows] == ["Emil"]
    april_first = figures(make_period(date(2025, 4, 1), date(2025, 4, 1)))
    assert april_first["participants_completed"].value == 1  # Boris


def test_period_boundaries_are_local_days_inclusive(report_data) -> None:  # noqa: ANN001
    june = figures(make_period(date(2025, 6, 30), date(2025, 6, 30)))
    assert june["participants_completed"].value == 1  # Vera's X at 23:00 on 30 June
    assert june["training_hours"].value == 2  # her Y (00:30 on 1 July) is not in June
    july = figures(make_period(date(2025, 7, 1), date(2025, 7, 31)))
    assert july["participants_completed"].value == 1
    assert july["training_hours"].value == 3


def test_enterprises_supported_with_size_class_of_the_year_before(report_data) -> None:  # noqa: ANN001
    result = figures()["enterprises_supported"]
    assert result.value == 3
    # Beta was large in 2023 and small in 2024: supported in 2025, its 2024 figures count.
    assert result.splits["size_class"] == {"micro": 1, "small": 2}
    assert result.splits["sme"] == {"sme": 3}
    assert result.splits["startup"] == {"startup": 1, "not_startup": 2}
    year_2024 = figures(make_period(date(2024, 1, 1), date(2024, 12, 31)))["enterprises_supported"]
    # Filip's completion in June 2024: Beta's latest closed year then was 2023 (large).
    assert year_2024.value == 1
    assert year_2024.splits["size_class"] == {"large": 1}
    assert year_2024.splits["sme"] == {"not_sme": 1}


def test_the_year_of_support_and_the_start_up_window_are_local_days(
    report_data, create_user
) -> None:  # noqa: ANN001
    """Size class and start-up status follow the day of support in Sofia, not in UTC: 00:30 on
    1 January is the new year (its figures: the year before), and 00:30 on the day after a
    start-up's last day is past it, though both are still the day before in UTC."""
    gamma, beta = report_data["gamma"], report_data["beta"]
    gamma.registered_on = date(2020, 6, 30)  # a start-up until 30 June 2025 (60 months)
    late = create_user("late@example.org", company=gamma, name="Late")
    complete(late, report_data["y"], utc(2025, 6, 30, 21, 30))  # 00:30 on 1 July in Sofia
    new_year = create_user("new-year@example.org", company=beta, name="Nia")
    complete(new_year, report_data["x"], utc(2024, 12, 31, 22, 30))  # 00:30, 1 January 2025
    db.session.commit()
    last_day = figures(make_period(date(2025, 6, 30), date(2025, 6, 30)))
    assert last_day["enterprises_supported"].splits["startup"] == {"startup": 1}  # Vera, 23:00
    day_after = figures(make_period(date(2025, 7, 1), date(2025, 7, 1)))
    assert day_after["enterprises_supported"].splits["startup"] == {"not_startup": 1}
    assert day_after["participants_completed"].splits["startup"] == {"not_startup": 2}  # + Vera
    january = figures(make_period(date(2025, 1, 1), date(2025, 1, 31)))
    assert january["enterprises_supported"].splits["size_class"] == {"small": 1}  # 2024's
    assert january["participants_completed"].splits["size_class"] == {"small": 1}


def test_courses_delivered_and_training_hours(report_data) -> None:  # noqa: ANN001
    result = figures()
    assert result["courses_delivered"].value == 2
    assert result["courses_delivered"].splits["topic"] == {
        "circular-economy": 1,
        "green-innovation": 1,
    }
    hours = result["training_hours"]
    # Contact hours x participants: X (2 h) x Ana, Boris, Vera + Y (3 h) x Ana = 9.
    assert hours.value == 9
    assert hours.splits["topic"] == {"circular-economy": 6, "green-innovation": 3}
    assert hours.splits["delivery_mode"] == {"blended": 3, "online": 6}


def test_certificates_issued_and_revoked_separately(report_data) -> None:  # noqa: ANN001
    result = figures()
    assert result["certificates_issued"].value == 3  # Ana x2, Boris's reissue
    assert result["certificates_revoked"].value == 1
    march = figures(make_period(date(2025, 3, 1), date(2025, 3, 31)))
    assert march["certificates_issued"].value == 0  # Boris's first certificate was revoked


def test_uncontributed_indicators_show_zero(report_data) -> None:  # noqa: ANN001
    from dataclasses import replace

    # Live events and surveys are answered by courses/event_indicators.py; a source that no
    # plugin answers (a plugin switched off, or not written yet) counts 0, flagged.
    definitions = [*DEFAULTS, replace(DEFAULTS[2], key="future_events", sources=("x.events",))]
    result = {i.key: i for i in ReportEngine(q2(), definitions).compute().indicators}
    assert result["future_events"].value == 0
    assert result["future_events"].contributed is False
    assert result["future_events"].months == [("2025-04", 0), ("2025-05", 0), ("2025-06", 0)]
    assert result["participants_completed"].contributed is True
    # No events and no self-assessments in the data set: answered, and 0.
    assert result["awareness_participants"].value == 0
    assert result["improved_skills"].value == 0


def test_awareness_is_kept_apart_from_completions(report_data) -> None:  # noqa: ANN001
    # Ana completed a course and attended the webinar; Galia only attended.
    with receiver(attendance(["ana@example.org", "galia@example.org"], utc(2025, 5, 12, 8))):
        result = figures()
        assert result["awareness_participants"].contributed is True
        assert result["awareness_participants"].value == 2
        assert result["awareness_participants"].splits["gender"] == {"female": 2}
        # The fake attendance records no company: people are counted without one.
        assert result["awareness_participants"].splits["size_class"] == {"no_company": 2}
        assert result["participants_completed"].value == 3  # unchanged by the events
        outside = figures(make_period(date(2025, 1, 1), date(2025, 3, 31)))
        assert outside["awareness_participants"].value == 0


def test_improved_skills_is_anonymous_and_counted_once(report_data) -> None:  # noqa: ANN001
    def skills(sender=None, **kwargs):  # noqa: ANN001, ANN202
        # Two answered self-assessments by Ana, one by Vera.
        rows = [
            select(
                *fact_columns(at=literal(utc(2025, 5, 1), User.created_at.type), person_id=User.id)
            ).where(User.email.in_(emails))
            for emails in (["ana@example.org", "vera@example.org"], ["ana@example.org"])
        ]
        return [Source("courses.improved_skills", r, anonymous=True) for r in rows]

    with receiver(skills):
        engine = ReportEngine(q2())
        result = {i.key: i for i in engine.compute().indicators}["improved_skills"]
        assert result.value == 2
        assert result.anonymous is True
        assert result.splits == {}  # no gender or company splits for anonymous answers
        definition = next(d for d in engine.definitions if d.key == "improved_skills")
        table = engine.rows(definition)
        assert table.columns == ("first_date",)
        assert list(table.rows) == [(date(2025, 5, 1),), (date(2025, 5, 1),)]


def test_drill_down_lists_the_people_and_companies_behind_a_figure(report_data) -> None:  # noqa: ANN001
    engine = ReportEngine(q2())
    by_key = {d.key: d for d in engine.definitions}
    people = engine.rows(by_key["participants_completed"])
    assert [r[0] for r in people.rows] == ["Boris", "Ana", "Vera"]
    women = engine.rows(by_key["participants_completed"], "gender", "female")
    assert [r[0] for r in women.rows] == ["Ana"]
    small = engine.rows(by_key["participants_completed"], "size_class", "small")
    assert sorted(r[0] for r in small.rows) == ["Boris", "Vera"]
    june = engine.rows(by_key["participants_completed"], "month", "2025-06")
    assert [r[0] for r in june.rows] == ["Vera"]
    companies = engine.rows(by_key["enterprises_supported"])
    assert [(r[0], r[2], r[4]) for r in companies.rows] == [
        ("Alpha Ltd.", "micro", "not_startup"),
        ("Beta Ltd.", "small", "not_startup"),
        ("Gamma Ltd.", "small", "startup"),
    ]
    facts = list(engine.rows(by_key["certificates_issued"]).rows)
    assert [r[4] for r in facts] == ["CERT-ANA-X", "CERT-ANA-Y", "CERT-BOR-2"]


def test_definitions_restrict_courses_and_targets(report_data) -> None:  # noqa: ANN001
    from lms.reports.definitions import ensure_saved
    from lms.reports.models import IndicatorDefinition

    ensure_saved()
    row = db.session.scalar(
        select(IndicatorDefinition).where(IndicatorDefinition.key == "participants_completed")
    )
    row.course_ids = [report_data["y"].id]
    row.target = Decimal(40)
    hours = db.session.scalar(
        select(IndicatorDefinition).where(IndicatorDefinition.key == "training_hours")
    )
    hours.enabled = False
    db.session.commit()
    result = figures()
    assert result["participants_completed"].value == 1  # only Ana completed Y in Q2
    assert result["participants_completed"].target == 40
    assert "training_hours" not in result
    assert db.session.scalar(select(func.count(IndicatorDefinition.id))) == len(DEFAULTS)


def test_cumulative_counts_everyone_since_project_start(report_data, app) -> None:  # noqa: ANN001
    app.config["REPORT_PROJECT_START"] = "2024-01-01"
    period = make_period(None, None, cumulative=True)
    assert period.first_day == date(2024, 1, 1)
    result = figures(period)
    # Ana, Boris, Vera, Emil, Filip (Dora never completed).
    assert result["participants_completed"].value == 5
    assert result["enterprises_supported"].value == 3
    assert result["courses_delivered"].value == 2


def test_report_needs_few_statements(report_data) -> None:  # noqa: ANN001
    from tests.support.measure import counted_statements

    compute_report(q2())  # the statement is built and cached by the first report
    with counted_statements() as statements:
        compute_report(q2())
    # Definitions, companies, then one UNION ALL statement for every figure and split.
    assert len(statements) <= 4, "\n".join(statements)


@pytest.fixture
def postgres_report_app(fresh_postgres_url):  # noqa: ANN001, ANN201
    """An app on a fresh PostgreSQL database with two completions in Q2 2025."""
    from courses import services as course_services
    from lms import services
    from tests.conftest import make_app

    app = make_app(fresh_postgres_url)
    with app.app_context():
        db.create_all()
        company = services.create_company(
            services.CompanyData(name="Delta Ltd.", uic="121212121"),
            services.FiguresData(reference_year=2024, headcount=4),
        )
        owner = services.create_user(
            services.UserData(
                email="owner@example.org", name="Owner", password="x" * 12, roles=("trainer",)
            )
        )
        course = course_services.create_course(
            course_services.CourseData(
                slug="pg", title="PG", topic="circular-economy", language="en", summary="S."
            ),
            owners=[owner],
        )
        for n, gender in enumerate(("female", "male")):
            person = services.create_user(
                services.UserData(
                    email=f"p{n}@example.org",
                    name=f"P{n}",
                    password="x" * 12,
                    roles=("learner",),
                    gender=gender,
                ),
                company=company,
            )
            complete(person, course, utc(2025, 4, 10 + n, 9), company=company)
        db.session.commit()
        yield app
        db.session.remove()


def _prepared_names() -> list[str]:
    return list(
        db.session.scalars(
            select(literal_column("name"))
            .select_from(text("pg_prepared_statements"))
            .where(literal_column("name").like("lms_report_%"))
        )
    )


def test_on_postgresql_the_report_is_prepared_once_and_outlives_the_rollback(
    postgres_report_app,
) -> None:  # noqa: ANN001
    """The second report of a period only executes the statement the first one prepared on
    the connection, though the request in between ended with a rollback; figures are the
    same."""
    from tests.support.measure import counted_statements

    with counted_statements() as first:
        before = {i.key: i.value for i in compute_report(q2()).indicators}
    db.session.rollback()
    with counted_statements() as second:
        after = {i.key: i.value for i in compute_report(q2()).indicators}
    assert before == after
    assert before["participants_completed"] == 2
    assert any(s.startswith("PREPARE lms_report_") for s in first)
    assert not any(s.startswith("PREPARE") for s in second)
    assert sum(s.startswith("EXECUTE lms_report_") for s in second) == 1
    assert len(_prepared_names()) == 1


def test_on_postgresql_a_connection_keeps_a_bounded_number_of_report_statements(
    postgres_report_app,
) -> None:  # noqa: ANN001
    from lms.reports.statement import PREPARED_PER_CONNECTION

    months = [make_period(date(2025, m, 1), date(2025, m, 28)) for m in range(1, 13)]
    for period in months:
        compute_report(period)
        db.session.rollback()
    names = _prepared_names()
    assert len(names) == PREPARED_PER_CONNECTION
    assert set(names) == set(db.session.connection().info["lms_report_prepared"])
    assert {i.key: i.value for i in compute_report(make_period(*Q2)).indicators}[
        "participants_completed"
    ] == 2


def test_on_postgresql_with_the_drivers_own_preparation_the_report_prepares_nothing(
    postgres_report_app,
) -> None:  # noqa: ANN001
    """psycopg's automatic preparation ends in DEALLOCATE ALL after a rollback; with it on,
    the report runs its statement unprepared rather than lose track of what is prepared."""
    from tests.support.measure import counted_statements

    prepared = {i.key: i.value for i in compute_report(q2()).indicators}
    db.session.rollback()
    driver = db.session.connection().connection.driver_connection
    driver.prepare_threshold = 5
    with counted_statements() as statements:
        plain = {i.key: i.value for i in compute_report(q2()).indicators}
    assert plain == prepared
    assert not any(s.startswith(("PREPARE", "EXECUTE")) for s in statements)
