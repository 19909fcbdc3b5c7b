"""The Flask extensions, created unbound so every module can import them without the app."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from lms.i18n import LmsBabel

# Stable constraint names, so migrations can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model, core and plugins alike."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LmsSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy whose `paginate` bounds the `?page=` it reads: a page number beyond
    64 bits would overflow the database driver's OFFSET (a 500 instead of an empty page)."""

    MAX_PAGE = 1_000_000

    def paginate(self, select: Any, *, page: int | None = None, **kwargs: Any) -> Any:
        if page is None and has_request_context():
            with contextlib.suppress(TypeError, ValueError):
                page = min(int(request.args.get("page", 1)), self.MAX_PAGE)
        return super().paginate(select, page=page, **kwargs)


db = LmsSQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = LmsBabel()
