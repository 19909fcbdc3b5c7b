"""PostgreSQL stopped and started again under the running app: 503 with Retry-After during
the outage (never a 500), full recovery afterwards, nothing lost or half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from tests.conftest import PASSWORD
from tests.support.http import Session
from tests.support.seed import seeded_app
from tests.support.servers import start_gunicorn, stop_server

pytestmark = pytest.mark.server


def test_database_outage_and_recovery(private_postgres, tmp_path):
    from certificates.models import Certificate
    from courses.models import Course, Enrolment, Lesson, LessonProgress

    app = seeded_app(private_postgres.url, slug="outage")
    with app.app_context():
        lessons = list(db.session.scalars(select(Lesson.id).order_by(Lesson.id)))
        db.session.remove()
        db.engine.dispose()

    server = start_gunicorn(private_postgres.url, workers=2, log_dir=tmp_path)
    try:
        browser = Session(server.url)
        assert (
            browser.post("/login", {"email": "learner@example.org", "password": PASSWORD}).status
            == 302
        )
        assert browser.post(f"/courses/outage/lessons/{lessons[0]}/done").status == 302
        token = browser.csrf(f"/courses/outage/lessons/{lessons[1]}")

        private_postgres.stop()
        for _ in range(4):  # both workers, reads and writes
            page = browser.get("/courses/my")
            assert page.status == 503 and page.headers.get("Retry-After"), page.status
            write = browser.post(f"/courses/outage/lessons/{lessons[1]}/done", token=token)
            assert write.status == 503 and write.headers.get("Retry-After"), write.status
            assert "Traceback" not in write.text and "psycopg" not in write.text
        assert browser.get("/healthz").status in (200, 503)

        private_postgres.start()
        assert browser.get("/courses/my").status == 200
        assert browser.post(f"/courses/outage/lessons/{lessons[1]}/done", token=token).status == 302
        assert " 500 " not in server.log() and "Traceback" not in server.log()
    finally:
        stop_server(server)

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 2
        enrolment = db.session.scalar(select(Enrolment))
        assert enrolment.completed_at is not None
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
        assert db.session.scalar(select(Course.slug)) == "outage"
        db.session.remove()
        db.engine.dispose()
