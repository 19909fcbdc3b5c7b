"""Scale-out: two app servers (two gunicorn processes on two ports) on one PostgreSQL, used at
once, behave as one: sessions, logout, certificates and concurrent submits."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from tests.conftest import PASSWORD
from tests.support.http import Session
from tests.support.seed import seeded_app
from tests.support.servers import LiveServer, start_gunicorn, stop_server

pytestmark = pytest.mark.server


@pytest.fixture
def two_servers(
    fresh_postgres_url: str, tmp_path
) -> Iterator[tuple[object, LiveServer, LiveServer]]:
    """A migrated PostgreSQL database with a learner, a course with a quiz, and two gunicorn
    servers (2 workers each) on it."""
    app = seeded_app(fresh_postgres_url, slug="scale", with_quiz=True)
    first = start_gunicorn(fresh_postgres_url, workers=2, log_dir=tmp_path)
    try:
        second = start_gunicorn(fresh_postgres_url, workers=2, log_dir=tmp_path)
    except Exception:
        stop_server(first)
        raise
    try:
        yield app, first, second
    finally:
        stop_server(first)
        stop_server(second)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _moved(session: Session, base_url: str) -> Session:
    """The same browser (cookies) talking to another server."""
    other = Session(base_url)
    other.cookies = session.cookies
    other.opener = session.opener
    other.base_url = base_url
    return other


def test_two_servers_on_one_postgresql_behave_as_one(two_servers):
    app, first, second = two_servers
    from certificates.models import Certificate
    from courses.models import Course, Lesson
    from quizzes.models import Attempt, Quiz

    with app.app_context():
        course = db.session.scalar(select(Course))
        lessons = [lesson.id for lesson in db.session.scalars(select(Lesson).order_by(Lesson.id))]
        quiz_id = db.session.scalar(select(Quiz.id))
        db.session.remove()

    # A session made on the first server is valid on the second.
    on_first = Session(first.url)
    assert (
        on_first.post("/login", {"email": "learner@example.org", "password": PASSWORD}).status
        == 302
    )
    on_second = _moved(on_first, second.url)
    assert "Elena Seeded" in on_second.get("/account/").text

    # Work spread over both: lessons on one, the quiz on the other.
    for index, lesson_id in enumerate(lessons):
        server = on_first if index % 2 == 0 else on_second
        reply = server.post(f"/courses/{course.slug}/lessons/{lesson_id}/done")
        assert reply.status == 302, reply.text[:300]
    started = on_second.post(f"/quizzes/{quiz_id}/start")
    assert started.status == 302
    attempt_path = started.headers["Location"].replace(second.url, "")
    token = on_second.csrf(attempt_path)
    with app.app_context():
        attempt = db.session.scalar(select(Attempt))
        answers = {}
        for question in attempt.questions:
            data = question["data"]
            right = next(o for o in data["options"] if o.get("fraction", 0) >= 1)
            answers[f"q-{question['question_id']}"] = right["id"]
        db.session.remove()

    # Twenty concurrent submits spread over both servers record one submission.
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def submit(n: int) -> None:
        server = on_first if n % 2 == 0 else on_second
        barrier.wait()
        reply = server.post(attempt_path, {"action": "submit", **answers}, token)
        with lock:
            statuses.append(reply.status)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302] + [409] * 19, statuses

    with app.app_context():
        attempts = list(db.session.scalars(select(Attempt)))
        assert len(attempts) == 1 and attempts[0].status == "finished" and attempts[0].score == 1
        # The course is complete: its certificate was issued once, by whichever server.
        certificates = list(db.session.scalars(select(Certificate)))
        assert len(certificates) == 1
        code = certificates[0].code
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
        db.session.remove()

    # The certificate verifies on both servers (public, no session).
    for server in (first, second):
        reply = Session(server.url).get(f"/verify/{code}.json")
        assert reply.status == 200 and json.loads(reply.text)["status"] == "valid"

    # Logout on the second server ends the session on the first too.
    assert on_second.post("/logout").status == 302
    reply = on_first.get("/account/")
    assert reply.status == 302 and "/login" in reply.headers["Location"]
