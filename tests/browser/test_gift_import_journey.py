"""A trainer in real Chromium imports a GIFT file as a module's quiz, sees it on the results page,
and, once learners have taken it, reads its statistics."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from courses import services as course_services
from lms.extensions import db
from quizzes import services
from quizzes.models import Quiz
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

GIFT = """// A module check with every kind of question the statistics show.
::Ideal PUE:: What is the **ideal** power usage effectiveness (PUE) of a data centre? {
  =1.0 # Every watt goes to the IT equipment.
  ~2.0
  ~0.5 # A PUE below 1 is impossible.
}

::Renewables:: Which of these are renewable sources of electricity? {
  ~%50%Wind
  ~%50%Sun
  ~%-100%Coal
}

::Repair:: Repairing a device comes before recycling it. {T}

::SCI:: Name the Green Software Foundation's metric for the carbon of software. {=SCI =Software Carbon Intensity}

::E-waste:: How many kilograms of e-waste per person did the world produce in 2022? {#7.8:0.2}

::Terms:: Match each term with what it measures. {
  =PUE -> energy overhead
  =SCI -> carbon per unit of work
  =WUE -> water per kWh
}

::Plan:: Describe one step your company could take to reduce the energy its servers use. {}
"""


def answers(quiz: Quiz, n: int) -> dict[int, object]:
    """Varied answers for learner number n (0..5)."""
    by_name = {slot.question.name: slot.question for slot in quiz.slots}

    def option(name: str, text: str) -> str:
        return next(o["id"] for o in by_name[name].data["options"] if o["text"] == text)

    terms = by_name["Terms"].data
    right = {p["id"]: p["right"] for p in terms["pairs"]}
    swapped = dict(zip(right, [*list(right.values())[1:], list(right.values())[0]], strict=True))
    return {
        by_name["Ideal PUE"].id: {
            "option": option("Ideal PUE", ["1.0", "1.0", "2.0", "1.0", "0.5", "1.0"][n])
        },
        by_name["Renewables"].id: {
            "options": [
                [option("Renewables", "Wind"), option("Renewables", "Sun")],
                [option("Renewables", "Wind")],
                [option("Renewables", "Coal")],
            ][n % 3]
        },
        by_name["Repair"].id: {"value": n != 2},
        by_name["SCI"].id: {
            "text": ["SCI", "sci", "carbon", "SCI ", "PUE", "Software carbon intensity"][n]
        },
        by_name["E-waste"].id: {"text": ["7,8", "7.8", "8", "62", "7.9", "7.8"][n]},
        by_name["Terms"].id: {"pairs": right if n % 2 == 0 else swapped},
        by_name["Plan"].id: {"text": "Switch off idle test servers at night."} if n < 4 else None,
    }


def test_trainer_imports_a_gift_file_and_reads_the_statistics(
    page, live_server, users, create_user, create_course, tmp_path
):
    course = create_course("green-it", owner=users["trainer"], title="Green IT in practice")
    module = course.published_modules[0]
    gift_file = tmp_path / "module-1-check.gift"
    gift_file.write_text(GIFT, encoding="utf-8")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login")
    page.get_by_label("Email").fill("trainer@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"/quizzes/course/{course.slug}/import")
    page.get_by_label("Where the questions go").select_option(f"module-{module.id}")
    page.get_by_label("File (.gift or .txt, UTF-8)").set_input_files(str(gift_file))
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_url(f"{live_server.url}/quizzes/course/{course.slug}")
    assert page.get_by_text("7 questions were imported into Module 1: Module 1.").is_visible()
    row = page.get_by_role("row").filter(has_text="Module 1: Module 1")
    assert row.get_by_role("link", name="Check: Module 1").is_visible()
    page.screenshot(path="/tmp/quiz-results.png", full_page=True)

    db.session.rollback()
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))
    assert [slot.question.name for slot in quiz.slots][:2] == ["Ideal PUE", "Renewables"]
    assert quiz.title == "Check: Module 1"

    # Six learners take it; the essays wait for a grade except where none was written.
    company = users["learner"].memberships[0].company
    for n in range(6):
        learner = create_user(f"learner{n}@example.org", name=f"Learner {n}", company=company)
        course_services.enrol(learner, course)
        attempt = services.start_attempt(quiz, learner)
        responses = {k: v for k, v in answers(quiz, n).items() if v is not None}
        services.submit_attempt(attempt, responses)
        db.session.commit()

    page.goto(f"/quizzes/course/{course.slug}/quiz/{module.id}")
    assert page.get_by_role("heading", name="Check: Module 1", level=1).is_visible()
    question = page.locator("article.qstat").filter(has_text="ideal")
    assert question.locator("strong", has_text="ideal").count() == 1  # Markdown is rendered
    page.get_by_text("How to read these figures").click()
    page.screenshot(path="/tmp/quiz-stats.png", full_page=True)
    assert page.get_by_role("cell", name="Learner 0").count() == 0  # a row header, not a cell
    assert page.get_by_role("rowheader").filter(has_text="learner0@example.org").is_visible()
