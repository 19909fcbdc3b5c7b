"""Company rules from EU law that reporting depends on: the Bulgarian UIC (EIK/BULSTAT) check
digits, the SME size class of Recommendation 2003/361/EC, and the configurable start-up rule.

Pure functions, so models, forms, reports and tests share one definition.
"""

from __future__ import annotations

import calendar
import enum
from datetime import date
from decimal import Decimal


class SizeClass(enum.StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


# (headcount strictly below, turnover at most, balance-sheet total at most), in EUR.
_CEILINGS: tuple[tuple[SizeClass, int, int, int], ...] = (
    (SizeClass.MICRO, 10, 2_000_000, 2_000_000),
    (SizeClass.SMALL, 50, 10_000_000, 10_000_000),
    (SizeClass.MEDIUM, 250, 50_000_000, 43_000_000),
)


def size_class(
    headcount: int, turnover_eur: Decimal | int | None, balance_sheet_eur: Decimal | int | None
) -> SizeClass:
    """Classify an enterprise: the headcount ceiling is mandatory, and turnover OR balance-sheet
    total must be within its ceiling. Unknown financial figures count as within the ceiling, so
    a company that declared only its headcount is classed by headcount alone."""
    for klass, staff_below, turnover_max, balance_max in _CEILINGS:
        if headcount >= staff_below:
            continue
        turnover_ok = turnover_eur is None or turnover_eur <= turnover_max
        balance_ok = balance_sheet_eur is None or balance_sheet_eur <= balance_max
        if turnover_ok or balance_ok:
            return klass
    return SizeClass.LARGE


def is_sme(klass: SizeClass) -> bool:
    return klass is not SizeClass.LARGE


def add_months(start: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def is_startup(
    registered_on: date | None,
    klass: SizeClass,
    listed: bool,
    on: date,
    min_months: int,
    max_months: int,
) -> bool:
    """An unlisted micro or small enterprise whose registration lies between `min_months` and
    `max_months` before `on` (GBER art. 22 by default: 0 to 60 months)."""
    if registered_on is None or listed or klass not in (SizeClass.MICRO, SizeClass.SMALL):
        return False
    return add_months(registered_on, min_months) <= on <= add_months(registered_on, max_months)


def _weighted_mod11(digits: list[int], weights: list[int]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 11


def _check_digit(digits: list[int], first: list[int], second: list[int]) -> int:
    remainder = _weighted_mod11(digits, first)
    if remainder == 10:
        remainder = _weighted_mod11(digits, second) % 10
    return remainder


def normalise_uic(raw: str) -> str:
    """Strip spaces, dashes and a leading BG (VAT form) from a UIC as people type it."""
    value = "".join(ch for ch in raw.strip().upper() if ch not in " -.")
    return value[2:] if value.startswith("BG") else value


def is_valid_uic(raw: str) -> bool:
    """Validate a Bulgarian UIC/EIK of 9 digits (legal entities) or 13 digits (branches),
    including both check digits."""
    value = normalise_uic(raw)
    if len(value) not in (9, 13) or not value.isascii() or not value.isdigit():
        return False
    d = [int(c) for c in value]
    if _check_digit(d[:8], [1, 2, 3, 4, 5, 6, 7, 8], [3, 4, 5, 6, 7, 8, 9, 10]) != d[8]:
        return False
    if len(d) == 13:
        return _check_digit(d[8:12], [2, 7, 3, 5], [4, 9, 5, 7]) == d[12]
    return True
