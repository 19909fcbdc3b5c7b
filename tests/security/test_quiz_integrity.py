"""SECURITY.md, quizzes: scoring on the server, answer-key leakage (canary strings planted in
correct options and feedback, searched for in every response), forged scores and foreign option
ids, the attempt lifecycle (submit after finish, after the time limit, beyond max attempts),
another user's attempt and its review (404), and 20 concurrent submits against gunicorn."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import utcnow
from quizzes import services
from quizzes.models import Answer, Attempt
from tests.conftest import CSRF_RE, PASSWORD, login, post_form
from tests.quizzes.test_attempts import CANARIES, answers_form, option_id, qids, start
from tests.support.http import Session

# --- answer-key leakage -----------------------------------------------------------------------


def test_full_attempt_never_leaks_the_key_before_review(client, users, quiz_course):
    course, quiz = quiz_course
    quiz.review = {
        "score": "always",
        "correctness": "when_closed",
        "correct_answers": "when_closed",
        "feedback": "when_closed",
    }
    db.session.commit()
    login(client, "learner@example.org")
    pages = [client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)]
    attempt_id = start(client, quiz)
    pages.append(client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True))
    form = answers_form(quiz, right=False)
    response = post_form(client, f"/quizzes/attempts/{attempt_id}", {**form, "action": "save"})
    pages.append(response.get_data(as_text=True))
    pages.append(client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True))
    response = post_form(
        client,
        f"/quizzes/attempts/{attempt_id}",
        {**form, "action": "submit"},
        follow_redirects=True,
    )
    pages.append(response.get_data(as_text=True))
    pages.append(client.get(f"/courses/{course.slug}").get_data(as_text=True))
    for page in pages:
        for canary in CANARIES:
            assert canary not in page, canary
    # The essay waits for a trainer; the attempt is "pending grading", scores hidden until then.
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "pending_grading"


def test_review_shows_key_once_the_policy_allows(client, users, quiz_course):
    course, quiz = quiz_course
    quiz.review = {
        "score": "always",
        "correctness": "always",
        "correct_answers": "always",
        "feedback": "always",
    }
    db.session.commit()
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    post_form(
        client,
        f"/quizzes/attempts/{attempt_id}",
        {**answers_form(quiz, right=False), "action": "submit"},
    )
    page = client.get(f"/quizzes/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "CANARY-FB-WRONG-2" in page and "CANARY-GENERAL-1" in page  # control: the check works


def test_score_is_computed_on_the_server_and_forged_fields_ignored(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    form = answers_form(quiz, right=False)
    form.pop(f"q-{qids(quiz)['essay']}")
    response = post_form(
        client,
        f"/quizzes/attempts/{attempt_id}",
        {**form, "action": "submit", "score": "100", "passed": "1", "fraction": "1"},
    )
    assert response.status_code == 302
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "finished"
    # Wrong everywhere except two matching pairs (2/3) -> 0.667/7 = 9.5 %.
    assert abs(attempt.score - (2 / 3) / 7) < 1e-6 and attempt.passed is False


def test_foreign_option_ids_and_questions_are_refused_and_nothing_stored(
    client, users, quiz_course
):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    ids = qids(quiz)
    bank = {slot.question.name: slot.question for slot in quiz.slots}
    foreign = option_id(bank["multi"], "Wind")
    for bad in (
        {f"q-{ids['capital']}": foreign},
        {"q-999999": "x"},
        {f"q-{ids['tf']}": "maybe"},
        {f"q-{ids['short']}": "x" * 10_000},
        {f"q-{ids['match']}-nope": "x"},
    ):
        response = post_form(client, f"/quizzes/attempts/{attempt_id}", {**bad, "action": "save"})
        assert response.status_code == 400, bad
    assert db.session.scalar(select(func.count(Answer.id))) == 0


def test_another_learners_attempt_is_404(app, client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    other = app.test_client()
    login(other, "other.learner@example.org")
    assert other.get(f"/quizzes/attempts/{attempt_id}").status_code == 404
    assert other.get(f"/quizzes/attempts/{attempt_id}/review").status_code == 404
    assert (
        post_form(other, f"/quizzes/attempts/{attempt_id}", {"action": "submit"}).status_code == 404
    )
    trainer = app.test_client()
    login(trainer, "trainer@example.org")
    assert trainer.get(f"/quizzes/attempts/{attempt_id}").status_code == 404


def test_submit_twice_is_refused(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    assert (
        post_form(client, f"/quizzes/attempts/{attempt_id}", {"action": "submit"}).status_code
        == 302
    )
    response = post_form(client, f"/quizzes/attempts/{attempt_id}", {"action": "submit"})
    assert response.status_code == 409
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_submit_after_time_limit_is_refused_and_saved_answers_count(client, users, quiz_course):
    course, quiz = quiz_course
    quiz.time_limit_minutes = 10
    db.session.commit()
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    ids = qids(quiz)
    bank = {slot.question.name: slot.question for slot in quiz.slots}
    post_form(
        client,
        f"/quizzes/attempts/{attempt_id}",
        {f"q-{ids['capital']}": option_id(bank["capital"], "Sofia"), "action": "save"},
    )
    attempt = db.session.get(Attempt, attempt_id)
    attempt.deadline_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    response = post_form(
        client, f"/quizzes/attempts/{attempt_id}", {**answers_form(quiz), "action": "submit"}
    )
    assert response.status_code == 409
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.closed_automatically and attempt.submitted_at is not None
    assert abs(attempt.score - 1 / 7) < 1e-6  # only the saved answer counted


def test_no_attempt_beyond_the_maximum(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    for _ in range(3):
        attempt_id = start(client, quiz)
        post_form(client, f"/quizzes/attempts/{attempt_id}", {"action": "submit"})
    response = post_form(client, f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302 and response.headers["Location"] == f"/quizzes/{quiz.id}"
    assert "used all 3 attempts" in client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attempt.id))) == 3


def test_not_enrolled_learner_cannot_start(app, users, quiz_course):
    course, quiz = quiz_course
    client = app.test_client()
    login(client, "other.learner@example.org")
    response = post_form(client, f"/quizzes/{quiz.id}/start")
    assert response.headers["Location"] == f"/quizzes/{quiz.id}"
    assert db.session.scalar(select(func.count(Attempt.id))) == 0


def test_page_contains_no_csrf_free_forms(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    html = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    assert CSRF_RE.search(html) and re.search(r'name="q-\d+"', html)


# --- 20 concurrent submits against gunicorn -------------------------------------------


@pytest.mark.server
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


# --- new cases --------------------------------------------------------------------------------


def test_review_before_the_policy_allows_it_shows_no_key(client, users, quiz_course):
    course, quiz = quiz_course
    quiz.review = {
        "score": "always",
        "correctness": "when_closed",
        "correct_answers": "when_closed",
        "feedback": "when_closed",
    }
    db.session.commit()
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    form = answers_form(quiz, right=False)
    form.pop(f"q-{qids(quiz)['essay']}")  # finished at once, no grading
    response = post_form(
        client,
        f"/quizzes/attempts/{attempt_id}",
        {**form, "action": "submit"},
        follow_redirects=True,
    )
    pages = [response.get_data(as_text=True)]
    for path in (
        f"/quizzes/attempts/{attempt_id}/review",
        f"/quizzes/attempts/{attempt_id}",
        f"/quizzes/{quiz.id}",
    ):
        pages.append(client.get(path).get_data(as_text=True))
    assert db.session.get(Attempt, attempt_id).status == "finished"
    for page in pages:
        for canary in CANARIES:
            assert canary not in page, canary


def test_no_response_to_the_learner_carries_a_canary(app, users, quiz_course, route_arguments):
    """Every GET route of the app, with the quiz's course, module, quiz and an attempt in
    progress as its arguments, as the learner taking the quiz: no canary in any answer."""
    from flask import url_for

    course, quiz = quiz_course
    client = app.test_client()
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    post_form(
        client,
        f"/quizzes/attempts/{attempt_id}",
        {**answers_form(quiz, right=True), "action": "save"},
    )
    module = course.published_modules[0]
    arguments = {
        **route_arguments,
        "slug": course.slug,
        "course_id": course.id,
        "module_id": module.id,
        "lesson_id": module.published_lessons[0].id,
        "quiz_id": quiz.id,
        "attempt_id": attempt_id,
    }
    seen = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{a: arguments[a] for a in rule.arguments})
        response = client.get(url)
        body = response.get_data().decode("utf-8", errors="replace")  # PDFs and images too
        for canary in CANARIES:
            assert canary not in body, (url, canary)
        seen += response.status_code == 200
    assert seen > 15  # the sweep really read pages
