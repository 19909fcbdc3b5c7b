"""SECURITY.md, sessions: brute force and X-Forwarded-For rotation, user enumeration, session
fixation and replay after logout, password change and deactivation ending live sessions, cookie
flags and Cache-Control, open redirects through `next` (tests/data/payloads/open_redirects.txt),
CSRF on login, logout and every other state-changing route, security headers."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import ThrottleEvent, User
from tests.conftest import PASSWORD, csrf_token, login, logout, make_app, post_form
from tests.support import payloads


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


OPEN_REDIRECTS = payloads.load("open_redirects")


def assert_stays_on_the_site(location: str) -> None:
    """A redirect a browser follows to this site only: a path, no scheme, no host, no
    protocol-relative or backslash form, no control characters."""
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "\\" not in location and not any(ord(ch) < 32 for ch in location), location


@pytest.mark.parametrize("target", OPEN_REDIRECTS, ids=payloads.ids(OPEN_REDIRECTS))
def test_open_redirect_through_next_is_refused(client, create_user, target):
    create_user("ana@example.org")
    page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert 'name="next"' in page
    response = post_form(
        client, "/login", {"email": "ana@example.org", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert_stays_on_the_site(response.headers["Location"])
    looks_local = target.startswith("/") and not target.startswith(("//", "/\\"))
    if not (looks_local and target.isprintable()):
        assert response.headers["Location"] == "/"  # not a path of this site: home instead
    # The language switch takes a `next` too.
    response = post_form(client, "/account/language", {"language": "en", "next": target})
    assert response.status_code == 302
    assert_stays_on_the_site(response.headers["Location"])


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


# --- from the login and account tests ---


def test_old_cookie_is_refused_after_logout(app, create_user):
    create_user("ana@example.org")
    client = app.test_client()
    login(client, "ana@example.org")
    stolen = client.get_cookie("lms_session").value
    logout(client)
    attacker = app.test_client()
    attacker.set_cookie("lms_session", stolen)
    response = attacker.get("/account/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_rotates_on_login(app, create_user):
    """A cookie planted before login (fixation) is not the cookie after login."""
    create_user("ana@example.org")
    client = app.test_client()
    csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    before = client.get_cookie("lms_session").value
    login(client, "ana@example.org")
    after = client.get_cookie("lms_session").value
    assert before != after
    with client.session_transaction() as session:
        assert "planted" not in session


def test_password_change_ends_other_sessions(app, create_user):
    create_user("ana@example.org")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "ana@example.org")
    login(phone, "ana@example.org")
    response = post_form(
        laptop,
        "/account/password",
        {
            "current_password": PASSWORD,
            "password": "new-password-123",
            "password_confirm": "new-password-123",
        },
    )
    assert response.status_code == 302
    assert laptop.get("/account/").status_code == 200  # this session goes on
    assert phone.get("/account/").status_code == 302  # the other one is over
    user = db.session.scalar(select(User).where(User.email == "ana@example.org"))
    db.session.refresh(user)
    assert user.check_password("new-password-123")


def test_deactivated_users_live_session_ends(app, users):
    learner_client = app.test_client()
    login(learner_client, "learner@example.org")
    assert learner_client.get("/account/").status_code == 200
    admin_client = app.test_client()
    login(admin_client, "admin@example.org")
    response = post_form(
        admin_client, f"/admin/users/{users['learner'].id}/active", {"active": "0"}
    )
    assert response.status_code == 302
    assert learner_client.get("/account/").status_code == 302
    assert login(app.test_client(), "learner@example.org").status_code == 200  # refused


def test_password_reset_with_forged_token_is_refused(client):
    assert client.get("/password/reset/not-a-token").status_code == 400
    assert client.get("/password/reset/" + "x" * 5000).status_code == 400


def test_password_reset_does_not_tell_whether_the_account_exists(app, client, create_user):
    create_user("ana@example.org")
    known = post_form(
        client, "/password/forgot", {"email": "ana@example.org"}, follow_redirects=True
    )
    unknown = post_form(
        client, "/password/forgot", {"email": "nobody@example.org"}, follow_redirects=True
    )
    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'value="[^"]+"', "", html)  # noqa: E731 - tokens differ
    assert strip(known.get_data(as_text=True)) == strip(unknown.get_data(as_text=True))
    assert len(app.extensions["lms_outbox"]) == 1


# --- sweeps over every route ------------------------------------------------------------------


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def urls_of(app, arguments: dict, method: str) -> list[tuple[str, str]]:
    """(endpoint, URL) of every route of the app answering `method`, with the matrix's
    arguments (tests/conftest.py `route_arguments`)."""
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
            if method not in rule.methods or rule.endpoint.endswith("static"):
                continue
            urls.append(
                (rule.endpoint, url_for(rule.endpoint, **{a: arguments[a] for a in rule.arguments}))
            )
    return urls


def test_every_state_changing_route_refuses_a_missing_csrf_token(app, users, route_arguments):
    """SECURITY.md 6: every POST route of every plugin, for a visitor, a learner and an admin,
    without the token: 400, and not one row changed anywhere."""
    posts = urls_of(app, route_arguments, "POST")
    assert len(posts) > 30  # the sweep really covers the app's forms
    before = table_counts()
    failures = []
    for who in ("anonymous", "learner", "admin"):
        client = app.test_client()
        if who != "anonymous":
            assert login(client, f"{who}@example.org").status_code == 302
        for endpoint, url in posts:
            response = client.post(url, data={"confirm": "y", "action": "submit"})
            if response.status_code != 400:
                failures.append(f"{who} {endpoint} {url}: {response.status_code}")
            # A JSON body without the X-CSRFToken header is refused alike.
            response = client.post(url, json={"body_md": "x"})
            if response.status_code != 400:
                failures.append(f"{who} {endpoint} {url} (JSON): {response.status_code}")
    assert not failures, "\n".join(failures)
    after = table_counts()
    for counts in (before, after):
        counts.pop("throttle_event", None)  # failed logins are counted, by design
    assert after == before


#: GET routes whose answers may be kept by caches: public files that hold nothing personal.
CACHEABLE = {"courses.media", "certificates.jwks", "certificates.issuer"}


def database_state() -> dict[str, list[str]]:
    """Every row of every table, as text: any insert, update or delete changes it."""
    return {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
        for table in db.metadata.sorted_tables
    }


def test_every_get_is_not_cached_and_changes_nothing(app, users, route_arguments):
    """Cache-Control: no-store on every page a logged-in user gets (SECURITY.md, Sessions), and
    no state change on GET (SECURITY.md 6): every GET route, for every role, leaves every row
    of every table as it was."""
    clients = {}
    for who in ("anonymous", "learner", "trainer", "coordinator", "admin"):
        clients[who] = app.test_client()
        if who != "anonymous":
            login(clients[who], f"{who}@example.org")  # logging in writes: before the snapshot
    db.session.rollback()
    before = database_state()
    failures = []
    for who, client in clients.items():
        for endpoint, url in urls_of(app, route_arguments, "GET"):
            if endpoint in CACHEABLE:
                continue
            response = client.get(url)
            cache = response.headers.get("Cache-Control", "")
            if who != "anonymous" and response.status_code < 500 and "no-store" not in cache:
                failures.append(f"{who} {url}: {cache}")
    assert not failures, "\n".join(failures)
    db.session.rollback()
    after = database_state()
    for state in (before, after):
        state.pop("throttle_event", None)  # verification misses are counted, by design
    changed = [name for name in before if before[name] != after[name]]
    assert changed == [], {name: (before[name], after[name]) for name in changed}


# --- enumeration and cookies ------------------------------------------------------------------


def test_unknown_email_costs_the_same_password_hash_as_a_wrong_password(
    client, create_user, monkeypatch
):
    """Similar timing without a timed assertion: both answers compute exactly one password
    hash with the configured method (a dummy one for an unknown email)."""
    import lms.models
    import lms.security

    create_user("ana@example.org")
    real = lms.security.check_password_hash
    methods: list[str] = []

    def counting(pwhash: str, password: str) -> bool:
        methods.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(lms.security, "check_password_hash", counting)
    monkeypatch.setattr(lms.models, "check_password_hash", counting)
    login(client, "ana@example.org", "wrong-password")
    known, methods[:] = list(methods), []
    login(client, "nobody@example.org", "wrong-password")
    assert known == methods == [app_method(client)]


def app_method(client) -> str:
    return client.application.config["PASSWORD_HASH_METHOD"]


def test_production_session_cookie_is_secure_httponly_and_samesite(database_url, create_user):
    app = make_app(database_url, ENV="production")
    create_user("ana@example.org")
    client = app.test_client()
    response = login(client, "ana@example.org")
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("lms_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/account/").headers["Cache-Control"] == "no-store"


def test_an_admin_deactivating_a_user_ends_their_session_on_every_device(app, users):
    devices = [app.test_client() for _ in range(3)]
    for device in devices:
        login(device, "learner@example.org")
        assert device.get("/account/").status_code == 200
    admin = app.test_client()
    login(admin, "admin@example.org")
    post_form(admin, f"/admin/users/{users['learner'].id}/active", {"active": "0"})
    for device in devices:
        response = device.get("/account/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert post_form(device, "/account/language", {"language": "bg"}).status_code in (302, 400)
    learner = db.session.get(User, users["learner"].id)
    db.session.refresh(learner)
    assert learner.active is False and learner.language == "en"  # nothing changed by them
