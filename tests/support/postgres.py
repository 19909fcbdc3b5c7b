"""A real PostgreSQL for the tests that are about PostgreSQL itself.

LMS_TEST_POSTGRES_URL names a server (a maintenance database such as .../postgres); each test
gets a fresh database made on it. Without it those tests skip with the reason; with
LMS_REQUIRE_POSTGRES=1 they fail instead."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text


def _require_or_skip(reason: str) -> None:
    if os.environ.get("LMS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (LMS_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    server = os.environ.get("LMS_TEST_POSTGRES_URL")
    if not server:
        _require_or_skip("LMS_TEST_POSTGRES_URL is not set")
    url = make_url(server).set(drivername="postgresql+psycopg")
    name = f"lms_test_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
