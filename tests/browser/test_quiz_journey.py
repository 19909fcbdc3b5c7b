"""A learner in real Chromium takes a module quiz, fails, retries, passes, and the module shows
as complete on the course page."""

from __future__ import annotations

import pytest

from courses import services as course_services
from lms.extensions import db
from quizzes import services

pytestmark = pytest.mark.browser

GIFT = """
::capital::What is the capital of Bulgaria? {=Sofia ~Plovdiv ~Varna}

::pue::A PUE of 1.0 is ideal. {T}
"""


def test_learner_fails_retries_and_passes(page, live_server, users, create_course):
    course = create_course("quiz-journey", modules=1, lessons=1, title="Quiz journey")
    module = course.published_modules[0]
    made = services.import_gift(course, GIFT, module)
    services.set_quiz(course, module, {"title": "Module check", "pass_mark": 100,
                                       "max_attempts": 3, "shuffle": False}, made)
    course_services.enrol(users["learner"], course)
    course_services.complete_lesson(users["learner"], module.published_lessons[0])
    db.session.commit()

    page.goto("/login")
    page.get_by_label("Email").fill("learner@example.org")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.goto("/courses/quiz-journey")
    page.get_by_role("link", name="Module check", exact=True).click()
    page.get_by_role("button", name="Start the quiz").click()
    page.get_by_label("Varna").check()
    page.get_by_label("True").check()
    page.get_by_role("button", name="Submit for scoring").click()
    page.get_by_text("not passed").wait_for()
    page.screenshot(path="/tmp/quiz-review-fail.png", full_page=True)

    page.get_by_role("link", name="Back to the quiz").click()
    page.get_by_role("button", name="Start a new attempt").click()
    page.get_by_label("Sofia").check()
    page.get_by_label("True").check()
    page.get_by_role("button", name="Save my answers").click()
    page.get_by_text("Your answers are saved.").wait_for()
    assert page.get_by_label("Sofia").is_checked()
    page.get_by_role("button", name="Submit for scoring").click()
    page.get_by_text("Score: 100.0% — passed").wait_for()

    page.goto("/courses/quiz-journey")
    content = page.content()
    assert "Completed on" in content
    assert page.locator(".outline-module .badge-ok").first.is_visible()  # module done
    page.screenshot(path="/tmp/course-completed.png", full_page=True)
