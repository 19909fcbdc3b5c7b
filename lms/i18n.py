"""Language selection: the user's saved language, else the visitor's choice in the session,
else the browser's preference among the supported languages."""

from __future__ import annotations

from functools import cached_property

from babel import support
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale, get_translations
from flask_babel import _get_current_context as _babel_context
from flask_login import current_user
from sqlalchemy.exc import DBAPIError


def select_locale() -> str:
    if not has_request_context():
        return "en"  # command-line output for operators is in English
    languages = current_app.config["LANGUAGES"]
    try:
        if current_user and current_user.is_authenticated and current_user.language in languages:
            return current_user.language
    except DBAPIError:
        pass  # the database is down: an error page is being rendered; fall through
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]


class RequestDomain(Domain):
    """Flask-Babel's domain, with the catalogue remembered for the request.

    Flask-Babel finds the catalogue again for every string (context, locale, its string key,
    cache): a page translates dozens. Here the answer is kept on Flask-Babel's own per-request
    namespace next to the locale object it was found for; `force_locale` and `refresh` put
    another locale object there (or none), so they are followed. The catalogues themselves
    stay Flask-Babel's per-process cache, as before."""

    def get_translations(self) -> support.NullTranslations:
        remembered = _remembered(self)
        if remembered is not None:
            return remembered
        ctx = _babel_context()
        if ctx is None:
            return support.NullTranslations()
        locale = get_locale()
        translations = super().get_translations()
        ctx.lms_translations = (locale, self, translations)
        return translations


def _remembered(domain: Domain | None) -> support.NullTranslations | None:
    """The catalogue `RequestDomain` kept for this request, if it is still the one for the
    current locale and `domain` (None: the request's active domain)."""
    try:
        namespace = g._get_current_object().__dict__.get("_flask_babel")
    except RuntimeError:  # no application context
        return None
    if namespace is None:
        return None
    state = namespace.__dict__
    remembered = state.get("lms_translations")
    if remembered is None or remembered[0] is not state.get("babel_locale"):
        return None
    if remembered[1] is not (domain if domain is not None else state.get("babel_domain")):
        return None
    return remembered[2]


def request_translations() -> support.NullTranslations:
    """The request's catalogue: the remembered one, else Flask-Babel's lookup."""
    remembered = _remembered(None)
    return remembered if remembered is not None else get_translations()


def init_templates(app: Flask) -> None:
    """Templates translate through `request_translations` (Flask-Babel installs callables that
    look the catalogue up again for every string); `_` is the same function as `gettext`."""
    env = app.jinja_env
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    env.globals["_"] = env.globals["gettext"]


class LmsBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return RequestDomain(domain=self.domain)
