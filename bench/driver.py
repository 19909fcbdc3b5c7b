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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}

    def client() -> None:
        mine: list[float] = []
        ok = errors = 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                response = request(port, method, path, headers, body)
                if response.status == expect:
                    ok += 1
                    mine.append(time.perf_counter() - started)
                else:
                    errors += 1
            except OSError:
                errors += 1
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["errors"] += errors

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(counts["ok"], counts["errors"], time.monotonic() - started, latencies)
