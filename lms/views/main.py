"""Public pages: home, privacy notice, health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from lms.database import write_intent
from lms.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return render_template("home_user.html")
    return render_template("home_public.html")


@bp.route("/privacy")
def privacy():
    return render_template("privacy.html")


@bp.route("/healthz")
def healthz():
    """For load balancers and monitoring: is the database reachable?"""
    try:
        with write_intent(False):
            db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
