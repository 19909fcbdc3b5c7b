"""The floor under the quiz-submit figure: the least any quiz submission costs on this stack.

A Flask app made of the same parts as the LMS (Flask-SQLAlchemy with the LMS's SQLite
settings, Flask-Login loading the user from the database and checking its session version,
a Flask-WTF form checking the CSRF token) whose one POST does only what every submission must:
authenticate, check the token, read the attempt and its owner, claim it once with a conditional
UPDATE, insert one row per answer field and commit, then redirect. No question is read,
validated or scored, no completion is recomputed, no page is translated.

`make bench` serves it (`bench.floor:make_app()`) with the same gunicorn settings and drives it exactly as the real
submit (same answer fields, attempts made untimed between rounds), so the quiz-submit ratio can
be read against what the stack allows: if the floor itself sits near the goal, the goal is a
property of the stack, not of the quiz engine.
"""

from __future__ import annotations

import os
import urllib.parse

from flask import Flask, abort, redirect, request
from flask_login import LoginManager, current_user, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

import lms.database  # noqa: F401 - the LMS's SQLite settings (WAL, BEGIN IMMEDIATE) apply here too
from bench.driver import Result, timed_rounds
from bench.driver import request as http_request

db = SQLAlchemy()
login_manager = LoginManager()


class FloorUser(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    session_version: Mapped[int] = mapped_column(default=0)
    is_active = True
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class FloorAttempt(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
    submitted: Mapped[bool] = mapped_column(default=False)


class FloorAnswer(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int]
    field: Mapped[str]
    value: Mapped[str]


@login_manager.user_loader
def load_user(user_id: str) -> FloorUser | None:
    number, _, version = user_id.partition(":")
    user = db.session.get(FloorUser, int(number))
    return user if user is not None and str(user.session_version) == version else None


def login() -> str:
    login_user(db.session.get(FloorUser, 1))
    return generate_csrf()


@login_required
def submit(attempt_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    attempt = db.session.get(FloorAttempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    claimed = db.session.execute(
        update(FloorAttempt)
        .where(FloorAttempt.id == attempt_id, FloorAttempt.submitted.is_(False))
        .values(submitted=True)
    )
    if claimed.rowcount != 1:
        abort(409)
    rows = [
        {"attempt_id": attempt_id, "field": name, "value": value}
        for name, value in request.form.items()
        if name.startswith("q-")
    ]
    db.session.execute(insert(FloorAnswer), rows)
    db.session.commit()
    return redirect(f"/attempts/{attempt_id}/review")


def make_app(database_url: str | None = None) -> Flask:
    """The floor app on `database_url` (gunicorn: `bench.floor:make_app()`, which reads
    BENCH_FLOOR_DATABASE_URL), with its schema and its one user."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-floor-secret-0123456789-abcdefghijkl"),
        SQLALCHEMY_DATABASE_URI=database_url or os.environ["BENCH_FLOOR_DATABASE_URL"],
    )
    db.init_app(app)
    login_manager.init_app(app)
    app.add_url_rule("/login", view_func=login)
    app.add_url_rule("/attempts/<int:attempt_id>", view_func=submit, methods=["POST"])
    with app.app_context():
        db.create_all()
        if db.session.get(FloorUser, 1) is None:
            db.session.add(FloorUser(id=1))
            db.session.commit()
    return app


def _new_attempts(app: Flask, count: int) -> list[int]:
    with app.app_context():
        made = [FloorAttempt(user_id=1) for _ in range(count)]
        db.session.add_all(made)
        db.session.commit()
        return [attempt.id for attempt in made]


def _stored(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(FloorAnswer.id))) or 0


def submit_load(
    app: Flask,
    port: int,
    fields: dict[str, str],
    seconds: float,
    clients: int,
    per_round: int = 256,
) -> Result:
    """As bench.quizzes.submit_load: only the submit POSTs are timed; attempts are made
    in-process between rounds while the server is idle."""
    page = http_request(port, "GET", "/login")
    cookie = page.getheader("Set-Cookie").split(";")[0]
    body = urllib.parse.urlencode({**fields, "csrf_token": page.body.decode()})
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    stored_before = _stored(app)

    def send(attempt_id: int) -> bool:
        return http_request(port, "POST", f"/attempts/{attempt_id}", headers, body).status == 302

    result = timed_rounds(lambda: _new_attempts(app, per_round), send, seconds, clients)
    stored = _stored(app) - stored_before
    per_submit = sum(1 for name in fields if name.startswith("q-"))
    if stored != result.requests * per_submit:
        raise RuntimeError(f"floor app stored {stored} rows for {result.requests} submissions")
    return result
