"""The payload corpora of the security suite (tests/data/payloads/*.txt), so that adding a
payload is adding one line.

File format: one payload per line, taken literally, except for these escapes (for characters
an editor would eat or hide): ``\\t``, ``\\r``, ``\\n`` (a multi-line payload), ``\\0``,
``\\xHH``, ``\\uHHHH`` and ``\\\\`` for one backslash. Lines starting with ``#`` are comments;
blank lines are ignored. ``{name}`` placeholders (for example ``{port}``, the port of the
loopback listener) are filled in by `load`; other braces are left alone."""

from __future__ import annotations

import re
from pathlib import Path

PAYLOADS_DIR = Path(__file__).resolve().parents[1] / "data" / "payloads"
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[trn0\\])")
_SIMPLE = {"t": "\t", "r": "\r", "n": "\n", "0": "\0", "\\": "\\"}


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code in _SIMPLE:
        return _SIMPLE[code]
    return chr(int(code[1:], 16))


def load(name: str, **values: object) -> list[str]:
    """The payloads of tests/data/payloads/<name>.txt, escapes decoded, placeholders filled."""
    path = PAYLOADS_DIR / f"{name}.txt"
    payloads = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        line = line.removesuffix("\r")
        if not line.strip() or line.startswith("#"):
            continue
        payload = _ESCAPE.sub(_unescape, line)
        for key, value in values.items():
            payload = payload.replace("{" + key + "}", str(value))
        payloads.append(payload)
    assert payloads, f"{path} holds no payloads"
    return payloads


def ids(payloads: list[str]) -> list[str]:
    """Short readable test ids for parametrised payloads."""
    return [f"{n:02d}-{p[:30]!r}" for n, p in enumerate(payloads, start=1)]
