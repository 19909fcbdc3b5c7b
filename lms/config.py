"""Settings: defaults here, overridden by `LMS_*` environment variables, `DATABASE_URL` and
`SECRET_KEY`, then by the mapping given to `create_app()` (tests)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production
FIRST_PARTY_PLUGINS = ("courses", "quizzes", "certificates")

#: Every setting the core knows, with its default. The type of the default decides how an
#: `LMS_<NAME>` environment variable is parsed, so operators configure everything the same way.
DEFAULTS: dict[str, Any] = {
    "ENV": "development",  # development | production | testing
    "PLUGINS": ",".join(FIRST_PARTY_PLUGINS),
    "BASE_URL": "http://127.0.0.1:5000",
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (a count).
    "TRUSTED_PROXIES": 0,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # SQLite: seconds a writer waits for the lock before the request answers 503.
    "SQLITE_BUSY_TIMEOUT": 5.0,
    # Login throttling: failures per account and per client address within the window.
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_THROTTLE_WINDOW_SECONDS": 900,
    "PASSWORD_MIN_LENGTH": 10,
    # Werkzeug hash method; the test suite lowers the cost, production keeps the default.
    "PASSWORD_HASH_METHOD": "scrypt",
    "PASSWORD_RESET_MAX_AGE_SECONDS": 3600,
    # Start-up rule: an unlisted micro or small enterprise registered between MIN and MAX
    # months ago. EU GBER art. 22 default: 0 to 60; the programme's Bulgarian call used 6 to 48.
    "STARTUP_MIN_MONTHS": 0,
    "STARTUP_MAX_MONTHS": 60,
    # Grant report: cumulative figures count from this date; periods are local dates here.
    "REPORT_PROJECT_START": "2024-01-01",
    "REPORT_TIME_ZONE": "Europe/Sofia",
    # Outgoing mail. Without MAIL_SERVER, mail is written to the log (development).
    "MAIL_SERVER": "",
    "MAIL_PORT": 587,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_USE_TLS": True,
    "MAIL_SENDER": "ICT Greening Up <no-reply@ictcluster-burgas.example>",
    "DEFAULT_LANGUAGE": "bg",
    "LANGUAGES": "bg,en",
    # Privacy. Personal data the grant audit needs (attendance, completions, certificates,
    # gender and age band of participants) is kept, restricted, until this ISO date: the
    # EEA and Norway Grants rules require project documents to be available for audit for
    # years after the programme's final report, so the default leaves that margin. Set it to
    # the date in the cluster's grant contract; `lms purge-expired` anonymises after it.
    "PRIVACY_RETENTION_UNTIL": "2031-12-31",
    # Version of the privacy notice and consent texts, stored with every consent given.
    "PRIVACY_NOTICE_VERSION": "2026-11",
    # Where people send privacy requests and questions (shown on the privacy notice).
    "PRIVACY_CONTACT_EMAIL": "",
}


def parse_setting(raw: str, default: Any) -> Any:
    """Parse an environment string into the type of the setting's default."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def normalise_database_url(url: str) -> str:
    """Route PostgreSQL URLs to psycopg 3, which is the driver the project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def build_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the full Flask config mapping for one app instance."""
    env = os.environ
    config: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        raw = env.get(f"LMS_{name}")
        config[name] = default if raw is None else parse_setting(raw, default)
    config["SECRET_KEY"] = env.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    sqlite_path = Path(instance_path) / "lms.sqlite3"
    config["SQLALCHEMY_DATABASE_URI"] = env.get("DATABASE_URL", f"sqlite:///{sqlite_path}")
    config.update(overrides or {})
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if isinstance(config["PLUGINS"], str):
        config["PLUGINS"] = [p.strip() for p in config["PLUGINS"].split(",") if p.strip()]
    if isinstance(config["LANGUAGES"], str):
        config["LANGUAGES"] = [p.strip() for p in config["LANGUAGES"].split(",") if p.strip()]
    production = config["ENV"] == "production"
    config.setdefault("SESSION_COOKIE_SECURE", production)
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("SESSION_COOKIE_NAME", "lms_session")
    config.setdefault("TESTING", config["ENV"] == "testing")
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault(
            "connect_args", {"timeout": config["SQLITE_BUSY_TIMEOUT"]}
        )
    else:
        options = config["SQLALCHEMY_ENGINE_OPTIONS"]
        options.setdefault("pool_pre_ping", True)
        # psycopg's automatic preparation is lost at every ROLLBACK, which ends most requests,
        # and it then sends DEALLOCATE ALL, which would drop the statement the grant report
        # prepares itself (lms.reports.statement.run); so it is off.
        options.setdefault("connect_args", {}).setdefault("prepare_threshold", None)
    config.setdefault("BABEL_DEFAULT_LOCALE", config["DEFAULT_LANGUAGE"])
    return config


class ConfigurationError(RuntimeError):
    """Raised at start-up when the settings are unsafe or inconsistent."""


def check_production_safety(config: dict[str, Any]) -> None:
    """Refuse to start in production with settings that are only fit for development."""
    if config["ENV"] != "production":
        return
    if config["SECRET_KEY"] == DEFAULT_SECRET_KEY or len(config["SECRET_KEY"]) < 32:
        raise ConfigurationError(
            "Production mode needs SECRET_KEY set to a random value of at least 32 characters "
            '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
