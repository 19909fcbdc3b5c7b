"""Demo data for `flask lms demo`: companies of the Burgas region and one account per role.

Idempotent: running it again finds what exists by email and UIC and adds only what is missing.
Plugins add their demo content through the `demo-data-requested` signal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from lms import services
from lms.extensions import db
from lms.models import Company, User
from lms.signals import demo_data_requested

DEMO_PASSWORD = "demo-password"  # noqa: S105 - demo only, refused in production
DEMO_ACCOUNTS = {
    "learner": "learner@example.org",
    "trainer": "trainer@example.org",
    "coordinator": "coordinator@example.org",
    "admin": "admin@example.org",
}

# Fictitious companies with valid check digits.
DEMO_COMPANIES = [
    {
        "name": "Black Sea Code Ltd.",
        "uic": "203123451",
        "registered_on": date(2023, 3, 14),
        "nace_code": "62.01",
        "figures": (2025, 8, Decimal("640000"), Decimal("410000")),
    },
    {
        "name": "Burgas Cloud Services JSC",
        "uic": "102543212",
        "registered_on": date(2009, 6, 2),
        "nace_code": "63.11",
        "figures": (2025, 46, Decimal("5200000"), Decimal("3900000")),
    },
    {
        "name": "Sozopol Data Lab",
        "uic": "205678900",
        "registered_on": date(2024, 9, 1),
        "nace_code": "62.02",
        "figures": (2025, 3, Decimal("90000"), Decimal("60000")),
    },
]

# (email, name, roles, company index, coordinator, gender, age band, job role)
DEMO_PEOPLE = [
    (
        "admin@example.org",
        "Мария Иванова",
        ("admin",),
        None,
        False,
        "female",
        "35_44",
        "Project manager, ICT Cluster Burgas",
    ),
    (
        "trainer@example.org",
        "Dr. Lars Nilsen",
        ("trainer",),
        None,
        False,
        "male",
        "45_54",
        "Green ICT trainer",
    ),
    (
        "coordinator@example.org",
        "Елена Петрова",
        ("learner",),
        0,
        True,
        "female",
        "35_44",
        "Operations manager",
    ),
    (
        "learner@example.org",
        "Георги Димитров",
        ("learner",),
        0,
        False,
        "male",
        "25_34",
        "Software developer",
    ),
    (
        "ana.koleva@example.org",
        "Ана Колева",
        ("learner",),
        0,
        False,
        "female",
        "25_34",
        "QA engineer",
    ),
    (
        "ivan.stoyanov@example.org",
        "Иван Стоянов",
        ("learner",),
        1,
        False,
        "male",
        "35_44",
        "System administrator",
    ),
    (
        "desislava.georgieva@example.org",
        "Десислава Георгиева",
        ("learner",),
        1,
        True,
        "female",
        "45_54",
        "HR and training lead",
    ),
    (
        "nikolay.todorov@example.org",
        "Nikolay Todorov",
        ("learner",),
        1,
        False,
        "male",
        "under_25",
        "Junior DevOps engineer",
    ),
    (
        "petya.marinova@example.org",
        "Петя Маринова",
        ("learner",),
        2,
        True,
        "female",
        "25_34",
        "Founder",
    ),
    (
        "kristian.vasilev@example.org",
        "Kristian Vasilev",
        ("learner",),
        2,
        False,
        "other",
        "25_34",
        "Data engineer",
    ),
]


def load_demo_data() -> dict[str, User]:
    """Create what is missing of the demo data; return the demo users by email."""
    if current_app.config["ENV"] == "production":
        raise RuntimeError("Demo data is never loaded in production mode.")
    companies: list[Company] = []
    for spec in DEMO_COMPANIES:
        company = db.session.scalar(select(Company).where(Company.uic == spec["uic"]))
        if company is None:
            year, headcount, turnover, balance = spec["figures"]
            company = services.create_company(
                services.CompanyData(
                    name=spec["name"],
                    uic=spec["uic"],
                    registered_on=spec["registered_on"],
                    nace_code=spec["nace_code"],
                ),
                services.FiguresData(year, headcount, turnover, balance),
            )
        companies.append(company)
    users: dict[str, User] = {}
    for email, name, roles, company_index, coordinator, gender, age_band, job in DEMO_PEOPLE:
        user = services.find_user_by_email(email)
        if user is None:
            company = companies[company_index] if company_index is not None else None
            user = services.create_user(
                services.UserData(
                    email=email,
                    name=name,
                    password=DEMO_PASSWORD,
                    language="en" if email.startswith("trainer") else "bg",
                    gender=gender,
                    age_band=age_band,
                    job_role=job,
                    roles=roles,
                    is_demo=True,
                ),
                company=company,
                coordinator=coordinator,
            )
        users[email] = user
    db.session.flush()
    demo_data_requested.send(current_app._get_current_object(), users=users, companies=companies)
    return users
