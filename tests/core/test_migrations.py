"""An empty SQLite and an empty PostgreSQL reach the newest schema with the README's command,
and `flask db check` finds no drift between the models and the migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy import table as sql_table

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


def _row_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(
                    select(func.count()).select_from(sql_table(table))
                ).scalar_one()
                for table in inspect(connection).get_table_names()
                if table != "alembic_version"
            }
    finally:
        engine.dispose()


def _revisions() -> list[str]:
    """The migration ids, oldest first (the history is linear)."""
    return sorted(path.stem for path in (ROOT / "migrations" / "versions").glob("0*.py"))


def down_and_up_keep_data(database_url: str) -> None:
    assert flask(database_url, "db", "upgrade").returncode == 0
    demo = flask(database_url, "lms", "demo")
    assert demo.returncode == 0, demo.stderr
    before = _row_counts(database_url)
    assert before["user"] > 0 and before["certificates_certificate"] > 0
    for revision in reversed(_revisions()[:-1]):
        down = flask(database_url, "db", "downgrade", revision)
        assert down.returncode == 0, down.stderr
        kept = _row_counts(database_url)
        up = flask(database_url, "db", "upgrade")
        assert up.returncode == 0, up.stderr
        after = _row_counts(database_url)
        # Every table that survived the downgrade has all its rows after the upgrade.
        for table, rows in kept.items():
            assert after[table] == rows == before[table], (revision, table)


def test_downgrade_step_by_step_and_up_keeps_data(tmp_path):
    down_and_up_keep_data(f"sqlite:///{tmp_path / 'data.sqlite3'}")


@pytest.mark.postgres
def test_downgrade_step_by_step_and_up_keeps_data_on_postgresql(fresh_postgres_url):
    down_and_up_keep_data(fresh_postgres_url)
