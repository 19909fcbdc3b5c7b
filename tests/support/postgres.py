"""A real PostgreSQL for the tests that are about PostgreSQL itself.

LMS_TEST_POSTGRES_URL names a server (a maintenance database such as .../postgres); each test
gets a fresh database made on it. Without it those tests skip with the reason; with
LMS_REQUIRE_POSTGRES=1 they fail instead."""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
    with temporary_database(server, prefix="lms_test") as url:
        yield url


@contextlib.contextmanager
def temporary_database(server: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server `server`, dropped afterwards (also used
    by the load benchmark)."""
    url = make_url(server).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class PrivateCluster:
    """A PostgreSQL server of the test's own, which the test may stop and start."""

    data_dir: Path
    port: int
    bin_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://lms@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args]
        subprocess.run(_as_postgres(command), check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-w", "-l", str(self.data_dir / "server.log"), "-o", options, "start")

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` system user."""
    if os.geteuid() != 0:
        return command
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    """A fresh PostgreSQL cluster (initdb) on a free loopback port, stopped afterwards.
    Needs the server binaries (Debian package postgresql), like the rest of the PostgreSQL
    tests: without them the test skips, or fails under LMS_REQUIRE_POSTGRES=1."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = candidates[-1] if candidates else shutil.which("initdb")
    if not initdb:
        _require_or_skip("the PostgreSQL server binaries (initdb) are not installed")
    if os.geteuid() == 0 and shutil.which("su") is None:
        _require_or_skip("running as root without su: cannot start PostgreSQL")
    bin_dir = Path(initdb).parent
    # Not under pytest's temporary folder: as root that one is closed to the postgres user.
    data_dir = Path(tempfile.mkdtemp(prefix="lms-test-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres")
    subprocess.run(
        _as_postgres(
            [
                initdb,
                "-D",
                str(data_dir),
                "-A",
                "trust",
                "-U",
                "lms",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cluster = PrivateCluster(data_dir, port, bin_dir)
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
