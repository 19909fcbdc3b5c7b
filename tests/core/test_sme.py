"""EU SME classes, the start-up rule and Bulgarian UIC check digits, on hand-worked cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lms.sme import SizeClass, add_months, is_startup, is_valid_uic, size_class


@pytest.mark.parametrize(
    ("headcount", "turnover", "balance", "expected"),
    [
        (9, 2_000_000, 2_000_000, SizeClass.MICRO),  # ceilings are inclusive for money
        (9, 2_000_001, 1_000_000, SizeClass.MICRO),  # turnover over, balance within: OR rule
        (9, 2_000_001, 2_000_001, SizeClass.SMALL),  # both over micro
        (10, 100, 100, SizeClass.SMALL),  # headcount ceiling is strict (< 10)
        (49, 10_000_000, 50_000_000, SizeClass.SMALL),
        (50, 1, 1, SizeClass.MEDIUM),
        (249, 60_000_000, 43_000_000, SizeClass.MEDIUM),  # balance sheet saves it
        (249, 50_000_000, 99_000_000, SizeClass.MEDIUM),  # turnover saves it
        (249, 50_000_001, 43_000_001, SizeClass.LARGE),
        (250, 1, 1, SizeClass.LARGE),  # headcount ceiling is mandatory
        (5, None, None, SizeClass.MICRO),  # figures not declared: classed by headcount
        (30, Decimal("12000000.50"), None, SizeClass.SMALL),
    ],
)
def test_size_class(headcount, turnover, balance, expected):
    assert size_class(headcount, turnover, balance) is expected


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(date(2020, 1, 31), 1) == date(2020, 2, 29)
    assert add_months(date(2021, 1, 31), 1) == date(2021, 2, 28)
    assert add_months(date(2020, 11, 15), 60) == date(2025, 11, 15)
    assert add_months(date(2020, 3, 15), -3) == date(2019, 12, 15)


@pytest.mark.parametrize(
    ("registered", "klass", "listed", "rule", "expected"),
    [
        (date(2021, 6, 1), SizeClass.SMALL, False, (0, 60), True),  # 60 months: still in
        (date(2021, 5, 31), SizeClass.SMALL, False, (0, 60), False),  # 60 months and a day
        (date(2026, 6, 1), SizeClass.MICRO, False, (0, 60), True),
        (date(2026, 6, 1), SizeClass.MICRO, False, (6, 48), False),  # Bulgarian call: >= 6
        (date(2025, 12, 1), SizeClass.MICRO, False, (6, 48), True),
        (date(2024, 1, 1), SizeClass.MEDIUM, False, (0, 60), False),  # medium is never one
        (date(2024, 1, 1), SizeClass.SMALL, True, (0, 60), False),  # listed is never one
        (None, SizeClass.SMALL, False, (0, 60), False),
    ],
)
def test_startup_rule(registered, klass, listed, rule, expected):
    assert is_startup(registered, klass, listed, date(2026, 6, 1), *rule) is expected


@pytest.mark.parametrize(
    "uic",
    ["175074752", "BG175074752", "175 074 752", "203123451", "102543212", "1750747520004"],
)
def test_valid_uics(uic):
    assert is_valid_uic(uic)


@pytest.mark.parametrize(
    "uic",
    [
        "175074751",
        "17507475",
        "1750747521",
        "abcdefghi",
        "",
        "１７５０７４７５２",
        "1750747520000",
        "17507475200040",
        "1750747510004",
    ],
)
def test_invalid_uics(uic):
    assert not is_valid_uic(uic)


def test_thirteen_digit_check_falls_back_to_second_weights():
    # Digits 9-12 of 175074752 0 2 0: 2*2 + 7*0 + 3*2 + 5*0 = 10, so the second weights apply:
    # 4*2 + 9*0 + 5*2 + 7*0 = 18, 18 mod 11 = 7.
    assert is_valid_uic("1750747520207")
    assert not is_valid_uic("1750747520200")
