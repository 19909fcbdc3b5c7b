"""A learner in real Chromium: enrols, reads lessons (one done by reaching its end), logs out,
logs in again, resumes where they left off and sees what is missing."""

from __future__ import annotations

import pytest

from courses.completion import done_lesson_ids
from lms.extensions import db

pytestmark = pytest.mark.browser


def test_learner_enrols_reads_resumes_and_sees_checklist(page, live_server, users, create_course):
    course = create_course("journey", modules=2, lessons=2, title="Green journey")
    lessons = [x for m in course.published_modules for x in m.published_lessons]
    page.goto("/login")
    page.get_by_label("Email").fill("learner@example.org")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.goto("/courses/journey")
    page.get_by_role("button", name="Enrol in this course").click()
    page.wait_for_url(f"**/courses/journey/lessons/{lessons[0].id}")
    assert "Text of lesson 1.1" in page.content()
    page.get_by_role("button", name="Mark as done and continue").click()
    page.wait_for_url(f"**/courses/journey/lessons/{lessons[1].id}")
    # Reaching the end of this short lesson marks it done through the page's script.
    page.get_by_text("Done: you reached the end of this lesson.").wait_for()
    page.screenshot(path="/tmp/lesson-page.png", full_page=True)

    page.get_by_role("button", name="Log out").click()
    page.goto("/login")
    page.get_by_label("Email").fill("learner@example.org")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.goto("/courses/journey")
    page.get_by_role("link", name="Continue where you left off").click()
    page.wait_for_url(f"**/courses/journey/lessons/{lessons[2].id}")
    page.get_by_text("Done: you reached the end of this lesson.").wait_for()

    page.goto("/courses/my")
    content = page.content()
    assert "Green journey" in content and "75%" in content
    page.get_by_text("What is missing (1)").click()
    assert page.get_by_text("Read “Lesson 2.2”").is_visible()
    page.screenshot(path="/tmp/dashboard.png", full_page=True)
    db.session.rollback()
    assert done_lesson_ids(users["learner"].id, course.id) == {x.id for x in lessons[:3]}
