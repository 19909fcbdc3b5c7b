"""An empty SQLite and an empty PostgreSQL reach the newest schema with the README's command,
and `flask db check` finds no drift between the models and the migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

ROOT = Path(__file__).resolve().parents[2]


def flask(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "LMS_ENV": "development"}
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def upgrade_and_check(database_url: str) -> None:
    upgrade = flask(database_url, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    check = flask(database_url, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"user", "company", "membership", "alembic_version"} <= tables
    status = flask(database_url, "lms", "check")
    assert status.returncode == 0, status.stdout + status.stderr


def test_empty_sqlite_reaches_the_newest_schema(tmp_path):
    upgrade_and_check(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")


@pytest.mark.postgres
def test_empty_postgresql_reaches_the_newest_schema(fresh_postgres_url):
    upgrade_and_check(fresh_postgres_url)


def test_downgrade_to_base_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    assert flask(url, "db", "upgrade").returncode == 0
    down = flask(url, "db", "downgrade", "base")
    assert down.returncode == 0, down.stderr
    upgrade_and_check(url)
