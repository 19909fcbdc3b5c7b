"""Helpers tests use to look inside what the app did: SQL statements sent, files downloaded."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager

import openpyxl
from sqlalchemy import event

from lms.extensions import db


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """Collect every SQL statement sent on the current app's engine inside the block."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _body(download) -> bytes:  # noqa: ANN001
    return download if isinstance(download, bytes) else download.get_data()


def read_csv(download) -> list[list[str]]:  # noqa: ANN001
    """Rows of a CSV download (bytes or a response); it must start with a UTF-8 BOM."""
    body = _body(download)
    assert body.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


def read_xlsx(download) -> list[list[object]]:  # noqa: ANN001
    """Rows of the first sheet of an XLSX download (bytes or a response)."""
    workbook = openpyxl.load_workbook(io.BytesIO(_body(download)))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]
