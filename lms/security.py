"""Request-level security: who is logged in (with the per-user session version), role checks,
safe redirects, response headers and login throttling."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request, session
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash

from lms import services
from lms.extensions import db, login_manager
from lms.models import User

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src https://www.youtube-nocookie.com https://player.vimeo.com",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@functools.cache
def _user_statement() -> Select:
    """Built once per process (building it cost more than running it); the id is bound."""
    return (
        select(User)
        .where(User.id == bindparam("user_id"))
        .options(joinedload(User.role_rows), joinedload(User.memberships))
    )


@login_manager.user_loader
def load_user(cookie_id: str) -> User | None:
    """Accept the cookie only if its session version is the user's current one."""
    user_id, _, version = cookie_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    # One statement per request for the user, roles and memberships (this runs on every page).
    user = db.session.scalar(_user_statement(), {"user_id": int(user_id)})
    if user is None or not user.active or user.session_version != int(version):
        return None
    if user.is_demo and current_app.config["ENV"] == "production":
        return None
    return user


def roles_required(*roles: str) -> Callable:
    """Let in only logged-in users holding one of `roles` (403 for the others)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


def is_safe_redirect(target: str | None) -> bool:
    """Only same-site paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or len(target) > 2000:
        return False
    if any(ord(ch) < 32 for ch in target) or "\\" in target:
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
    )


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A real hash made with the configured method, so a login for an unknown email costs the
    same time as a wrong password for a known one."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


def authenticate(email: str, password: str, client_address: str) -> tuple[User | None, str]:
    """Check a login attempt. Returns (user, "") or (None, reason) with reason "throttled" or
    "invalid"; unknown email and wrong password are not told apart."""
    config = current_app.config
    window = config["LOGIN_THROTTLE_WINDOW_SECONDS"]
    account_key = services.normalise_email(email)[:254]
    if (
        services.throttle_count("login-account", account_key, window)
        >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or services.throttle_count("login-address", client_address, window)
        >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    ):
        return None, "throttled"
    user = services.find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        ok = False
    else:
        ok = user.check_password(password) and user.active
        if ok and user.is_demo and config["ENV"] == "production":
            ok = False
    if not ok:
        services.throttle_record("login-account", account_key, window)
        services.throttle_record("login-address", client_address, window)
        return None, "invalid"
    services.throttle_reset("login-account", account_key)
    return user, ""


def client_address() -> str:
    """The client's address as seen by this app: X-Forwarded-For is only honoured through
    ProxyFix for the number of proxies configured in TRUSTED_PROXIES."""
    return request.remote_addr or "unknown"


def init_security(app: Flask) -> None:
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    @app.before_request
    def assign_request_id() -> None:
        g.request_id = secrets.token_hex(8)

    @app.before_request
    def refuse_nul_in_query_string() -> None:
        # No query parameter ever holds a NUL character, and PostgreSQL refuses them in text.
        if b"%00" in request.query_string or b"\x00" in request.query_string:
            abort(400)

    defaults = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    default_headers = [(name.lower(), name, value) for name, value in defaults]

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        # Each default unless the view set its own (one pass over the headers, not seven).
        present = {name.lower() for name, _value in headers}
        for lowered, name, value in default_headers:
            if lowered not in present:
                headers.add(name, value)
        if app.config["ENV"] == "production" and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000")
        headers["X-Request-ID"] = g.get("request_id", "")
        # Pages for a logged-in person, and the auth forms, are private: never cached. The
        # session is read rather than the user, so this works while the database is down.
        if request.endpoint != "static" and ("_user_id" in session or request.blueprint == "auth"):
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
