"""Twenty concurrent triggers of issuance for one learner and course version give exactly one
certificate and one document: through a real gunicorn with several workers (twenty POSTs of
the course's last lesson), and through `issue_certificate` in twenty threads, each with its own
app context and database session.

The database is a fresh SQLite file (its own, so the session's live server is not involved),
or the PostgreSQL of the run when LMS_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from certificates import services
from certificates.models import Certificate, CertificateDocument
from courses import services as course_services
from courses.models import Enrolment, LessonProgress, ModuleCompletion
from lms.extensions import db
from tests.conftest import PASSWORD, make_app
from tests.support.http import Session
from tests.support.servers import LiveServer, start_gunicorn, stop_server

pytestmark = pytest.mark.server

RACERS = 20


def count(model) -> int:  # noqa: ANN001
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    """The `app` fixture (and the factories) on a fresh, migrated SQLite file; on PostgreSQL
    the run's database (its rows are deleted after each test as usual)."""
    if os.environ.get("LMS_TEST_DATABASE_URL"):
        return {}
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    scratch = make_app(url)
    with scratch.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    return {"SQLALCHEMY_DATABASE_URI": url}


@pytest.fixture
def server(app, tmp_path: Path) -> Iterator[LiveServer]:  # noqa: ANN001
    """gunicorn with 3 workers on the test's database."""
    started = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], workers=3, log_dir=tmp_path)
    yield started
    stop_server(started)


def test_twenty_concurrent_last_lesson_posts_issue_one_certificate(
    app, server, users, create_course
):
    learner = users["learner"]
    course = create_course("race", modules=1, lessons=2, title="Race course")
    first, last = course.published_modules[0].published_lessons
    course_services.enrol(learner, course)
    course_services.complete_lesson(learner, first)
    db.session.commit()
    assert count(Certificate) == 0

    session = Session(server.url)
    session.login(learner.email, PASSWORD)
    path = f"/courses/race/lessons/{last.id}"
    token = session.csrf(path)
    barrier = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def mark_done() -> None:
        barrier.wait()
        reply = session.post(f"{path}/done", {}, token)
        with lock:
            statuses.append(reply.status)

    threads = [threading.Thread(target=mark_done) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * RACERS, statuses  # every answer a redirect: no 4xx, no 5xx
    assert "Traceback" not in server.log()
    assert count(Certificate) == 1 and count(CertificateDocument) == 1
    certificate = db.session.scalar(select(Certificate))
    assert (certificate.user_id, certificate.course_id) == (learner.id, course.id)
    assert certificate.course_version == course.version and certificate.sequence == 0
    assert certificate.document.size > 1000 and certificate.pdf_sha256
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    assert enrolment.completed_at is not None
    assert count(LessonProgress) == 2 and count(ModuleCompletion) == 1
    # The course page, from any worker, shows one completion.
    assert "Completed on" in session.get("/courses/race").text


def test_twenty_threads_issuing_at_once_insert_one_row(app, users, create_course, complete_course):
    course = create_course("race", modules=1, lessons=1)
    enrolment_id = complete_course(users["learner"], course).id
    # As if the completion had been recorded before the plugin was enabled.
    db.session.execute(delete(CertificateDocument))
    db.session.execute(delete(Certificate))
    db.session.commit()
    assert [e.id for e in services.pending_enrolments()] == [enrolment_id]

    barrier = threading.Barrier(RACERS)
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def issue() -> None:
        with app.app_context():  # its own session and connection, as a worker would have
            barrier.wait()
            try:
                enrolment = db.session.get(Enrolment, enrolment_id)
                certificate = services.issue_certificate(enrolment)
                code = certificate.code
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                with lock:
                    errors.append(error)
                return
            finally:
                db.session.remove()
            with lock:
                codes.append(code)

    threads = [threading.Thread(target=issue) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(codes) == RACERS and len(set(codes)) == 1
    assert count(Certificate) == 1 and count(CertificateDocument) == 1
    certificate = db.session.scalar(select(Certificate))
    assert certificate.code == codes[0] and certificate.user_id == users["learner"].id
    assert services.pending_enrolments() == []
