"""Surveys for the outcome indicators: the before/after skills self-assessment (one question
per learning outcome, once per person and phase) and the satisfaction survey after an event."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from courses import events, services
from courses.models import EventFeedback, SkillsAssessment
from lms.extensions import db
from lms.models import utcnow
from tests.conftest import login, post_form

OUTCOMES = ["Estimate the energy use of a service.", "Compare hosting options."]


def count(model) -> int:  # noqa: ANN001
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def course(create_course, users):
    course = create_course(
        "skills-course", modules=1, lessons=1, owner=users["trainer"], learning_outcomes=OUTCOMES
    )
    services.enrol(users["learner"], course)
    db.session.commit()
    return course


def complete(course, user) -> None:  # noqa: ANN001
    services.complete_lesson(user, course.published_modules[0].published_lessons[0])
    db.session.commit()


def test_before_assessment_once_per_person(client, users, course):
    login(client, "learner@example.org")
    page = client.get("/courses/skills-course").get_data(as_text=True)
    assert "Assess my skills" in page
    form = client.get("/courses/skills-course/skills").get_data(as_text=True)
    assert OUTCOMES[0] in form and OUTCOMES[1] in form and "before this course" in form
    response = post_form(
        client, "/courses/skills-course/skills", {"phase": "before", "q0": "2", "q1": "3"}
    )
    assert response.status_code == 302
    stored = db.session.scalars(select(SkillsAssessment)).one()
    assert (stored.phase, stored.average, stored.answers) == (
        "before",
        Decimal("2.50"),
        {OUTCOMES[0]: 2, OUTCOMES[1]: 3},
    )
    # A second answer is refused and changes nothing.
    response = post_form(
        client, "/courses/skills-course/skills", {"phase": "before", "q0": "5", "q1": "5"}
    )
    assert response.status_code == 409
    assert "answered this self-assessment already" in response.get_data(as_text=True)
    assert count(SkillsAssessment) == 1
    assert db.session.scalars(select(SkillsAssessment)).one().average == Decimal("2.50")
    assert "Assess my skills" not in client.get("/courses/skills-course").get_data(as_text=True)


@pytest.mark.parametrize(
    "answers",
    [
        {"q0": "6", "q1": "3"},
        {"q0": "0", "q1": "3"},
        {"q0": "-1", "q1": "3"},
        {"q0": "3"},
        {"q0": "", "q1": "3"},
        {"q0": "3.5", "q1": "3"},
        {"q0": "99999999999999999999999", "q1": "3"},
        {"q0": "3\x00", "q1": "3"},
    ],
)
def test_ratings_outside_one_to_five_are_refused(client, users, course, answers):
    login(client, "learner@example.org")
    response = post_form(client, "/courses/skills-course/skills", {"phase": "before", **answers})
    assert response.status_code == 400
    assert "Please rate every statement from 1 to 5." in response.get_data(as_text=True)
    assert count(SkillsAssessment) == 0


def test_before_assessment_of_a_completed_course_is_offered_once(client, users, course):
    complete(course, users["learner"])
    login(client, "learner@example.org")
    page = client.get("/courses/skills-course").get_data(as_text=True)
    assert page.count('class="panel skills-prompt"') == 1


def test_after_assessment_opens_on_completion(client, users, course):
    login(client, "learner@example.org")
    before = {"phase": "before", "q0": "2", "q1": "2"}
    after = {"phase": "after", "q0": "4", "q1": "5"}
    assert post_form(client, "/courses/skills-course/skills", before).status_code == 302
    response = post_form(client, "/courses/skills-course/skills", after)
    assert response.status_code == 400 and count(SkillsAssessment) == 1
    complete(course, users["learner"])
    page = client.get("/courses/skills-course").get_data(as_text=True)
    assert page.count("How would you rate your skills now?") == 1  # once, with the completion
    assert post_form(client, "/courses/skills-course/skills", after).status_code == 302
    rows = {r.phase: r.average for r in db.session.scalars(select(SkillsAssessment))}
    assert rows == {"before": Decimal("2.00"), "after": Decimal("4.50")}
    assert post_form(client, "/courses/skills-course/skills", after).status_code == 409
    assert count(SkillsAssessment) == 2


def test_not_enrolled_and_bad_phase(client, users, course):
    login(client, "other.learner@example.org")
    response = post_form(
        client, "/courses/skills-course/skills", {"phase": "before", "q0": "3", "q1": "3"}
    )
    assert response.status_code == 302 and count(SkillsAssessment) == 0
    other = client.application.test_client()
    login(other, "learner@example.org")
    response = post_form(
        other, "/courses/skills-course/skills", {"phase": "during", "q0": "3", "q1": "3"}
    )
    assert response.status_code == 400 and count(SkillsAssessment) == 0
    assert client.get("/courses/no-such-course/skills").status_code == 404


def test_a_course_without_outcomes_asks_about_its_topic(client, users, create_course):
    course = create_course("topic-only", modules=1, lessons=1, learning_outcomes=[])
    services.enrol(users["learner"], course)
    db.session.commit()
    login(client, "learner@example.org")
    assert "Circular economy" in client.get("/courses/topic-only/skills").get_data(as_text=True)
    response = post_form(client, "/courses/topic-only/skills", {"phase": "before", "q0": "4"})
    assert response.status_code == 302
    assert db.session.scalars(select(SkillsAssessment)).one().answers == {"Circular economy": 4}


# --- satisfaction after events ------------------------------------------------------------


def make_event(by, **fields):  # noqa: ANN001, ANN003, ANN201
    values = {
        "title": "Webinar",
        "event_type": "webinar",
        "topic": "circular-economy",
        "starts_at": utcnow() - timedelta(hours=3),
        "duration_minutes": 60,
    }
    values.update(fields)
    event = events.create_event(events.EventData(**values), by=by)
    db.session.commit()
    return event


def test_feedback_once_by_participants_only(client, users):
    event = make_event(users["admin"])
    events.add_walk_in(event, events.WalkIn("Learner", "learner@example.org"), users["admin"])
    db.session.commit()
    path = f"/courses/events/{event.id}/feedback"

    login(client, "learner@example.org")
    assert "Rate this event" in client.get(f"/courses/events/{event.id}").get_data(as_text=True)
    response = post_form(client, path, {"satisfaction": "9"})
    assert response.status_code == 400 and count(EventFeedback) == 0
    response = post_form(client, path, {"satisfaction": "5", "comment": "Useful <b>examples</b>"})
    assert response.status_code == 302
    stored = db.session.scalars(select(EventFeedback)).one()
    assert (stored.satisfaction, stored.comment) == (5, "Useful <b>examples</b>")
    response = post_form(client, path, {"satisfaction": "1"})
    assert response.status_code == 409
    assert db.session.scalars(select(EventFeedback)).one().satisfaction == 5

    stranger = client.application.test_client()
    login(stranger, "other.learner@example.org")
    assert post_form(stranger, path, {"satisfaction": "4"}).status_code == 400
    assert count(EventFeedback) == 1


def test_feedback_closed_before_the_event(client, users):
    event = make_event(users["admin"], starts_at=utcnow() + timedelta(days=2))
    events.add_walk_in(event, events.WalkIn("Learner", "learner@example.org"), users["admin"])
    db.session.commit()
    login(client, "learner@example.org")
    response = post_form(client, f"/courses/events/{event.id}/feedback", {"satisfaction": "4"})
    assert response.status_code == 400 and count(EventFeedback) == 0


def test_report_counts_people_with_improved_skills_once(users, create_course):
    from courses import surveys
    from lms.reports.definitions import Definition
    from lms.reports.engine import ReportEngine, make_period

    people = [users["learner"], users["other_learner"], users["coordinator"]]
    courses = [
        create_course(f"improve-{n}", modules=1, lessons=1, learning_outcomes=OUTCOMES)
        for n in (1, 2)
    ]
    plan = {  # (before, after) per person and course
        0: [((2, 2), (4, 4)), ((1, 1), (3, 3))],  # improved twice: counted once
        1: [((3, 3), (3, 3)), None],  # no change
        2: [((4, 4), (3, 3)), ((2, 3), None)],  # worse; no "after" yet
    }
    for index, person in enumerate(people):
        for course, answers in zip(courses, plan[index], strict=True):
            if answers is None:
                continue
            services.enrol(person, course)
            surveys.submit_assessment(person, course, "before", list(answers[0]))
            if answers[1] is not None:
                complete(course, person)
                surveys.submit_assessment(person, course, "after", list(answers[1]))
    db.session.commit()
    definition = Definition("improved", "Improved", "", ("courses.improved_skills",), "people")
    report = ReportEngine(make_period(None, None, cumulative=True), [definition]).compute()
    assert report.indicator("improved").value == 1
    assert report.indicator("improved").anonymous is True
