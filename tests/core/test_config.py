"""Settings: environment parsing and the production safety net."""

from __future__ import annotations

import pytest

from lms.config import ConfigurationError, build_config, normalise_database_url
from tests.conftest import make_app


def test_production_refuses_the_default_secret(database_url):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        make_app(database_url, ENV="production", SECRET_KEY="dev-only-insecure-secret-key")
    with pytest.raises(ConfigurationError):
        make_app(database_url, ENV="production", SECRET_KEY="short")


def test_environment_variables_are_parsed_by_type(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_TRUSTED_PROXIES", "2")
    monkeypatch.setenv("LMS_MAIL_USE_TLS", "false")
    monkeypatch.setenv("LMS_SQLITE_BUSY_TIMEOUT", "1.5")
    monkeypatch.setenv("LMS_PLUGINS", "courses, quizzes")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@localhost/lms")
    config = build_config(str(tmp_path))
    assert config["TRUSTED_PROXIES"] == 2 and config["MAIL_USE_TLS"] is False
    assert config["SQLITE_BUSY_TIMEOUT"] == 1.5 and config["PLUGINS"] == ["courses", "quizzes"]
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@localhost/lms"


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = build_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/lms.sqlite3"


def test_database_url_normalisation():
    assert normalise_database_url("postgresql://x/y") == "postgresql+psycopg://x/y"
    assert normalise_database_url("sqlite:///a.db") == "sqlite:///a.db"
