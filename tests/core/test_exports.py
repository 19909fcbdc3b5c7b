"""lms.exports: CSV and XLSX downloads with spreadsheet formula injection neutralised."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
import pytest

from lms.exports import (
    csv_bytes,
    neutralise,
    safe_filename,
    tabular_response,
    xlsx_bytes,
)
from tests.support.measure import read_csv, read_xlsx

DANGEROUS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\tcmd",
    "\r=1+1",
    "=1+1",
]


@pytest.mark.parametrize("number", [0, 7, -2, 2.5, -0.5, Decimal("12.5"), Decimal("-3")])
def test_numbers_stay_numbers(number):
    value = neutralise(number)
    assert value == number and type(value) is type(number)


def test_none_booleans_and_dates_keep_their_type():
    assert neutralise(None) is None
    assert neutralise(True) is True
    day = date(2025, 3, 1)
    assert neutralise(day) == day


def test_aware_datetimes_become_naive_utc():
    sofia = timezone(timedelta(hours=2))
    moment = datetime(2025, 3, 1, 12, 30, tzinfo=sofia)
    assert neutralise(moment) == datetime(2025, 3, 1, 10, 30)


def test_non_finite_numbers_and_other_objects_become_safe_text():
    assert neutralise(float("nan")) == "nan"
    assert neutralise(float("-inf")) == "'-inf"
    assert neutralise(Decimal("Infinity")) == "Infinity"

    class Lazy:
        def __str__(self) -> str:
            return "=cmd()"

    assert neutralise(Lazy()) == "'=cmd()"


def test_control_characters_xlsx_cannot_hold_are_removed():
    assert neutralise("a\x00b\x07c\x1fd") == "abcd"
    assert neutralise("\x00=1") == "'=1"  # removed first, so it cannot hide a formula


def test_csv_has_bom_crlf_cyrillic_and_neutralised_cells():
    body = csv_bytes(
        ["Име", "Число", "Дата", "Празно"],
        [
            ["Иван Петров", 42, datetime(2025, 3, 1, 9, 5, tzinfo=UTC), None],
            *[[text, -2, date(2025, 3, 2), ""] for text in DANGEROUS],
        ],
    )
    assert b"\r\n" in body
    rows = read_csv(body)
    assert rows[0] == ["Име", "Число", "Дата", "Празно"]
    assert rows[1] == ["Иван Петров", "42", "2025-03-01 09:05", ""]
    for row, text in zip(rows[2:], DANGEROUS, strict=True):
        assert row[0] == "'" + text
        assert row[1] == "-2"  # a number is written as a number, not neutralised
        assert row[2] == "2025-03-02"


def test_xlsx_opens_with_openpyxl_keeps_types_and_neutralises_text():
    body = xlsx_bytes(
        ["Име", "Число", "Дата", "Празно"],
        [
            ["Иван Петров", 42, datetime(2025, 3, 1, 9, 5, tzinfo=UTC), None],
            *[[text, -2, date(2025, 3, 2), Decimal("2.5")] for text in DANGEROUS],
        ],
        sheet_title="Прогрес: [2025]",
    )
    assert body[:2] == b"PK"
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    sheet = workbook.active
    assert sheet.title == "Прогрес 2025"
    assert sheet["A1"].font.b
    rows = read_xlsx(body)
    assert rows[0] == ["Име", "Число", "Дата", "Празно"]
    assert rows[1] == ["Иван Петров", 42, datetime(2025, 3, 1, 9, 5), None]
    for row, text in zip(rows[2:], DANGEROUS, strict=True):
        # openpyxl stores a text cell with data_type "s": it is never read as a formula.
        assert row[0] == "'" + text
        assert row[1] == -2
        assert row[3] == 2.5
    for cells in sheet.iter_rows(min_row=2):
        assert cells[0].data_type == "s"


def test_xlsx_of_an_empty_table_is_a_valid_workbook():
    assert read_xlsx(xlsx_bytes(["A", "B"], [])) == [["A", "B"]]


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("progress-acme-2025-03-01", "progress-acme-2025-03-01.csv"),
        ("Прогрес Черно море ООД", "Progres-Cherno-more-OOD.csv"),
        ('a"b\r\nc;d', "a-b-c-d.csv"),
        ("../../etc/passwd", "etc-passwd.csv"),
        ("", "export.csv"),
        ("ÄÖü café", "AOu-cafe.csv"),
        ("x" * 300, "x" * 100 + ".csv"),
    ],
)
def test_safe_filename_is_plain_ascii(stem, expected):
    assert safe_filename(stem, "csv") == expected


def test_tabular_response_csv(app):
    response = tabular_response("Отчет Acme", ["Name"], [["=1+1"]], "csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="Otchet-Acme.csv"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert read_csv(response.get_data()) == [["Name"], ["'=1+1"]]


def test_tabular_response_xlsx(app):
    response = tabular_response("report", ["Name", "Score"], iter([["@SUM(A1)", 3]]), "xlsx")
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"] == 'attachment; filename="report.xlsx"'
    assert read_xlsx(response.get_data()) == [["Name", "Score"], ["'@SUM(A1)", 3]]


def test_tabular_response_refuses_unknown_formats(app):
    with pytest.raises(ValueError, match="unknown export format"):
        tabular_response("report", ["A"], [], "html")
