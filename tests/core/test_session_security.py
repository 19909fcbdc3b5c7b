"""SECURITY.md, sessions: brute force and XFF rotation, user enumeration, cookie flags,
Cache-Control, open redirects through `next`, CSRF on login and logout, security headers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import ThrottleEvent
from tests.conftest import PASSWORD, csrf_token, login, make_app, post_form


def test_login_is_throttled_per_account(client, create_user):
    create_user("ana@example.org")
    for _ in range(5):
        assert login(client, "ana@example.org", "wrong-password").status_code == 200
    # Even the right password is refused while the account is throttled.
    response = login(client, "ana@example.org", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ThrottleEvent.id))) == 10


def test_x_forwarded_for_cannot_reset_the_throttle(client, create_user):
    create_user("ana@example.org")
    for i in range(5):
        login(client, "ana@example.org", "wrong", headers={"X-Forwarded-For": f"10.0.0.{i}"})
    response = login(client, "ana@example.org", PASSWORD, headers={"X-Forwarded-For": "10.9.9.9"})
    assert response.status_code == 429


def test_login_is_throttled_per_address_across_accounts(client, create_user):
    create_user("ana@example.org")
    for i in range(20):
        login(client, f"guess{i}@example.org", "wrong", headers={"X-Forwarded-For": f"10.1.{i}.1"})
    assert login(client, "ana@example.org", PASSWORD).status_code == 429


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, create_user, app_config):
    create_user("ana@example.org")
    for i in range(20):
        login(client, f"guess{i}@example.org", "wrong", headers={"X-Forwarded-For": "203.0.113.7"})
    other = login(client, "ana@example.org", PASSWORD, headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 302  # another client behind the proxy is not blocked


def test_successful_login_clears_the_account_counter(client, create_user):
    create_user("ana@example.org")
    for _ in range(4):
        login(client, "ana@example.org", "wrong")
    assert login(client, "ana@example.org").status_code == 302


def test_unknown_email_and_wrong_password_answer_alike(client, create_user):
    create_user("ana@example.org")
    known = login(client, "ana@example.org", "wrong-password")
    unknown = login(client, "nobody@example.org", "wrong-password")
    assert known.status_code == unknown.status_code == 200

    def visible(response):
        return re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))

    assert visible(known) == visible(unknown)


def test_session_cookie_flags(client, create_user):
    create_user("ana@example.org")
    response = login(client, "ana@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over http


def test_secure_cookie_in_production(database_url):
    app = make_app(database_url, ENV="production")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_private_pages_are_not_cached(client, create_user):
    create_user("ana@example.org")
    login(client, "ana@example.org")
    for path in ("/", "/account/"):
        assert client.get(path).headers["Cache-Control"] == "no-store"
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_security_headers_on_every_page(client):
    for path in ("/", "/login", "/does-not-exist"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Request-ID"]


def test_pages_load_nothing_from_other_sites(client):
    html = client.get("/").get_data(as_text=True) + client.get("/login").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "https://evil.example/",
        "http:evil.example",
        " //evil.example",
        "/\t/evil.example",
    ],
)
def test_open_redirect_through_next_is_refused(client, create_user, target):
    create_user("ana@example.org")
    response = post_form(
        client, "/login", {"email": "ana@example.org", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_encoded_line_breaks_in_next_do_not_inject_headers(client, create_user):
    create_user("ana@example.org")
    response = post_form(
        client,
        "/login",
        {"email": "ana@example.org", "password": PASSWORD, "next": "/%0d%0aSet-Cookie:x=1"},
    )
    assert response.headers["Location"] == "/%0d%0aSet-Cookie:x=1"
    assert "x=1" not in response.headers.getlist("Set-Cookie")


def test_next_to_a_local_page_is_followed(client, create_user):
    create_user("ana@example.org")
    response = post_form(
        client, "/login", {"email": "ana@example.org", "password": PASSWORD, "next": "/account/"}
    )
    assert response.headers["Location"] == "/account/"


def test_login_without_csrf_token_is_refused(client, create_user):
    create_user("ana@example.org")
    response = client.post("/login", data={"email": "ana@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/account/").status_code == 302  # not logged in


def test_logout_without_csrf_token_keeps_the_session(client, create_user):
    create_user("ana@example.org")
    login(client, "ana@example.org")
    assert client.post("/logout").status_code == 400
    assert client.get("/account/").status_code == 200


def test_logout_by_get_is_not_allowed(client, create_user):
    create_user("ana@example.org")
    login(client, "ana@example.org")
    assert client.get("/logout").status_code == 405
    assert client.get("/account/").status_code == 200


def test_csrf_token_from_another_session_is_refused(app, create_user):
    create_user("ana@example.org")
    attacker = app.test_client()
    token = csrf_token(attacker)
    victim = app.test_client()
    login(victim, "ana@example.org")
    response = victim.post("/logout", data={"csrf_token": token})
    assert response.status_code == 400
    assert victim.get("/account/").status_code == 200
