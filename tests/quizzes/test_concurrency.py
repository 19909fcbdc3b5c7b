"""Twenty submits of one attempt at once, against gunicorn with several workers: exactly one
is recorded; the others answer 409 and change nothing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from quizzes import services
from quizzes.models import Answer, Attempt
from tests.conftest import PASSWORD
from tests.support.http import Session

pytestmark = pytest.mark.server


def test_twenty_concurrent_submits_record_one(live_server, users, quiz_course):
    course, quiz = quiz_course
    attempt = services.start_attempt(quiz, users["learner"])
    db.session.commit()
    session = Session(live_server.url)
    session.login("learner@example.org", PASSWORD)
    token = session.csrf(f"/quizzes/attempts/{attempt.id}")
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def submit() -> None:
        barrier.wait()
        reply = session.post(f"/quizzes/attempts/{attempt.id}", {"action": "submit"}, token)
        with lock:
            statuses.append(reply.status)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302] + [409] * 19, statuses
    db.session.rollback()
    assert db.session.scalar(select(func.count(Attempt.id))) == 1
    stored = db.session.get(Attempt, attempt.id)
    assert stored.submitted_at is not None and stored.status == "finished"  # nothing answered
    assert db.session.scalar(select(func.count(Answer.id))) == len(quiz.slots)
