"""A real gunicorn with several workers on a free loopback port, sharing the test database.

Used by browser tests and by the race and fault tests that are about the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_gunicorn(
    database_url: str,
    workers: int = 2,
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
) -> LiveServer:
    port = free_port()
    log_dir = log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    log_path = log_dir / f"gunicorn-{port}.log"
    from tests.conftest import TEST_KEY_FILE, TEST_SECRET

    process_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "LMS_ENV": "testing",
        "LMS_DEFAULT_LANGUAGE": "en",
        "LMS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "LMS_CERTIFICATES_KEY_FILE": TEST_KEY_FILE,
        **(env or {}),
    }
    log_file = log_path.open("w")
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=process_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log_file.close()  # the child has its own descriptor
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return LiveServer(url, process, log_path)
        except OSError:
            time.sleep(0.2)
    stop_server(LiveServer(url, process, log_path))
    raise RuntimeError(f"gunicorn did not answer in 30 s:\n{log_path.read_text()}")


def stop_server(server: LiveServer) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@pytest.fixture(scope="session")
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """gunicorn with 2 workers on loopback, for the whole session."""
    server = start_gunicorn(database_url, workers=2, log_dir=tmp_path_factory.mktemp("logs"))
    yield server
    stop_server(server)
