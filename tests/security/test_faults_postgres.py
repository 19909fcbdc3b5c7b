"""PostgreSQL stopped and started again under the running app: 503 with Retry-After during
the outage (never a 500), full recovery afterwards, nothing lost or half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from tests.conftest import PASSWORD, make_app
from tests.support.http import Session
from tests.support.servers import start_gunicorn, stop_server

pytestmark = pytest.mark.server


def test_database_outage_and_recovery(private_postgres, tmp_path):
    from flask_migrate import upgrade

    from certificates.models import Certificate
    from courses import services as course_services
    from courses.models import Course, Enrolment, Lesson, LessonProgress
    from lms import services

    app = make_app(private_postgres.url)
    with app.app_context():
        upgrade()
        learner = services.create_user(
            services.UserData(email="learner@example.org", name="Outage Learner", password=PASSWORD)
        )
        trainer = services.create_user(
            services.UserData(
                email="t@example.org", name="T", password=PASSWORD, roles=("trainer",)
            )
        )
        course = course_services.create_course(
            course_services.CourseData(
                slug="outage",
                title="Outage",
                topic="circular-economy",
                language="en",
                summary="s",
                contact_hours=1,
                self_study_hours=1,
                learning_outcomes=["Survive."],
                greencomp=["2.1"],
            ),
            owners=[trainer],
        )
        module = course_services.add_module(course, "M")
        course_services.add_lesson(module, "L1", "One.", 5)
        course_services.add_lesson(module, "L2", "Two.", 5)
        course_services.publish_course(course)
        course_services.enrol(learner, course)
        db.session.commit()
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
