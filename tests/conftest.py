"""Shared fixtures. The database backend for the whole run is SQLite in a temporary folder,
or the PostgreSQL named by LMS_TEST_DATABASE_URL. The schema is built once by the real
migrations; every test then starts from empty tables (rows are deleted after each test, which
also works for the live gunicorn servers that share the database)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text

from lms import services
from lms.app import create_app
from lms.database import reset_write_intent, set_write_intent
from lms.extensions import db
from lms.models import Company, User
from lms.sme import is_valid_uic

pytest_plugins = ["tests.support.servers", "tests.support.browser", "tests.support.postgres"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, leave out the tests about SQLite's own behaviour (locks, file modes):
    they are reported as deselected, not skipped."""
    if not os.environ.get("LMS_TEST_DATABASE_URL"):
        return
    keep = [item for item in items if item.get_closest_marker("sqlite_only") is None]
    deselected = [item for item in items if item.get_closest_marker("sqlite_only") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = keep


TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-checks"
#: The certificates' signing key of every test app and test server (never the instance folder).
TEST_KEY_FILE = str(Path(tempfile.gettempdir()) / "lms-tests" / "certificates-ed25519.pem")
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    if url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'lms-test.sqlite3'}"
    app = make_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Tests hold an app context open to use the database; without this, requests would share
    its `g` and database session with the test. The test's own session is rolled back around
    each request, so what the test reads next is what the request committed."""

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        outer = has_app_context()
        if outer:
            db.session.rollback()
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            if outer:
                db.session.rollback()


def make_app(database_url: str, **overrides: Any) -> Flask:
    config = {
        "ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": TEST_SECRET,
        "SERVER_NAME": None,
        "DEFAULT_LANGUAGE": "en",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production uses scrypt
        "CERTIFICATES_KEY_FILE": TEST_KEY_FILE,
        **overrides,
    }
    app = create_app(config)
    app.test_client_class = IsolatedClient
    _apps_to_dispose.append(app)
    return app


_apps_to_dispose: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Close the pooled connections of every app a test made (no leaked connections)."""
    yield
    while _apps_to_dispose:
        app = _apps_to_dispose.pop()
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


