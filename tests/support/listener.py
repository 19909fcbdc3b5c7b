"""A loopback listener that records every connection made to it: the security tests point
hostile content (a learner's name, a lesson's image, a question's picture, a company name) at
it and assert that the app, its renderer and its importers never connect to it.

Used through the `listener` fixture of tests/security/conftest.py."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator


class Listener:
    """A TCP listener on 127.0.0.1 (a free port) that accepts anything, answers a minimal
    HTTP 200 and records the peer and the first bytes of every connection."""

    def __init__(self) -> None:
        self.connections: list[tuple[str, int]] = []
        self.requests: list[bytes] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, address = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                self.connections.append(address)
                connection.settimeout(0.5)
                with contextlib.suppress(OSError):
                    self.requests.append(connection.recv(4096))
                    connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")

    def received(self, settle: float = 0.3) -> list[bytes | tuple[str, int]]:
        """Everything recorded, after giving a request started in a thread the time to
        arrive. A test asserts this is empty."""
        time.sleep(settle)
        return [*self.connections, *self.requests]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


def open_listener() -> Iterator[Listener]:
    """A started listener, proven to record a connection made on purpose (then forgotten)."""
    server = Listener()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as probe:
            probe.sendall(b"GET /probe HTTP/1.0\r\n\r\n")
            with contextlib.suppress(OSError):
                probe.recv(100)
        deadline = time.monotonic() + 2
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.connections, "the loopback listener does not record connections"
        server.connections.clear()
        server.requests.clear()
        yield server
    finally:
        server.close()
