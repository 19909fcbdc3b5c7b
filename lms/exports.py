"""Tables as downloads: CSV (UTF-8 with a byte-order mark, so Excel reads Cyrillic) and XLSX.

Every plugin that offers an export uses `tabular_response`, so the protection against
spreadsheet formula injection lives in one place: a text cell that starts with `=`, `+`, `-`,
`@`, a tab or a carriage return gets a leading `'`, which makes spreadsheet programs show it as
text instead of running it (OWASP "CSV injection"). Numbers, dates and empty cells keep their
type; only text is changed."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from lms.text import to_ascii

FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: A text cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice
#: and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 (and so XLSX) cannot hold; removed from CSV too, so both files agree.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_DATE_FORMAT = "yyyy-mm-dd"
_MAX_FILENAME = 100

Cell = str | int | float | Decimal | date | datetime | time | bool | None


def neutralise(value: object) -> Cell:
    """A cell value that is safe to open in a spreadsheet.

    Numbers, booleans, dates and None are returned unchanged (aware datetimes become naive UTC,
    which spreadsheets need); anything else becomes text, and text that a spreadsheet would
    read as a formula gets a leading `'`."""
    if isinstance(value, float | Decimal) and not _is_finite(value):
        value = str(value)  # NaN and infinities are no spreadsheet numbers: show them as text
    elif value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, date | time):
        return value
    text = _ILLEGAL.sub("", str(value))  # str() also resolves lazy translations
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _is_finite(number: float | Decimal) -> bool:
    return number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)


def safe_filename(stem: str, extension: str) -> str:
    """An ASCII file name for Content-Disposition: Bulgarian Cyrillic is transliterated,
    anything but letters, digits, dot, hyphen and underscore becomes a hyphen."""
    text = to_ascii(str(stem))
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text)
    text = re.sub(r"[._]*-[-._]*", "-", text)  # "Ltd.-2025" -> "Ltd-2025"
    text = re.sub(r"\.{2,}", ".", text).strip("-._")[:_MAX_FILENAME].rstrip("-._")
    return f"{text or 'export'}.{extension}"


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def csv_bytes(headers: Sequence[object], rows: Iterable[Sequence[object]]) -> bytes:
    """The table as CSV: UTF-8 with a byte-order mark, comma-separated, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_text(neutralise(h)) for h in headers])
    for row in rows:
        writer.writerow([_csv_text(neutralise(v)) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(title: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\ and not starting or ending with '.
    cleaned = re.sub(r"[\[\]:*?/\\\s]+", " ", _ILLEGAL.sub("", str(title))).strip(" '")
    return cleaned[:31].strip() or "Sheet1"


def xlsx_bytes(
    headers: Sequence[object], rows: Iterable[Sequence[object]], sheet_title: str = "Sheet1"
) -> bytes:
    """The table as an XLSX workbook of one sheet (openpyxl write-only mode, so memory stays
    flat for long tables). The header row is bold and stays in view when scrolling."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=neutralise(header))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            value = neutralise(value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, datetime):
                cell.number_format = _DATETIME_FORMAT
            elif isinstance(value, date):
                cell.number_format = _DATE_FORMAT
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def tabular_response(
    filename_stem: str,
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    fmt: str,
    sheet_title: str | None = None,
) -> Response:
    """A download of the table in `fmt` ("csv" or "xlsx"), as an attachment with a safe name.

    Raises ValueError for another format: views check the format against FORMATS first (and
    answer 404), so a user never reaches that error."""
    if fmt == "csv":
        body = csv_bytes(headers, rows)
    elif fmt == "xlsx":
        body = xlsx_bytes(headers, rows, sheet_title or filename_stem)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{safe_filename(filename_stem, fmt)}"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
