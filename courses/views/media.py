"""Course images, served from the database. They are shown in <img> tags; opened directly they
download (attachment) and run nothing (a sandboxing Content-Security-Policy)."""

from __future__ import annotations

from flask import abort, make_response

from courses.models import Media
from courses.views import bp
from lms.extensions import db


@bp.route("/media/<int:media_id>/<name>")
def media(media_id: int, name: str):
    item = db.session.get(Media, media_id)
    if item is None or item.name != name:
        abort(404)
    response = make_response(item.data)
    response.headers["Content-Type"] = item.content_type
    response.headers["Content-Disposition"] = f'attachment; filename="{item.name}"'
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["ETag"] = item.sha256
    return response
