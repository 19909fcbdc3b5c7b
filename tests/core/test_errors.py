"""Error pages show no internals; database faults answer 503 with Retry-After, never 500."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from flask import abort
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import User
from tests.conftest import login, make_app, post_form

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


def test_body_size_limit_answers_413(database_url):
    app = make_app(database_url, MAX_CONTENT_LENGTH=1024, WTF_CSRF_ENABLED=False)
    response = app.test_client().post("/login", data={"email": "x" * 5000, "password": "y"})
    assert response.status_code == 413


def test_huge_and_nul_inputs_are_form_errors_not_crashes(client, create_user):
    create_user("ana@example.org")
    for email in ("a" * 100_000 + "@example.org", "ana@example.org\x00", "\x00"):
        response = login(client, email, "x" * 100_000)
        assert response.status_code in (200, 400)
        assert_no_internals(response.get_data(as_text=True))
    response = post_form(client, "/register", {"name": "\x00" * 10, "email": "x\x00@example.org"})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(User.id))) == 1


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


def test_ids_beyond_the_integer_range_answer_404(client, users):
    login(client, "admin@example.org")
    for path in ("/admin/users/100000000000000000000", "/company/99999999999999999999999"):
        assert client.get(path).status_code == 404
