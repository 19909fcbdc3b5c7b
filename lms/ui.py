"""What the base layout shows that plugins fill: the main menu and template hooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from lms.signals import collect, get_menu_items, get_template_hook


@dataclass(frozen=True)
class MenuItem:
    """A link in the main navigation. `order` sorts it; lower comes first."""

    label: str
    endpoint: str
    order: int = 100
    url_kwargs: tuple[tuple[str, object], ...] = ()

    @property
    def url(self) -> str:
        if self.url_kwargs:
            return url_for(self.endpoint, **dict(self.url_kwargs))
        # Menu links without arguments are the same on every page: built once per process
        # (per application root), not twice per link on every page.
        key = (self.endpoint, request.script_root)
        url = _plain_urls.get(key)
        if url is None:
            url = _plain_urls[key] = url_for(self.endpoint)
        return url


_plain_urls: dict[tuple[str, str], str] = {}


def menu_items() -> list[MenuItem]:
    items = collect(get_menu_items, None, user=current_user)
    return sorted(items, key=lambda item: (item.order, item.label))


def template_hook(name: str, **kwargs: object) -> Markup:
    """Join what receivers of `get-template-hook` answer for the hook `name`."""
    # Receivers are plugin code returning rendered templates (already escaped), not user input.
    parts = collect(get_template_hook, name, **kwargs)
    return Markup("").join(Markup(v) for v in parts)  # noqa: S704


def size_class_label(klass: str | None) -> str:
    labels = {
        "micro": _("micro"),
        "small": _("small"),
        "medium": _("medium"),
        "large": _("large (not an SME)"),
    }
    return labels.get(str(klass), _("unknown")) if klass else _("unknown")


def company_is_startup(company) -> bool:  # noqa: ANN001
    config = current_app.config
    return company.is_startup_on(
        date.today(), config["STARTUP_MIN_MONTHS"], config["STARTUP_MAX_MONTHS"]
    )


def role_labels() -> dict[str, str]:
    return {
        "learner": _("Learner"),
        "trainer": _("Trainer"),
        "coordinator": _("Company coordinator"),
        "admin": _("Cluster admin"),
    }


def init_ui(app: Flask) -> None:
    app.jinja_env.globals.update(
        get_locale=get_locale,
        menu_items=menu_items,
        template_hook=template_hook,
        size_class_label=size_class_label,
        company_is_startup=company_is_startup,
        role_labels=role_labels,
    )
