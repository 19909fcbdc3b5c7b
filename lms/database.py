"""Database behaviour that the app relies on: SQLite tuned for several app workers, and the
classification of database faults that must answer 503 rather than 500."""

from __future__ import annotations

import contextlib
import contextvars
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Executable, Result, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

# Whether the current unit of work may write. GET requests start SQLite transactions deferred
# (readers never queue behind a writer in WAL mode); everything else starts them IMMEDIATE so a
# writer takes the lock up front and waits its busy timeout instead of failing half-way.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


def set_write_intent(value: bool) -> contextvars.Token[bool]:
    """Declare whether the current request or command is expected to write; returns the token
    that `reset_write_intent` takes to restore the previous value."""
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token[bool]) -> None:
    _write_intent.reset(token)


@contextmanager
def write_intent(value: bool = True) -> Iterator[None]:
    """Temporarily change the write intent (for example a GET that must record something)."""
    token = _write_intent.set(value)
    try:
        yield
    finally:
        _write_intent.reset(token)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:  # noqa: ANN001
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Take transaction control from pysqlite so BEGIN is ours (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # A read-only database keeps its journal mode; reads still work.
    with contextlib.suppress(sqlite3.OperationalError):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:  # noqa: ANN001
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def read_rows(statement: Executable, params: dict[str, Any] | None = None) -> Result[Any]:
    """The rows of a column-only SELECT (no entities), in the session's transaction but
    without the ORM's per-statement work, which costs more than running a small statement on
    a hot page. Pending changes are flushed first, as the session's autoflush would."""
    from lms.extensions import db

    session = db.session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params or {})


def is_unavailable(error: BaseException) -> bool:
    """True when a database error means "busy, read-only or unreachable: try again later",
    as opposed to a bug (a missing table is a bug and must stay a 500 that gets logged)."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if isinstance(error.orig, sqlite3.OperationalError):
        message = str(error.orig).lower()
        return any(s in message for s in _SQLITE_TRANSIENT)
    return isinstance(error, OperationalError)  # psycopg: connection lost, lock timeout


_SQLITE_TRANSIENT = ("locked", "busy", "readonly", "read-only", "unable to open", "disk i/o")