def delete_all_rows(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change settings of the `app` fixture."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict[str, Any]) -> Iterator[Flask]:
    app = make_app(database_url, **app_config)
    with app.app_context():
        token = set_write_intent(False)  # the test reads; factories upgrade when they write
        yield app
        reset_write_intent(token)
        db.session.remove()
    delete_all_rows(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    """A CSRF token valid for this client's session, read from a page as a browser would."""
    if not client.application.config.get("WTF_CSRF_ENABLED", True):
        return ""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any):
    """POST like a browser: with the session's CSRF token."""
    payload = {"csrf_token": csrf_token(client), **(data or {})}
    return client.post(path, data=payload, **kwargs)


def login(client: FlaskClient, email: str, password: str = PASSWORD, **kwargs: Any):
    return post_form(client, "/login", {"email": email, "password": password}, **kwargs)


def logout(client: FlaskClient):
    return post_form(client, "/logout")


@pytest.fixture
def create_company(app: Flask) -> Callable[..., Company]:
    valid_uics = (
        uic
        for n in range(20_000_000, 99_999_999)
        for c in range(10)
        if is_valid_uic(uic := f"{n}{c}")
    )

    def factory(name: str = "Test Company Ltd.", uic: str | None = None, **figures: Any) -> Company:
        uic = uic or next(valid_uics)
        company = services.create_company(
            services.CompanyData(name=name, uic=uic),
            services.FiguresData(
                reference_year=figures.get("year", 2025),
                headcount=figures.get("headcount", 12),
                turnover_eur=figures.get("turnover"),
                balance_sheet_eur=figures.get("balance"),
            ),
        )
        db.session.commit()
        return company

    return factory


@pytest.fixture
def create_user(app: Flask) -> Callable[..., User]:
    counter = iter(range(1, 10**6))

    def factory(
        email: str | None = None,
        roles: tuple[str, ...] = ("learner",),
        company: Company | None = None,
        coordinator: bool = False,
        password: str = PASSWORD,
        **profile: Any,
    ) -> User:
        email = email or f"user{next(counter)}@example.org"
        user = services.create_user(
            services.UserData(
                email=email,
                name=profile.pop("name", email.split("@")[0].title()),
                password=password,
                roles=roles,
                language=profile.pop("language", "en"),
                **profile,
            ),
            company=company,
            coordinator=coordinator,
        )
        db.session.commit()
        return user

    return factory


@pytest.fixture
def users(
    create_user: Callable[..., User], create_company: Callable[..., Company]
) -> dict[str, User]:
    """One user per role (the coordinator and the learner in one company, and a second
    company with its own coordinator and learner for isolation tests)."""
    acme = create_company("Acme Green Ltd.")
    other = create_company("Other Company Ltd.")
    return {
        "learner": create_user("learner@example.org", company=acme),
        "trainer": create_user("trainer@example.org", roles=("trainer",)),
        "coordinator": create_user("coordinator@example.org", company=acme, coordinator=True),
        "admin": create_user("admin@example.org", roles=("admin",)),
        "other_learner": create_user("other.learner@example.org", company=other),
        "other_coordinator": create_user(
            "other.coordinator@example.org", company=other, coordinator=True
        ),
    }


@pytest.fixture
def create_course(app: Flask, create_user: Callable[..., User]):
    """Make a course: `modules` x `lessons` lessons with simple Markdown, owned by `owner`
    (a new trainer if not given), published unless `publish=False`."""
    from courses import services as course_services

    counter = iter(range(1, 10**6))

    def factory(
        slug: str | None = None,
        modules: int = 2,
        lessons: int = 2,
        owner: User | None = None,
        publish: bool = True,
        **fields: Any,
    ):
        n = next(counter)
        owner = owner or create_user(f"author{n}@example.org", roles=("trainer",))
        course = course_services.create_course(
            course_services.CourseData(
                slug=slug or f"course-{n}",
                title=fields.pop("title", f"Course {n}"),
                topic=fields.pop("topic", "circular-economy"),
                language=fields.pop("language", "en"),
                summary=fields.pop("summary", "A course for tests."),
                contact_hours=fields.pop("contact_hours", 2),
                self_study_hours=fields.pop("self_study_hours", 3),
                learning_outcomes=fields.pop("learning_outcomes", ["Explain things."]),
                greencomp=fields.pop("greencomp", ["2.1"]),
                **fields,
            ),
            owners=[owner],
        )
        for m in range(1, modules + 1):
            module = course_services.add_module(course, f"Module {m}", f"Summary {m}")
            for k in range(1, lessons + 1):
                course_services.add_lesson(
                    module, f"Lesson {m}.{k}", f"## Part {m}.{k}\n\nText of lesson {m}.{k}.", 5
                )
        if publish:
            course_services.publish_course(course)
        db.session.commit()
        return course

    return factory


@pytest.fixture
def route_arguments(app: Flask, users: dict[str, User], create_course) -> dict[str, Any]:
    """Values for every URL argument in the access matrix: the coordinator's own company, the
    learner, a published course owned by the trainer with the learner enrolled, its first
    module and lesson, and an image of it."""
    arguments: dict[str, Any] = {
        "company_id": users["coordinator"].memberships[0].company_id,
        "user_id": users["learner"].id,
        "token": "forged-token",
    }
    if "courses" in app.extensions["lms_plugins"]:
        from courses import services as course_services

        course = create_course("matrix-course", owner=users["trainer"])
        course_services.enrol(users["learner"], course)
        module = course.published_modules[0]
        lesson = module.published_lessons[0]
        png = (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        media = course_services.add_media(course, "figure.png", png)
        db.session.commit()
        arguments.update(slug=course.slug, course_id=course.id, module_id=module.id,
                         lesson_id=lesson.id, media_id=media.id, name=media.name)
        from datetime import timedelta

        from courses import events as course_events
        from lms.models import utcnow

        # A session of the matrix course in a week, run by its trainer.
        event = course_events.create_event(
            course_events.EventData(
                title="Matrix session", event_type="webinar", topic="circular-economy",
                starts_at=utcnow() + timedelta(days=7), duration_minutes=60, course_id=course.id,
            ),
            by=users["trainer"],
        )
        db.session.commit()
        arguments["event_id"] = event.id
    if "quizzes" in app.extensions["lms_plugins"]:
        from quizzes import services as quiz_services

        made = quiz_services.import_gift(course, "::q1::Two plus two? {=four ~five}", module)
        quiz = quiz_services.set_quiz(course, module, {"title": "Check", "pass_mark": 50}, made)
        attempt = quiz_services.start_attempt(quiz, users["learner"])
        db.session.commit()
        arguments.update(quiz_id=quiz.id, attempt_id=attempt.id)
    if "certificates" in app.extensions["lms_plugins"]:
        from certificates.models import Certificate

        # A second course of the trainer's that the learner has completed: their certificate.
        certified = create_course("matrix-certified", modules=1, lessons=1, owner=users["trainer"])
        course_services.enrol(users["learner"], certified)
        course_services.complete_lesson(
            users["learner"], certified.published_modules[0].published_lessons[0]
        )
        db.session.commit()
        certificate = db.session.scalar(
            select(Certificate).where(Certificate.course_id == certified.id)
        )
        arguments.update(certificate_id=certificate.id, code=certificate.code)
    return arguments
