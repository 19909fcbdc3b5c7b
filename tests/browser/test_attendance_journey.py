"""At the door on a phone: a trainer opens a session's attendance list in real Chromium with a
phone-sized window, ticks who came (the count follows, by the small self-hosted script), saves
once, and the learner then registers for the next event from the public events page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from courses import events
from courses.models import Attendance, EventRegistration
from lms.extensions import db
from lms.models import utcnow
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, email: str) -> None:  # noqa: ANN001
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_trainer_ticks_attendance_on_a_phone(page, live_server, users, create_course):
    course = create_course("door-course", owner=users["trainer"])
    session = events.create_event(
        events.EventData(
            title="Door session",
            event_type="training",
            topic="circular-economy",
            starts_at=utcnow(),
            duration_minutes=90,
            course_id=course.id,
            delivery_mode="on-site",
            place="Burgas",
        ),
        by=users["trainer"],
    )
    for person in (users["learner"], users["other_learner"]):
        events.register(session, person)
    db.session.commit()

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "trainer@example.org")
    page.goto(f"/courses/events/{session.id}/attendance")
    assert "0 of 2 present" in page.locator("#present-count").inner_text()
    checkbox = page.get_by_label("Learner", exact=False).first
    box = checkbox.bounding_box()
    assert box is not None and box["width"] >= 24 and box["height"] >= 24  # big enough to tap
    checkbox.check()
    assert "1 of 2 present" in page.locator("#present-count").inner_text()
    page.get_by_label("Name", exact=True).fill("Walk-in Visitor")
    page.get_by_role("button", name="Save attendance").click()
    page.wait_for_load_state()
    assert "Attendance saved: 2 added, 0 removed." in page.content()

    db.session.rollback()
    rows = db.session.scalars(select(Attendance).where(Attendance.event_id == session.id)).all()
    assert sorted((r.user_id is not None, r.name) for r in rows) == [
        (False, "Walk-in Visitor"),
        (True, ""),
    ]


def test_learner_registers_from_the_events_page(page, live_server, users):
    event = events.create_event(
        events.EventData(
            title="Green innovation seminar",
            event_type="seminar",
            topic="green-innovation",
            starts_at=utcnow() + timedelta(days=10),
            duration_minutes=120,
            delivery_mode="on-site",
            place="Burgas",
            capacity=30,
        ),
        by=users["admin"],
    )
    db.session.commit()
    log_in(page, "learner@example.org")
    page.goto("/courses/events")
    page.get_by_role("link", name="Green innovation seminar").click()
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()
    assert "You are registered." in page.content()
    db.session.rollback()
    assert db.session.scalars(
        select(EventRegistration.user_id).where(EventRegistration.event_id == event.id)
    ).all() == [users["learner"].id]
