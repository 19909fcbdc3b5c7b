"""SECURITY.md, faults: error pages in production mode show no internals and every 5xx is logged
with a request id; a database lock answers 503 with Retry-After, then the retry succeeds exactly
once (in the test client and against gunicorn); a read-only database keeps reads and public
verification working and answers writes with 503; a failure injected in the middle of a quiz
submission or a certificate issuance leaves nothing half-written. (Migrations down and up:
tests/core/test_migrations.py; online backup: tests/core/test_backup.py; PostgreSQL outage:
test_faults_postgres.py.)"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import abort
from sqlalchemy import func, select

from certificates.models import Certificate, CertificateDocument
from certificates.signals import certificate_issued
from courses.models import Enrolment, LessonProgress, ModuleCompletion
from lms.extensions import db
from lms.models import User
from quizzes.models import Answer, Attempt
from tests.conftest import login, make_app, post_form
from tests.quizzes.test_attempts import answers_form, qids, start


def count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


@contextmanager
def failing_issuance() -> Iterator[list]:
    """Make issuance fail after the certificate and its PDF are written, before the end of
    the transaction (a receiver of `certificate-issued` that raises)."""
    calls: list = []

    def explode(sender, **kwargs) -> None:  # noqa: ANN001
        calls.append(sender.code)
        raise RuntimeError("injected failure")

    certificate_issued.connect(explode)
    try:
        yield calls
    finally:
        certificate_issued.disconnect(explode)


def test_failure_during_quiz_submit_leaves_nothing_half_written(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    lesson = course.published_modules[0].published_lessons[0]
    post_form(client, f"/courses/{course.slug}/lessons/{lesson.id}/done")
    attempt_id = start(client, quiz)
    form = answers_form(quiz, right=True)
    form.pop(f"q-{qids(quiz)['essay']}")

    with failing_issuance() as calls:
        response = post_form(
            client, f"/quizzes/attempts/{attempt_id}", {**form, "action": "submit"}
        )
    assert response.status_code == 500 and calls  # the fault struck after scoring and issuing
    assert "injected" not in response.get_data(as_text=True)
    attempt = db.session.get(Attempt, attempt_id)
    assert (
        attempt.submitted_at is None and attempt.status == "in_progress" and attempt.score is None
    )
    assert count(Answer) == 0 and count(ModuleCompletion) == 0
    assert count(Certificate) == 0 and count(CertificateDocument) == 0
    assert db.session.scalar(select(Enrolment.completed_at)) is None

    response = post_form(client, f"/quizzes/attempts/{attempt_id}", {**form, "action": "submit"})
    assert response.status_code == 302
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "finished" and attempt.passed
    assert count(Answer) == len(quiz.slots) and count(Certificate) == 1
    again = post_form(client, f"/quizzes/attempts/{attempt_id}", {**form, "action": "submit"})
    assert again.status_code == 409 and count(Certificate) == 1


def test_failure_during_issuance_leaves_nothing_half_written(client, users, create_course):
    course = create_course("faulty", modules=1, lessons=2)
    first, last = course.published_modules[0].published_lessons
    login(client, "learner@example.org")
    post_form(client, f"/courses/{course.slug}/enrol")
    assert post_form(client, f"/courses/{course.slug}/lessons/{first.id}/done").status_code == 302

    with failing_issuance():
        response = post_form(client, f"/courses/{course.slug}/lessons/{last.id}/done")
    assert response.status_code == 500
    assert (
        count(LessonProgress) == 1 and count(Certificate) == 0 and count(CertificateDocument) == 0
    )
    assert count(ModuleCompletion) == 0
    assert db.session.scalar(select(Enrolment.completed_at)) is None

    assert post_form(client, f"/courses/{course.slug}/lessons/{last.id}/done").status_code == 302
    assert (
        count(LessonProgress) == 2 and count(Certificate) == 1 and count(CertificateDocument) == 1
    )
    assert db.session.scalar(select(Enrolment.completed_at)) is not None


# --- error pages and database faults (from tests/core/test_errors.py) ---------------------


INTERNALS = ("Traceback", "sqlalchemy", 'File "', "/work/", "site-packages", "SELECT ", "sqlite3")


def assert_no_internals(body: str) -> None:
    for marker in INTERNALS:
        assert marker not in body, marker


@pytest.fixture
def faulty_app(database_url):
    app = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.route("/_boom")
    def boom():
        raise RuntimeError("secret internals /work/main/lms/x.py SELECT * FROM user")

    @app.route("/_abort/<int:code>")
    def abort_with(code):
        abort(code)

    return app


@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429, 500, 503])
def test_error_pages_show_a_message_and_no_internals(faulty_app, code):
    response = faulty_app.test_client().get(f"/_abort/{code}")
    assert response.status_code == code
    body = response.get_data(as_text=True)
    assert f">{code}<" in body
    assert_no_internals(body)
    if code == 503:
        assert response.headers["Retry-After"]


def test_unhandled_exception_is_logged_with_request_id_and_hidden(faulty_app, caplog):
    response = faulty_app.test_client().get("/_boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert_no_internals(body)
    request_id = response.headers["X-Request-ID"]
    assert request_id in body
    records = [r for r in caplog.records if request_id in r.getMessage()]
    assert records and records[0].exc_info is not None


def test_json_clients_get_json_errors(faulty_app):
    response = faulty_app.test_client().get("/nowhere", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "Page not found"


@pytest.mark.sqlite_only
def test_database_locked_answers_503_then_retry_succeeds_once(database_url, create_user):
    app = make_app(database_url, SQLITE_BUSY_TIMEOUT=0.3)
    with app.app_context():
        create_user("ana@example.org")
        client = app.test_client()
        token_page = client.get("/register")
        assert token_page.status_code == 200
        path = database_url.removeprefix("sqlite:///")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            response = post_form_from(client, "/register", REGISTRATION)
            assert response.status_code == 503
            assert response.headers["Retry-After"]
            assert_no_internals(response.get_data(as_text=True))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        response = post_form_from(client, "/register", REGISTRATION)
        assert response.status_code == 302
        emails = db.session.scalars(select(User.email)).all()
        assert sorted(emails) == ["ana@example.org", "new@example.org"]
        db.engine.dispose()


REGISTRATION = {
    "name": "New Person",
    "email": "new@example.org",
    "password": "long-enough-password",
    "password_confirm": "long-enough-password",
    "language": "en",
    "accept_privacy": "y",
}


def post_form_from(client, path, data):
    from tests.conftest import CSRF_RE

    html = client.get(path).get_data(as_text=True)
    token = CSRF_RE.search(html).group(1)
    return client.post(path, data={"csrf_token": token, **data})


@pytest.mark.sqlite_only
def test_read_only_database_keeps_reads_and_refuses_writes(database_url, tmp_path, create_user):
    create_user("ana@example.org")
    source = Path(database_url.removeprefix("sqlite:///"))
    copy = tmp_path / "readonly.sqlite3"
    backup = sqlite3.connect(copy)
    sqlite3.connect(source).backup(backup)
    backup.execute("PRAGMA journal_mode=DELETE")
    backup.close()
    app = make_app(f"sqlite:///file:{copy}?mode=ro&uri=true", SQLITE_BUSY_TIMEOUT=0.3)
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200
    response = post_form_from(client, "/register", REGISTRATION)
    assert response.status_code == 503
    with app.app_context():
        db.engine.dispose()


def test_healthz_reports_unreachable_database(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/missing-dir/nope.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}


def test_concurrent_writers_wait_instead_of_failing(database_url, create_user):
    """Several threads writing at once: BEGIN IMMEDIATE plus the busy timeout serialise them."""
    app = make_app(database_url)
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            client = app.test_client()
            data = {**REGISTRATION, "email": f"p{i}@example.org"}
            response = post_form_from(client, "/register", data)
            assert response.status_code == 302, response.status_code
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.session.scalar(select(func.count(User.id))) == 8
    with app.app_context():
        db.engine.dispose()


# --- against gunicorn -------------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.sqlite_only
def test_database_locked_under_gunicorn_answers_503_then_the_retry_succeeds_once(
    app, database_url, tmp_path
):
    """An outside connection holds an exclusive lock: the workers answer 503 with Retry-After
    (never 500, no internals); once it is released the same form succeeds, exactly once."""
    from tests.support.http import Session
    from tests.support.servers import start_gunicorn, stop_server

    server = start_gunicorn(
        database_url, workers=2, env={"LMS_SQLITE_BUSY_TIMEOUT": "0.3"}, log_dir=tmp_path
    )
    try:
        browser = Session(server.url)
        token = browser.csrf("/register")
        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            locked = [browser.post("/register", REGISTRATION, token) for _ in range(3)]
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        for reply in locked:
            assert reply.status == 503, reply.status
            assert int(reply.headers["Retry-After"]) >= 1
            assert_no_internals(reply.text)
        db.session.rollback()
        assert db.session.scalar(select(func.count(User.id))) == 0  # nothing stored meanwhile
        assert browser.post("/register", REGISTRATION, token).status == 302
        again = Session(server.url)
        assert again.post("/register", REGISTRATION, again.csrf("/register")).status == 200
        db.session.rollback()
        assert db.session.scalars(select(User.email)).all() == ["new@example.org"]
        assert "Traceback" not in server.log()
    finally:
        stop_server(server)


@pytest.mark.server
@pytest.mark.sqlite_only
def test_read_only_database_under_gunicorn_keeps_reads_and_public_verification(
    app, database_url, tmp_path, users, create_course, complete_course
):
    from certificates.models import Certificate
    from tests.support.http import Session
    from tests.support.servers import start_gunicorn, stop_server

    course = create_course("kept", modules=1, lessons=1, title="Kept course")
    complete_course(users["learner"], course)
    code = db.session.scalar(select(Certificate.code))
    copy = tmp_path / "readonly.sqlite3"
    target = sqlite3.connect(copy)
    source = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    source.backup(target)
    source.close()
    target.execute("PRAGMA journal_mode=DELETE")
    target.close()
    copy.chmod(0o444)
    server = start_gunicorn(
        f"sqlite:///file:{copy}?mode=ro&uri=true",
        workers=2,
        env={"LMS_SQLITE_BUSY_TIMEOUT": "0.3"},
        log_dir=tmp_path,
    )
    try:
        browser = Session(server.url)
        assert browser.get("/").status == 200
        assert "Kept course" in browser.get("/courses/").text
        page = browser.get(f"/verify/{code}")
        assert page.status == 200 and "Valid certificate" in page.text
        assert json.loads(browser.get(f"/verify/{code}.json").text)["status"] == "valid"
        reply = browser.post("/register", REGISTRATION, browser.csrf("/register"))
        assert reply.status == 503 and int(reply.headers["Retry-After"]) >= 1
        assert_no_internals(reply.text)
        assert "Traceback" not in server.log()
    finally:
        stop_server(server)
