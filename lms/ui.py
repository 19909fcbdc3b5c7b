"""What the base layout shows that plugins fill: the main menu and template hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app, has_request_context, request, url_for
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
    if not get_template_hook.has_receivers_for(name):
        return Markup("")  # most slots of most pages: nothing to ask
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


def remembered_url_for(app: Flask) -> Callable[..., str]:
    """`url_for` for templates: a page links to the same few dozen URLs again and again, and a
    relative URL depends only on the endpoint, its values and the application root (the URL
    map is fixed once the app serves). Each is built once per process and remembered (at
    most URL_CACHE_SIZE). Anything else (external URLs, anchors, relative endpoints, values
    other than strings and numbers, outside a request, an app with URL defaults, subdomains
    or host matching) is built as usual."""
    build = app.url_for
    cache: dict[tuple[object, ...], str] = {}
    state: dict[str, bool] = {}

    def cacheable() -> bool:
        if "ok" not in state:
            state["ok"] = not (
                any(app.url_default_functions.values())
                or app.url_map.host_matching
                or any(rule.subdomain for rule in app.url_map.iter_rules())
            )
        return state["ok"]

    def url_for(endpoint: str, **values: object) -> str:
        if endpoint[:1] == "." or not has_request_context() or not cacheable():
            return build(endpoint, **values)
        parts: list[object] = [endpoint, request.script_root]
        for name, value in values.items():
            if name[:1] == "_" or type(value) not in (str, int):
                return build(endpoint, **values)
            parts.append(name)
            parts.append(value)
        key = tuple(parts)
        found = cache.get(key)
        if found is None:
            found = build(endpoint, **values)
            if len(cache) >= URL_CACHE_SIZE:
                cache.clear()
            cache[key] = found
        return found

    return url_for


URL_CACHE_SIZE = 20_000


def remembered_url(endpoint: str, **values: object) -> str:
    """The templates' remembered `url_for`, for Python code that builds the same links on
    every page (template hooks)."""
    return current_app.jinja_env.globals["url_for"](endpoint, **values)


def init_ui(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = remembered_url_for(app)
    app.jinja_env.globals.update(
        get_locale=get_locale,
        menu_items=menu_items,
        template_hook=template_hook,
        size_class_label=size_class_label,
        company_is_startup=company_is_startup,
        role_labels=role_labels,
    )
