"""SQL statements of a quiz submission: the attempt, its quiz and course are read together and
the completion check reads the quizzes and the learner's attempts together, so submitting
costs a fixed, small number of statements whatever the number of questions."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.extensions import db
from quizzes.models import Answer, Attempt, AttemptStatus
from tests.conftest import csrf_token, login, logout
from tests.quizzes.test_attempts import answers_form, qids, start
from tests.support.measure import counted_statements


def test_a_failed_submission_takes_few_statements_and_stores_everything(client, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    form = answers_form(quiz, right=False)
    form.pop(f"q-{qids(quiz)['essay']}")  # no essay: the attempt is scored at once
    data = {
        **form,
        "action": "submit",
        "csrf_token": csrf_token(client, f"/quizzes/attempts/{attempt_id}"),
    }
    with counted_statements() as statements:
        response = client.post(f"/quizzes/attempts/{attempt_id}", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == AttemptStatus.FINISHED and not attempt.passed
    stored = db.session.scalar(select(func.count(Answer.id)).where(Answer.attempt_id == attempt_id))
    assert stored == len(quiz.slots)
    # BEGIN, user, attempt+quiz+course, claim, saved answers, insert answers, attempt result,
    # enrolment (find, touch), done lessons, quizzes+attempts.
    assert len(statements) <= 11, statements


def test_an_attempt_of_someone_else_is_404_in_the_same_single_read(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    logout(client)
    login(client, "other.learner@example.org")
    with counted_statements() as statements:
        response = client.get(f"/quizzes/attempts/{attempt_id}")
    assert response.status_code == 404
    assert len(statements) <= 3, statements  # BEGIN, user, attempt+quiz+course
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).status == AttemptStatus.IN_PROGRESS
