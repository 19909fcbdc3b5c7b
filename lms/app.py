"""The application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Request,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

from lms.config import build_config, check_production_safety
from lms.database import is_unavailable, reset_write_intent, set_write_intent
from lms.extensions import babel, csrf, db, login_manager, migrate
from lms.i18n import init_templates, select_locale
from lms.plugins import PluginManager
from lms.security import init_security
from lms.ui import init_ui

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")
RETRY_AFTER_SECONDS = 2

log = logging.getLogger("lms")


class BoundedInt(IntegerConverter):
    """`<int:...>` limited to what every database can store: a larger id in a URL answers
    404 instead of overflowing in the driver."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002, ANN001
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


class NulFreeString(UnicodeConverter):
    """`<slug>`, `<string:...>` without NUL characters, which PostgreSQL refuses in text: such
    a URL answers 404 instead of failing in the driver."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002, ANN001
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]", 1)


class NulFreePath(PathConverter):
    """`<path:...>` without NUL characters (see NulFreeString)."""

    regex = "[^/\\x00][^\\x00]*?"


class LmsRequest(Request):
    """Drops the parts of a multipart body that have no name: Werkzeug files them under the
    key None, which code iterating the form (Flask-WTF's CSRF check first) cannot handle."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        for name in ("form", "files"):
            data = self.__dict__.get(name)
            if data is not None and None in data:
                for upload in data.getlist(None):
                    if hasattr(upload, "close"):
                        upload.close()  # a dropped file's temporary file
                kept = [(k, v) for k, v in data.items(multi=True) if k is not None]
                self.__dict__[name] = self.parameter_storage_class(kept)


class LmsJSONProvider(DefaultJSONProvider):
    """JSON nested deeper than the parser goes is invalid JSON (`request.get_json` answers
    400, or None when silent) instead of a RecursionError (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as error:
            raise ValueError("JSON nested too deeply") from error


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build an app: settings, extensions, core blueprints, then the enabled plugins."""
    app = Flask("lms", instance_relative_config=True)
    app.request_class = LmsRequest
    app.json = LmsJSONProvider(app)
    app.url_map.converters["int"] = BoundedInt
    app.url_map.converters.update(default=NulFreeString, string=NulFreeString, path=NulFreePath)
    app.config.update(build_config(app.instance_path, config))
    check_production_safety(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", str(Path(app.root_path) / "translations")
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # the session version does this job, across servers

    init_security(app)
    init_ui(app)
    _register_core(app)
    _register_error_handlers(app)

    from lms import models  # noqa: F401 - the core tables, before plugins add theirs

    app.extensions["lms_plugins"] = manager = PluginManager()
    manager.load(app)
    # After the plugins, which add their catalogues to BABEL_TRANSLATION_DIRECTORIES.
    babel.init_app(app, locale_selector=select_locale)
    init_templates(app)
    return app


def _register_core(app: Flask) -> None:
    from lms import cli, menu
    from lms.views import account, admin, auth, company, main, privacy

    for blueprint in (main.bp, auth.bp, account.bp, admin.bp, company.bp, privacy.bp):
        app.register_blueprint(blueprint)
    from lms.views import reports  # the grant report (lms.reports)

    app.register_blueprint(reports.bp)
    app.cli.add_command(cli.lms_group)
    menu.connect_core_menu()
    privacy.connect_hooks()

    @app.before_request
    def declare_write_intent() -> None:
        g.write_intent_token = set_write_intent(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def restore_write_intent(error: BaseException | None = None) -> None:
        token = g.pop("write_intent_token", None)
        if token is not None:
            reset_write_intent(token)


def _wants_json() -> bool:
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


def _error_response(
    code: int,
    title: str,
    message: str,
    headers: dict[str, str] | None = None,
    standalone: bool = False,
):
    """An error page without internals. `standalone` pages do not touch the database (no
    menu, no user), for when the database itself is the problem."""
    if _wants_json():
        response = jsonify(error=title, message=message, request_id=g.get("request_id"))
    else:
        layout = "errors/standalone.html" if standalone or code >= 500 else "base.html"
        if layout == "errors/standalone.html" and "_login_user" not in g:
            # Rendering would load the user from the database (Flask-Login's context
            # processor, the locale), which may be what just failed: render as anonymous.
            g._login_user = current_app.login_manager.anonymous_user()
        page = render_template(
            "errors/error.html", code=code, title=title, message=message, layout=layout
        )
        response = make_response(page)
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _register_error_handlers(app: Flask) -> None:
    messages = {
        400: lambda: (
            _("Bad request"),
            _("The request could not be understood. Check the form and try again."),
        ),
        403: lambda: (_("Not allowed"), _("Your account does not have access to this page.")),
        404: lambda: (_("Page not found"), _("There is no page at this address.")),
        405: lambda: (
            _("Method not allowed"),
            _("This address does not accept that kind of request."),
        ),
        413: lambda: (_("Too large"), _("The file or form you sent is too large.")),
        429: lambda: (_("Too many requests"), _("Please wait a little and try again.")),
        500: lambda: (
            _("Something went wrong"),
            _("An unexpected error happened. It has been logged; please try again later."),
        ),
        503: lambda: (
            _("Temporarily unavailable"),
            _("The service is busy. Please try again in a moment."),
        ),
    }

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _error_response(
            400,
            _("Form expired"),
            _(
                "The form was open too long or came from another site. Reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        title, message = messages.get(code, messages[400 if code < 500 else 500])()
        headers = {}
        valid_methods = getattr(error, "valid_methods", None)
        if code == 405 and valid_methods:
            headers["Allow"] = ", ".join(valid_methods)
        if code == 503:
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return _error_response(code, title, message, headers)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        db.session.rollback()
        if is_unavailable(error):
            app.logger.warning(
                "Database unavailable (request %s): %s", g.get("request_id"), error.orig
            )
            title, message = messages[503]()
            return _error_response(503, title, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})
        return unexpected_error(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        app.logger.error(
            "Unhandled error (request %s) on %s %s",
            g.get("request_id"),
            request.method,
            request.path,
            exc_info=error,
        )
        title, message = messages[500]()
        return _error_response(500, title, message)
