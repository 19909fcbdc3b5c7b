"""Learners: catalogue, enrolment, lessons, progress, completion (with a requirement another
plugin contributes), resuming and versions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from courses import completion, services
from courses.completion import Requirement
from courses.models import Enrolment, LessonProgress, ModuleCompletion
from courses.signals import (
    course_completed,
    get_completion_requirements,
    lesson_completed,
    module_completed,
)
from lms.extensions import db
from tests.conftest import login, post_form


def lessons_of(course):
    return [x for m in course.published_modules for x in m.published_lessons]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_catalogue_filters_by_topic_and_language(client, create_course):
    create_course("green-en", title="Green EN", topic="green-innovation", language="en")
    create_course("circular-bg", title="Кръгова", topic="circular-economy", language="bg")
    create_course("draft-course", title="Draft only", publish=False)
    html = client.get("/courses/").get_data(as_text=True)
    assert "Green EN" in html and "Кръгова" in html and "Draft only" not in html
    html = client.get("/courses/?topic=green-innovation").get_data(as_text=True)
    assert "Green EN" in html and "Кръгова" not in html
    html = client.get("/courses/?language=bg").get_data(as_text=True)
    assert "Green EN" not in html and "Кръгова" in html
    assert client.get("/courses/?topic=<script>&language=xx").status_code == 200


def test_draft_course_is_404_for_learners(client, users, create_course):
    create_course("secret-draft", publish=False)
    login(client, "learner@example.org")
    assert client.get("/courses/secret-draft").status_code == 404
    assert post_form(client, "/courses/secret-draft/enrol").status_code == 404


def test_enrol_is_idempotent_and_snapshots_company(client, users, create_course):
    course = create_course("c1")
    login(client, "learner@example.org")
    response = post_form(client, "/courses/c1/enrol")
    assert response.status_code == 302 and "/lessons/" in response.headers["Location"]
    post_form(client, "/courses/c1/enrol")
    enrolments = db.session.scalars(select(Enrolment)).all()
    assert len(enrolments) == 1
    assert enrolments[0].company_id == users["learner"].memberships[0].company_id
    assert enrolments[0].enrolled_version == course.version == 1


def test_lessons_need_enrolment(client, users, create_course):
    course = create_course("c1")
    lesson = lessons_of(course)[0]
    login(client, "learner@example.org")
    response = client.get(f"/courses/c1/lessons/{lesson.id}")
    assert response.status_code == 302 and response.headers["Location"] == "/courses/c1"
    response = post_form(client, f"/courses/c1/lessons/{lesson.id}/done")
    assert response.status_code == 404
    assert count(LessonProgress) == 0


def test_reading_marking_done_and_completion_signals(client, users, create_course):
    course = create_course("c1", modules=2, lessons=2)
    lessons = lessons_of(course)
    events = []
    receivers = [
        (lesson_completed, lambda s, **k: events.append(("lesson", s.id))),
        (module_completed, lambda s, **k: events.append(("module", s.id))),
        (course_completed, lambda s, **k: events.append(("course", s.course_id))),
    ]
    for signal, receiver in receivers:
        signal.connect(receiver)
    try:
        login(client, "learner@example.org")
        post_form(client, "/courses/c1/enrol")
        page = client.get(f"/courses/c1/lessons/{lessons[0].id}").get_data(as_text=True)
        assert "Text of lesson 1.1" in page and "Lesson 1 of 4" in page
        for lesson in lessons:
            response = post_form(client, f"/courses/c1/lessons/{lesson.id}/done")
            assert response.status_code == 302
        # Marking again changes nothing and sends nothing.
        post_form(client, f"/courses/c1/lessons/{lessons[0].id}/done")
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver)
    modules = course.published_modules
    assert events == [
        ("lesson", lessons[0].id), ("lesson", lessons[1].id), ("module", modules[0].id),
        ("lesson", lessons[2].id), ("lesson", lessons[3].id), ("module", modules[1].id),
        ("course", course.id),
    ]
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.completed_at is not None and enrolment.completed_version == 1
    assert count(ModuleCompletion) == 2
    assert "Completed on" in client.get("/courses/c1").get_data(as_text=True)


def test_done_by_script_answers_json(client, users, create_course):
    course = create_course("c1", modules=1, lessons=1)
    login(client, "learner@example.org")
    post_form(client, "/courses/c1/enrol")
    lesson = lessons_of(course)[0]
    response = post_form(client, f"/courses/c1/lessons/{lesson.id}/done",
                         headers={"Accept": "application/json"})
    assert response.get_json() == {"done": True, "first_time": True, "course_completed": True}


def test_resume_goes_to_the_first_unfinished_lesson(app, client, users, create_course):
    course = create_course("c1", modules=2, lessons=2)
    lessons = lessons_of(course)
    login(client, "learner@example.org")
    post_form(client, "/courses/c1/enrol")
    post_form(client, f"/courses/c1/lessons/{lessons[0].id}/done")
    post_form(client, f"/courses/c1/lessons/{lessons[2].id}/done")
    again = app.test_client()  # a new session, as after logging in again
    login(again, "learner@example.org")
    response = again.get("/courses/c1/resume")
    assert response.headers["Location"] == f"/courses/c1/lessons/{lessons[1].id}"


@pytest.fixture
def quiz_requirement():
    """A requirement contributed by "another plugin": module 1 needs a passed check."""
    state = {"passed": False, "module_id": None}

    def receiver(course, user, enrolment, **kwargs):
        if state["module_id"] is None:
            return None
        return Requirement(key="check:1", label="Pass the module check",
                           done=state["passed"], module_id=state["module_id"])

    get_completion_requirements.connect(receiver)
    yield state
    get_completion_requirements.disconnect(receiver)


def test_plugin_requirement_holds_back_completion(client, users, create_course, quiz_requirement):
    course = create_course("c1", modules=1, lessons=2)
    quiz_requirement["module_id"] = course.published_modules[0].id
    login(client, "learner@example.org")
    post_form(client, "/courses/c1/enrol")
    for lesson in lessons_of(course):
        post_form(client, f"/courses/c1/lessons/{lesson.id}/done")
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.completed_at is None and count(ModuleCompletion) == 0
    html = client.get("/courses/my").get_data(as_text=True)
    assert "Pass the module check" in html
    progress = completion.course_progress(course, users["learner"], enrolment)
    assert progress.percent == 66
    quiz_requirement["passed"] = True
    services.recompute_for_course(users["learner"], course)
    db.session.commit()
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.completed_at is not None and count(ModuleCompletion) == 1


def test_publication_keeps_progress_on_unchanged_lessons(app, users, create_course):
    course = create_course("c1", modules=1, lessons=3)
    learner = users["learner"]
    services.enrol(learner, course)
    first, second, third = lessons_of(course)
    services.complete_lesson(learner, first)
    services.complete_lesson(learner, second)
    db.session.commit()
    services.update_lesson(second, second.title, second.body_md + "\n\nA new paragraph.", 5)
    services.update_lesson(third, "Lesson renamed", third.body_md, 5)
    new_module = services.add_module(course, "Module 2")
    services.add_lesson(new_module, "New lesson", "New text", 4)
    # Before publication learners still see the old text.
    assert "A new paragraph" not in second.published_html
    services.publish_course(course)
    db.session.commit()
    assert course.version == 2
    assert completion.done_lesson_ids(learner.id, course.id) == {first.id}
    assert "A new paragraph" in second.published_html
    assert [m.published_title for m in course.published_modules] == ["Module 1", "Module 2"]


def test_deleted_lesson_leaves_learners_at_next_publication(users, create_course):
    course = create_course("c1", modules=1, lessons=2)
    first, second = lessons_of(course)
    services.delete_lesson(second)
    assert second.is_published  # still visible until published
    services.publish_course(course)
    db.session.commit()
    assert lessons_of(course) == [first]


def test_enrolment_closed_for_archived_course(client, users, create_course):
    course = create_course("c1")
    services.enrol(users["learner"], course)
    services.archive_course(course)
    db.session.commit()
    login(client, "learner@example.org")
    assert client.get("/courses/c1").status_code == 200  # enrolled learners keep reading
    other = client.application.test_client()
    login(other, "coordinator@example.org")
    assert other.get("/courses/c1").status_code == 404
    assert post_form(other, "/courses/c1/enrol").status_code == 404


def test_dashboard_lists_progress_and_whats_missing(client, users, create_course):
    course = create_course("c1", modules=1, lessons=2, title="Energy basics")
    services.enrol(users["learner"], course)
    services.complete_lesson(users["learner"], lessons_of(course)[0])
    db.session.commit()
    login(client, "learner@example.org")
    html = client.get("/courses/my").get_data(as_text=True)
    assert "Energy basics" in html and "50%" in html and "Read “Lesson 1.2”" in html
    home = client.get("/").get_data(as_text=True)
    assert "Energy basics" in home


def test_reserved_slugs_are_refused(users, create_course):
    with pytest.raises(services.ServiceError):
        create_course("manage")
