"""A small load driver (stdlib only): concurrent clients on loopback for a bounded time.

It is the same driver for the baseline and the app, so its own cost cancels out of the ratio."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float] = field(repr=False, default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn on loopback with fixed settings (2 sync workers), stopped on exit."""

    def __init__(self, target: str, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                target,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{target} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: str = ""
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body or None, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def login_cookie(port: int, email: str, password: str) -> str:
    """Log in like a browser: the login page's CSRF token, then the form; return the cookie."""
    page = request(port, "GET", "/login")
    cookie = page.getheader("Set-Cookie").split(";")[0]
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.body).group(1)
    body = urllib.parse.urlencode(
        {"csrf_token": token.decode(), "email": email, "password": password}
    )
    response = request(
        port,
        "POST",
        "/login",
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        body,
    )
    if response.status != 302:
        raise RuntimeError(f"login failed: {response.status}")
    cookie = response.getheader("Set-Cookie").split(";")[0]
    # Follow the redirect like a browser and keep the cookie it answers with: the first page
    # stores the session's CSRF secret. Without this every measured request would carry the
    # stale cookie, so the server would create a new secret and re-sign the session each time,
    # which no browser makes it do.
    page = request(port, "GET", response.getheader("Location") or "/", {"Cookie": cookie})
    if page.getheader("Set-Cookie"):
        cookie = page.getheader("Set-Cookie").split(";")[0]
    return cookie


def load(
    port: int,
    path: str,
    seconds: float,
    clients: int,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: str = "",
    expect: int = 200,
) -> Result:
    """`clients` threads send requests back to back for `seconds`; count, time and check each."""
    stop_at = time.monotonic() + seconds

    def take() -> bool | None:
        return True if time.monotonic() < stop_at else None

    def send(_job: bool) -> bool:
        try:
            return request(port, method, path, headers, body).status == expect
        except OSError:
            return False

    return _clients(take, send, clients)


def timed_rounds(
    next_round: Callable[[], list[T]],
    send: Callable[[T], bool],
    seconds: float,
    clients: int,
) -> Result:
    """Rounds of one-shot jobs (attempts to submit, say): `next_round()` prepares a round's jobs
    untimed, while the server is idle, then `clients` threads `send` them all as fast as the
    server answers (`send` says whether the answer was the expected one). Rounds repeat until
    `seconds` of sending are reached; the result counts the timed time only."""
    total = Result(0, 0, 0.0)
    while total.seconds < seconds:
        jobs = next_round()
        lock = threading.Lock()

        def take(jobs: list[T] = jobs, lock: threading.Lock = lock) -> T | None:
            with lock:
                return jobs.pop() if jobs else None

        done = _clients(take, send, clients)
        total = Result(
            total.requests + done.requests,
            total.errors + done.errors,
            total.seconds + done.seconds,
            total.latencies + done.latencies,
        )
    return total


def _clients(take: Callable[[], T | None], send: Callable[[T], bool], clients: int) -> Result:
    """`clients` threads each `take` a job and `send` it until `take` gives None; counts the
    expected answers (timed) and the others, over the time from the first start to the last end."""
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}

    def client() -> None:
        mine: list[float] = []
        ok = errors = 0
        while (job := take()) is not None:
            started = time.perf_counter()
            if send(job):
                ok += 1
                mine.append(time.perf_counter() - started)
            else:
                errors += 1
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["errors"] += errors

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(counts["ok"], counts["errors"], time.perf_counter() - started, latencies)
