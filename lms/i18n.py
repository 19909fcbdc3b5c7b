"""Language selection: the user's saved language, else the visitor's choice in the session,
else the browser's preference among the supported languages."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
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
