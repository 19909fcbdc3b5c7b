"""SQL statements per page, counted in-process on purpose-built data sets."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from lms import services
from lms.app import create_app
from lms.extensions import db
from lms.sme import is_valid_uic

PASSWORD = "bench-password-1"


def _app(path: Path) -> Flask:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        db.create_all()
    return app


def _uic(n: int) -> str:
    base = 300_000_000 + n * 10
    return next(str(base + d) for d in range(10) if is_valid_uic(str(base + d)))


def _populate(companies: int, users_per_company: int) -> list:
    made = []
    for c in range(companies):
        company = services.create_company(
            services.CompanyData(name=f"Bench {c}", uic=_uic(c)),
            services.FiguresData(reference_year=2025, headcount=10),
        )
        made.append(company)
        for u in range(users_per_company):
            services.create_user(
                services.UserData(
                    email=f"b{c}-{u}@example.org", name=f"B {c} {u}", password=PASSWORD
                ),
                company=company,
                coordinator=(u == 0),
            )
    db.session.commit()
    return made


def _client(app: Flask, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    return client


@contextmanager
def _counting(app: Flask):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _count_get(app: Flask, client, path: str) -> int:  # noqa: ANN001
    client.get(path)
    with _counting(app) as statements:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    return len(statements)


def count_home_page_queries(directory: Path) -> tuple[dict[str, int], dict[str, int]]:
    results = []
    for name, companies, per_company in (("small", 5, 10), ("large", 100, 10)):
        app = _app(directory / f"home-{name}.sqlite3")
        with app.app_context():
            _populate(companies, per_company)
        queries = _count_get(app, _client(app, "b0-1@example.org"), "/")
        results.append(
            {"companies": companies, "users": companies * per_company, "queries": queries}
        )
    return results[0], results[1]


def _course(slug: str, modules: int, lessons: int, owner):  # noqa: ANN001, ANN202
    from courses import services as cs

    course = cs.create_course(
        cs.CourseData(slug=slug, title=slug, topic="circular-economy", language="en"),
        owners=[owner],
    )
    for m in range(modules):
        module = cs.add_module(course, f"Module {m}")
        for k in range(lessons):
            cs.add_lesson(module, f"Lesson {m}.{k}", f"## Part\n\nText {m}.{k} " * 20, 5)
    cs.publish_course(course)
    return course


def count_lesson_and_matrix_queries(directory: Path) -> dict[str, int]:
    from courses import services as cs
    from lms.models import User

    app = _app(directory / "courses.sqlite3")
    with app.app_context():
        companies = _populate(1, 201)  # b0-0 coordinates 200 colleagues
        owner = services.create_user(
            services.UserData(
                email="trainer@example.org", name="T", password=PASSWORD, roles=("trainer",)
            )
        )
        learner = db.session.query(User).filter_by(email="b0-1@example.org").one()
        small = _course("small", 1, 2, owner)
        large = _course("large", 10, 8, owner)
        staff = db.session.query(User).filter(User.email.like("b0-%")).all()
        courses = [small, large] + [_course(f"extra-{i}", 1, 3, owner) for i in range(8)]
        for course in courses:
            for person in staff[1:]:
                cs.enrol(person, course)
        for lesson in large.published_modules[0].published_lessons:
            cs.complete_lesson(learner, lesson)
        db.session.commit()
        paths = {
            name: f"/courses/{c.slug}/lessons/{c.published_modules[-1].published_lessons[-1].id}"
            for name, c in (("small", small), ("large", large))
        }
        company_id = companies[0].id
        small_lessons = 2
        large_lessons = 80
    client = _client(app, "b0-1@example.org")
    result = {
        "lesson_small": _count_get(app, client, paths["small"]),
        "lesson_large": _count_get(app, client, paths["large"]),
        "small_lessons": small_lessons,
        "large_lessons": large_lessons,
        "enrolments": 200 * 10,
    }
    coordinator = _client(app, "b0-0@example.org")
    result["matrix"] = _count_get(app, coordinator, f"/courses/progress/company/{company_id}")
    result["matrix_learners"] = 200
    result["matrix_courses"] = 10
    return result
