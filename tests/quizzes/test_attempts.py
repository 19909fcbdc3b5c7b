"""Taking quizzes: server-side scoring, no answer key before the review allows it, forged and
foreign input refused, the attempt lifecycle, and completion."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from courses.models import Enrolment, ModuleCompletion
from lms.extensions import db
from lms.models import utcnow
from quizzes import services
from quizzes.models import Answer, Attempt, Question
from tests.conftest import CSRF_RE, login, post_form

CANARIES = ("CANARY-FB", "CANARY-GENERAL", "CANARYPUE")


def qids(quiz):
    return {slot.question.name: slot.question_id for slot in quiz.slots}


def option_id(question: Question, text: str) -> str:
    return next(o["id"] for o in question.data["options"] if o["text"] == text)


def start(client, quiz) -> int:
    response = post_form(client, f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302, response.status_code
    return int(response.headers["Location"].rsplit("/", 1)[1])


def answers_form(quiz, right: bool = True) -> dict:
    bank = {slot.question.name: slot.question for slot in quiz.slots}
    ids = qids(quiz)
    match = bank["match"].data
    choice = {c["text"]: c["id"] for c in match["choices"]}
    pairs = {p["left"]: p["id"] for p in match["pairs"]}
    return {
        f"q-{ids['capital']}": option_id(bank["capital"], "Sofia" if right else "Varna"),
        f"q-{ids['multi']}": [option_id(bank["multi"], "Wind"), option_id(bank["multi"], "Solar")]
        if right else [option_id(bank["multi"], "Coal")],
        f"q-{ids['multi']}-present": "1",
        f"q-{ids['tf']}": "true" if right else "false",
        f"q-{ids['short']}": " canarypue " if right else "nope",
        f"q-{ids['num']}": "1,5" if right else "2",
        f"q-{ids['match']}-{pairs['Wind']}": choice["renewable"],
        f"q-{ids['match']}-{pairs['Coal']}": choice["fossil"],
        f"q-{ids['match']}-{pairs['Uranium']}": choice["nuclear"] if right else choice["fossil"],
        f"q-{ids['essay']}": "Switch off monitors at night.",
    }


def test_full_attempt_never_leaks_the_key_before_review(client, users, quiz_course):
    course, quiz = quiz_course
    quiz.review = {"score": "always", "correctness": "when_closed",
                   "correct_answers": "when_closed", "feedback": "when_closed"}
    db.session.commit()
    login(client, "learner@example.org")
    pages = [client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)]
    attempt_id = start(client, quiz)
    pages.append(client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True))
    form = answers_form(quiz, right=False)
    response = post_form(client, f"/quizzes/attempts/{attempt_id}", {**form, "action": "save"})
    pages.append(response.get_data(as_text=True))
    pages.append(client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True))
    response = post_form(client, f"/quizzes/attempts/{attempt_id}",
                         {**form, "action": "submit"}, follow_redirects=True)
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
    quiz.review = {"score": "always", "correctness": "always", "correct_answers": "always",
                   "feedback": "always"}
    db.session.commit()
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    post_form(client, f"/quizzes/attempts/{attempt_id}",
              {**answers_form(quiz, right=False), "action": "submit"})
    page = client.get(f"/quizzes/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "CANARY-FB-WRONG-2" in page and "CANARY-GENERAL-1" in page  # control: the check works


def test_score_is_computed_on_the_server_and_forged_fields_ignored(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    form = answers_form(quiz, right=False)
    form.pop(f"q-{qids(quiz)['essay']}")
    response = post_form(client, f"/quizzes/attempts/{attempt_id}",
                         {**form, "action": "submit", "score": "100", "passed": "1",
                          "fraction": "1"})
    assert response.status_code == 302
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "finished"
    # Wrong everywhere except two matching pairs (2/3) -> 0.667/7 = 9.5 %.
    assert abs(attempt.score - (2 / 3) / 7) < 1e-6 and attempt.passed is False


def test_right_answers_pass_and_complete_the_module(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    lesson = course.published_modules[0].published_lessons[0]
    post_form(client, f"/courses/{course.slug}/lessons/{lesson.id}/done")
    assert db.session.scalar(select(func.count(ModuleCompletion.id))) == 0  # quiz still missing
    attempt_id = start(client, quiz)
    form = answers_form(quiz, right=True)
    form.pop(f"q-{qids(quiz)['essay']}")  # unanswered essay scores 0, no grading needed
    post_form(client, f"/quizzes/attempts/{attempt_id}", {**form, "action": "submit"})
    attempt = db.session.get(Attempt, attempt_id)
    assert abs(attempt.score - 6 / 7) < 1e-6 and attempt.passed
    assert db.session.scalar(select(func.count(ModuleCompletion.id))) == 1
    assert db.session.scalar(select(Enrolment.completed_at)) is not None


def test_foreign_option_ids_and_questions_are_refused_and_nothing_stored(client, users,
                                                                        quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    ids = qids(quiz)
    bank = {slot.question.name: slot.question for slot in quiz.slots}
    foreign = option_id(bank["multi"], "Wind")
    for bad in ({f"q-{ids['capital']}": foreign},
                {"q-999999": "x"},
                {f"q-{ids['tf']}": "maybe"},
                {f"q-{ids['short']}": "x" * 10_000},
                {f"q-{ids['match']}-nope": "x"}):
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
    assert post_form(other, f"/quizzes/attempts/{attempt_id}", {"action": "submit"}).status_code == 404
    trainer = app.test_client()
    login(trainer, "trainer@example.org")
    assert trainer.get(f"/quizzes/attempts/{attempt_id}").status_code == 404


def test_submit_twice_is_refused(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    assert post_form(client, f"/quizzes/attempts/{attempt_id}", {"action": "submit"}).status_code == 302
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
    post_form(client, f"/quizzes/attempts/{attempt_id}",
              {f"q-{ids['capital']}": option_id(bank["capital"], "Sofia"), "action": "save"})
    attempt = db.session.get(Attempt, attempt_id)
    attempt.deadline_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    response = post_form(client, f"/quizzes/attempts/{attempt_id}",
                         {**answers_form(quiz), "action": "submit"})
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


def test_essay_is_graded_by_a_trainer(users, quiz_course):
    course, quiz = quiz_course
    learner = users["learner"]
    attempt = services.start_attempt(quiz, learner)
    essay = qids(quiz)["essay"]
    services.submit_attempt(attempt, {essay: {"text": "Turn things off."}})
    db.session.commit()
    assert attempt.status == "pending_grading" and attempt.score is None
    answer = next(a for a in attempt.answers if a.question_id == essay)
    services.grade_answer(answer, 1.0, "Good.", users["trainer"])
    db.session.commit()
    assert attempt.status == "finished" and abs(attempt.score - 1 / 7) < 1e-6


def test_page_contains_no_csrf_free_forms(client, users, quiz_course):
    course, quiz = quiz_course
    login(client, "learner@example.org")
    attempt_id = start(client, quiz)
    html = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    assert CSRF_RE.search(html) and re.search(r'name="q-\d+"', html)
