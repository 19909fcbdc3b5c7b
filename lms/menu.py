"""The core's own entries in the main menu (plugins add theirs through the same signal)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.signals import get_menu_items
from lms.ui import MenuItem


def _core_menu(sender: object, user, **kwargs: object) -> list[MenuItem]:  # noqa: ANN001
    items = [MenuItem(_l("Home"), "main.home", order=0)]
    if user.is_authenticated and user.has_role("coordinator"):
        items.append(MenuItem(_l("My company"), "company.index", order=80))
    if user.is_authenticated and user.is_admin:
        items.append(MenuItem(_l("Administration"), "admin.index", order=90))
    return items


def connect_core_menu() -> None:
    get_menu_items.connect(_core_menu, weak=False)
