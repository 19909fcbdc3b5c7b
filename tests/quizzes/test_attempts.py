"""Taking quizzes: right answers pass and complete the module, essays wait for a trainer. The
security cases (answer-key leakage, forged and foreign input, the attempt lifecycle, other
people's attempts, concurrent submits) are in tests/security/test_quiz_integrity.py, which
uses the helpers below."""

from __future__ import annotations

from sqlalchemy import func, select

from courses.models import Enrolment, ModuleCompletion
from lms.extensions import db
from quizzes import services
from quizzes.models import Attempt, Question
from tests.conftest import login, post_form

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
