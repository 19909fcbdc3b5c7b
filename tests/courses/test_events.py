"""Live sessions and events: the public page, registration with capacity (also under
concurrency), attendance by checkboxes and CSV import, the attendance sheet PDF, exports and
the "attend N sessions" completion requirement."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pypdf
import pytest
from sqlalchemy import func, select

from courses import events
from courses.models import Attendance, Course, Enrolment, EventRegistration, LiveEvent
from lms.extensions import db
from lms.models import User, utcnow
from tests.conftest import login, post_form
from tests.support.measure import read_csv, read_xlsx

HOSTILE_NAME = '<img src="http://127.0.0.1:1/x">'


def make_event(by: User, **fields) -> LiveEvent:  # noqa: ANN003
    values = {
        "title": "Green webinar",
        "event_type": "webinar",
        "topic": "circular-economy",
        "starts_at": utcnow() + timedelta(days=7),
        "duration_minutes": 60,
    }
    values.update(fields)
    event = events.create_event(events.EventData(**values), by=by)
    db.session.commit()
    return event


def count(model, *where) -> int:  # noqa: ANN001
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def attendance_of(event_id: int) -> list[Attendance]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Attendance).where(Attendance.event_id == event_id).order_by(Attendance.id)
        )
    )


# --- the public page and registration -----------------------------------------------------


def test_public_page_lists_upcoming_events_and_past_recordings(client, users):
    admin = users["admin"]
    make_event(
        admin,
        title="Seminar in Burgas",
        event_type="seminar",
        delivery_mode="on-site",
        place="Burgas",
        capacity=40,
    )
    make_event(
        admin,
        title="Past webinar with video",
        starts_at=utcnow() - timedelta(days=9),
        recording_url="https://media.example.org/rec/1",
    )
    make_event(admin, title="Past webinar without video", starts_at=utcnow() - timedelta(days=9))
    page = client.get("/courses/events")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Seminar in Burgas" in html and "0 of 40 seats taken" in html
    assert "Past webinar with video" in html and 'href="https://media.example.org/rec/1"' in html
    assert "Past webinar without video" not in html
    assert 'href="/courses/events"' in client.get("/").get_data(as_text=True)  # menu item


def test_registration_needs_login_and_is_idempotent(client, users):
    event = make_event(users["admin"])
    response = post_form(client, f"/courses/events/{event.id}/register")
    assert response.status_code == 302 and "/login" in response.location
    assert count(EventRegistration) == 0
    login(client, "learner@example.org")
    assert post_form(client, f"/courses/events/{event.id}/register").status_code == 302
    assert post_form(client, f"/courses/events/{event.id}/register").status_code == 302
    assert count(EventRegistration, EventRegistration.event_id == event.id) == 1
    page = client.get(f"/courses/events/{event.id}").get_data(as_text=True)
    assert "You are registered." in page
    assert post_form(client, f"/courses/events/{event.id}/unregister").status_code == 302
    assert count(EventRegistration) == 0


def test_a_full_event_refuses_registration(client, users):
    event = make_event(users["admin"], capacity=1)
    login(client, "learner@example.org")
    assert post_form(client, f"/courses/events/{event.id}/register").status_code == 302
    other = client.application.test_client()
    login(other, "other.learner@example.org")
    response = post_form(other, f"/courses/events/{event.id}/register")
    assert response.status_code == 409
    assert "this event is full" in response.get_data(as_text=True)
    assert count(EventRegistration, EventRegistration.event_id == event.id) == 1


def test_cancelled_and_past_events_refuse_registration(client, users):
    past = make_event(users["admin"], starts_at=utcnow() - timedelta(days=1))
    cancelled = make_event(users["admin"])
    events.cancel_event(cancelled)
    db.session.commit()
    login(client, "learner@example.org")
    assert post_form(client, f"/courses/events/{past.id}/register").status_code == 400
    assert post_form(client, f"/courses/events/{cancelled.id}/register").status_code == 400
    assert count(EventRegistration) == 0


def test_concurrent_last_seat_registrations_do_not_overbook(app, users, create_user):
    event_id = make_event(users["admin"], capacity=3).id
    people = [create_user(f"rush{i}@example.org").id for i in range(10)]
    db.session.rollback()  # threads must not touch this session's objects
    results: list[str] = []
    barrier = threading.Barrier(len(people))

    def attempt(user_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                user = db.session.get(User, user_id)
                events.register(db.session.get(LiveEvent, event_id), user)
                db.session.commit()
                results.append("ok")
            except events.EventFull:
                db.session.rollback()
                results.append("full")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(uid,)) for uid in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["full"] * 7 + ["ok"] * 3
    assert count(EventRegistration, EventRegistration.event_id == event_id) == 3


def test_capacity_cannot_drop_below_the_registrations(users):
    event = make_event(users["admin"], capacity=5)
    for email in ("learner@example.org", "other.learner@example.org"):
        events.register(event, db.session.scalar(select(User).where(User.email == email)))
    db.session.commit()
    data = events.EventData(
        title=event.title,
        event_type="webinar",
        topic=event.topic,
        starts_at=event.starts_at,
        duration_minutes=60,
        capacity=1,
    )
    with pytest.raises(events.ServiceError):
        events.update_event(event, data, by=users["admin"])
    db.session.rollback()
    assert db.session.get(LiveEvent, event.id).capacity == 5


# --- managing events ----------------------------------------------------------------------


def event_form(**overrides) -> dict:  # noqa: ANN003
    data = {
        "title": "Circular design workshop",
        "event_type": "workshop",
        "topic": "circular-economy",
        "starts_at": "2030-05-14T10:00",
        "duration_minutes": "120",
        "delivery_mode": "on-site",
        "place": "Burgas, Aleksandrovska 1",
        "online_url": "",
        "recording_url": "",
        "capacity": "25",
        "partner": "ProspectiM Association",
        "with_ict_norway": "y",
        "course_id": "",
        "description": "Hands-on.",
    }
    data.update(overrides)
    return data


def test_trainer_creates_a_session_of_own_course_only(client, users, create_course):
    own = create_course("own-course", owner=users["trainer"])
    foreign = create_course("foreign-course")
    login(client, "trainer@example.org")
    response = post_form(client, "/courses/events/new", event_form(course_id=str(foreign.id)))
    assert response.status_code == 400 and count(LiveEvent) == 0
    response = post_form(client, "/courses/events/new", event_form(course_id=str(own.id)))
    assert response.status_code == 302
    event = db.session.scalars(select(LiveEvent)).one()
    assert event.course_id == own.id and event.capacity == 25 and event.with_ict_norway
    # 10:00 in Sofia in May (EEST, UTC+3) is 07:00 UTC.
    assert (event.starts_at.hour, event.starts_at.tzinfo is not None) == (7, True)


@pytest.mark.parametrize(
    "overrides",
    [
        {"online_url": "javascript:alert(1)"},
        {"duration_minutes": "0"},
        {"capacity": "-1"},
        {"event_type": "party"},
        {"starts_at": "tomorrow"},
        {"starts_at": "0001-01-01T00:30"},
        {"title": "x" * 201},
        {"delivery_mode": "on-site", "place": ""},
    ],
)
def test_bad_event_input_is_refused_and_nothing_stored(client, users, overrides):
    login(client, "trainer@example.org")
    response = post_form(client, "/courses/events/new", event_form(**overrides))
    assert response.status_code == 400
    assert count(LiveEvent) == 0


def test_cancel_keeps_the_event_listed_as_cancelled(client, users):
    event = make_event(users["trainer"], title="Cancelled talk")
    login(client, "trainer@example.org")
    assert post_form(client, f"/courses/events/{event.id}/cancel").status_code == 302
    assert db.session.get(LiveEvent, event.id).status == "cancelled"
    assert "cancelled" in client.get(f"/courses/events/{event.id}").get_data(as_text=True)


# --- attendance by checkboxes -------------------------------------------------------------


def test_trainer_ticks_attendance_on_own_event_only(client, users, create_user, create_course):
    course = create_course("ticks", owner=users["trainer"])
    event = make_event(users["trainer"], course_id=course.id, starts_at=utcnow())
    learner, other = users["learner"], users["other_learner"]
    for person in (learner, other):
        events.register(event, person)
    db.session.commit()
    path = f"/courses/events/{event.id}/attendance"

    login(client, "trainer@example.org")
    page = client.get(path).get_data(as_text=True)
    assert f'value="u{learner.id}"' in page and 'type="checkbox"' in page
    response = post_form(client, path, {"present": [f"u{learner.id}"]})
    assert response.status_code == 302
    rows = attendance_of(event.id)
    assert [(r.user_id, r.source) for r in rows] == [(learner.id, "manual")]
    # Unticking removes; a walk-in without an account is added as a guest.
    response = post_form(
        client,
        path,
        {
            "present": [f"u{other.id}"],
            "walk_in_name": "Maria Guest",
            "walk_in_company": "Guest Ltd.",
        },
    )
    assert response.status_code == 302
    rows = attendance_of(event.id)
    assert {(r.user_id, r.name) for r in rows} == {(other.id, ""), (None, "Maria Guest")}
    # A person not on the list cannot be marked present by id.
    stranger = create_user("stranger@example.org")
    response = post_form(client, path, {"present": [f"u{other.id}", f"u{stranger.id}"]})
    assert response.status_code == 400
    assert len(attendance_of(event.id)) == 2

    second_trainer = create_user("trainer2@example.org", roles=("trainer",))
    assert second_trainer.id
    other_client = client.application.test_client()
    login(other_client, "trainer2@example.org")
    assert other_client.get(path).status_code == 404
    assert post_form(other_client, path, {"present": []}).status_code == 404
    learner_client = client.application.test_client()
    login(learner_client, "learner@example.org")
    assert learner_client.get(path).status_code == 403
    assert post_form(learner_client, path, {"present": []}).status_code == 403
    admin_client = client.application.test_client()
    login(admin_client, "admin@example.org")
    assert admin_client.get(path).status_code == 200
    assert len(attendance_of(event.id)) == 2


def test_standalone_event_belongs_to_its_creator(client, users, create_user):
    event = make_event(users["trainer"])
    create_user("trainer2@example.org", roles=("trainer",))
    login(client, "trainer2@example.org")
    assert client.get(f"/courses/events/{event.id}/edit").status_code == 404
    assert client.get(f"/courses/events/{event.id}/attendance.csv").status_code == 404
    assert post_form(client, f"/courses/events/{event.id}/cancel").status_code == 404
    assert db.session.get(LiveEvent, event.id).status == "scheduled"


# --- CSV import ---------------------------------------------------------------------------


def upload(client, event_id: int, body: bytes, only_valid: bool = False):  # noqa: ANN001, ANN201
    data = {"file": (io.BytesIO(body), "participants.csv")}
    if only_valid:
        data["only_valid"] = "y"
    return post_form(
        client,
        f"/courses/events/{event_id}/attendance/import",
        data,
        content_type="multipart/form-data",
    )


def test_csv_import_reports_bad_rows_per_line_and_stores_nothing(client, users):
    event = make_event(users["trainer"], starts_at=utcnow() - timedelta(hours=2))
    body = (
        "\ufeffName;Email;Duration (Minutes)\r\n"  # BOM, semicolons, Zoom header
        "Learner;LEARNER@example.org;45\r\n"  # line 2: matched case-insensitively
        "No Mail;;30\r\n"  # line 3: missing email
        "Walk In;walk.in@nowhere.example;20\r\n"  # line 4: unknown: a guest (a note)
        "Learner again;learner@example.org;10\r\n"  # line 5: reconnect, merged into line 2
        "Bad Minutes;other.learner@example.org;lots\r\n"  # line 6: bad minutes
        '=HYPERLINK("http://evil.example");formula@nowhere.example;5\r\n'  # line 7
    ).encode()
    login(client, "trainer@example.org")
    response = upload(client, event.id, body)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert count(Attendance) == 0
    assert "<td>3</td>" in html and "The email is missing." in html
    assert "<td>6</td>" in html and "The minutes or times are not valid" in html
    assert "No account has this email: recorded as a guest." in html
    assert "Listed again: the minutes are added to line 2." in html

    response = upload(client, event.id, body, only_valid=True)
    assert response.status_code == 200
    rows = {(r.user_id, r.email): r for r in attendance_of(event.id)}
    learner = users["learner"]
    assert rows[(learner.id, "")].minutes == 55 and rows[(learner.id, "")].source == "csv"
    assert rows[(None, "walk.in@nowhere.example")].name == "Walk In"
    assert len(rows) == 3  # learner, walk-in, the formula-named guest

    export = client.get(f"/courses/events/{event.id}/attendance.csv")
    table = read_csv(export)
    names = [row[1] for row in table[1:]]
    assert '\'=HYPERLINK("http://evil.example")' in names
    assert not any(name.startswith("=") for name in names)
    sheet = read_xlsx(client.get(f"/courses/events/{event.id}/attendance.xlsx"))
    assert '\'=HYPERLINK("http://evil.example")' in [row[1] for row in sheet[1:]]


def test_csv_import_reads_bulgarian_headers_and_join_leave_times(client, users):
    event = make_event(
        users["trainer"], starts_at=utcnow() - timedelta(hours=3), duration_minutes=90
    )
    body = (
        "Име,Имейл,Време на влизане,Време на излизане\n"
        "Обучаем,learner@example.org,2026-03-14 10:00:00,2026-03-14 10:40:30\n"
        "Друг,other.learner@example.org,2026-03-14 10:00:00,2026-03-14 13:00:00\n"
    ).encode()
    login(client, "trainer@example.org")
    response = upload(client, event.id, body)
    assert response.status_code == 200
    minutes = {r.user_id: r.minutes for r in attendance_of(event.id)}
    assert minutes == {users["learner"].id: 41, users["other_learner"].id: 90}  # capped
    # Importing again updates the records instead of adding more.
    assert upload(client, event.id, body).status_code == 200
    assert len(attendance_of(event.id)) == 2


@pytest.mark.parametrize(
    "body, message",
    [
        (b"name,minutes\nA,3\n", "No email column found"),
        (b"\xff\xfe\x00\x00bad", "not UTF-8"),
        (b"email\n", "The file has no data rows."),
    ],
)
def test_csv_import_refuses_unusable_files(client, users, body, message):
    event = make_event(users["trainer"], starts_at=utcnow())
    login(client, "trainer@example.org")
    response = upload(client, event.id, body)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(Attendance) == 0


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("45", 45),
        ("45.2", 46),
        ("1:05:00", 65),
        ("0:45", 45),
        ("1h 5m 30s", 66),
        ("45 mins", 45),
        ("1 ч. 5 мин", 65),
        ("", None),
    ],
)
def test_minutes_formats(text, minutes):
    assert events.parse_minutes(text) == minutes


@pytest.mark.parametrize("text", ["-5", "lots", "99999", "1:75", "nan", "5 parsecs"])
def test_bad_minutes(text):
    with pytest.raises(ValueError):
        events.parse_minutes(text)


# --- the sessions requirement -------------------------------------------------------------


def test_required_sessions_hold_back_completion_until_attended(client, users, create_course):
    from courses import services

    course = create_course("with-sessions", modules=1, lessons=1, owner=users["trainer"])
    events.set_required_sessions(course, 2)
    db.session.commit()
    first = make_event(
        users["trainer"], course_id=course.id, starts_at=utcnow() - timedelta(days=2)
    )
    second = make_event(
        users["trainer"], course_id=course.id, starts_at=utcnow() - timedelta(days=1)
    )
    learner = users["learner"]
    services.enrol(learner, course)
    services.complete_lesson(learner, course.published_modules[0].published_lessons[0])
    db.session.commit()
    enrolment_id = services.find_enrolment(learner.id, course.id).id
    assert db.session.get(Enrolment, enrolment_id).completed_at is None

    login(client, "learner@example.org")
    page = client.get("/courses/with-sessions").get_data(as_text=True)
    assert "Attend 2 live sessions (0 attended)" in page

    trainer = client.application.test_client()
    login(trainer, "trainer@example.org")
    walk_in = {"walk_in_name": "Learner", "walk_in_email": "learner@example.org"}
    assert post_form(trainer, f"/courses/events/{first.id}/attendance", walk_in).status_code == 302
    db.session.rollback()
    assert db.session.get(Enrolment, enrolment_id).completed_at is None
    assert "Attend 2 live sessions (1 attended)" in client.get("/courses/with-sessions").get_data(
        as_text=True
    )
    assert post_form(trainer, f"/courses/events/{second.id}/attendance", walk_in).status_code == 302
    db.session.rollback()
    assert db.session.get(Enrolment, enrolment_id).completed_at is not None


def test_course_form_saves_required_sessions(client, users, create_course):
    from tests.courses.test_authoring import course_form

    create_course("form-sessions", owner=users["trainer"], title="Old title")
    login(client, "trainer@example.org")
    data = course_form(title="Old title", slug="form-sessions", required_sessions="3")
    assert post_form(client, "/courses/manage/form-sessions", data).status_code == 302
    db.session.rollback()
    course = db.session.scalar(select(Course).where(Course.slug == "form-sessions"))
    assert course.required_sessions == 3
    data = course_form(title="Old title", slug="form-sessions", required_sessions="99")
    assert post_form(client, "/courses/manage/form-sessions", data).status_code == 400
    db.session.rollback()
    assert db.session.get(Course, course.id).required_sessions == 3


def test_demo_events_load_once(app, users):
    demo_users = {u.email: u for u in users.values()}
    events.load_demo_events(demo_users)
    db.session.commit()
    first = count(LiveEvent)
    events.load_demo_events(demo_users)
    db.session.commit()
    assert first >= 4 and count(LiveEvent) == first
    assert count(Attendance) > 0 and count(EventRegistration) > 0


# --- grant report contributions (courses/event_indicators.py) -----------------------------


def test_report_counts_awareness_participants_and_session_hours(users, create_course):
    from lms.reports.definitions import Definition
    from lms.reports.engine import ReportEngine, make_period

    admin, learner, other = users["admin"], users["learner"], users["other_learner"]
    course = create_course("report-course", owner=users["trainer"], topic="green-innovation")
    start = utcnow() - timedelta(days=3)
    webinar1 = make_event(admin, starts_at=start)
    webinar2 = make_event(
        admin, starts_at=start + timedelta(hours=5), delivery_mode="blended", place="Burgas"
    )
    cancelled = make_event(admin, starts_at=start)
    session = make_event(
        users["trainer"],
        course_id=course.id,
        starts_at=start,
        duration_minutes=120,
        topic="green-innovation",
        delivery_mode="on-site",
        place="Burgas",
    )
    for event in (webinar1, webinar2, cancelled):
        events.add_walk_in(event, events.WalkIn("Learner", "learner@example.org"), admin)
        events.add_walk_in(event, events.WalkIn("Guest", "Guest@Nowhere.example"), admin)
    events.add_walk_in(webinar2, events.WalkIn("Guest", "guest@nowhere.example"), admin)
    events.cancel_event(cancelled)
    events.add_walk_in(session, events.WalkIn("Learner", "learner@example.org"), admin)
    events.add_walk_in(session, events.WalkIn("Other", "other.learner@example.org"), admin)
    db.session.flush()
    record = db.session.scalar(
        select(Attendance).where(Attendance.event_id == session.id, Attendance.user_id == other.id)
    )
    record.minutes = 30
    db.session.commit()

    definitions = [
        Definition("awareness", "Awareness", "", ("courses.event_attendance",), "people"),
        Definition("hours", "Session hours", "", ("courses.session_hours",), "hours"),
    ]
    report = ReportEngine(make_period(None, None, cumulative=True), definitions).compute()
    # The learner and one guest (same email in two cases), not the course session's trainee.
    assert report.indicator("awareness").value == 2
    assert report.indicator("hours").value == pytest.approx(2.5)  # 120 + 30 minutes
    by_mode = report.indicator("hours").splits["delivery_mode"]
    assert by_mode.get("on-site") == pytest.approx(2.5)
    assert report.indicator("hours").splits["topic"].get("green-innovation") == pytest.approx(2.5)
    assert learner.id and other.id


def test_evidence_pack_gets_attendance_sheets_of_past_events(app, users):
    from courses.event_indicators import evidence_files
    from lms.reports.engine import make_period

    past = make_event(users["admin"], title="Past webinar", starts_at=utcnow() - timedelta(days=2))
    make_event(users["admin"], title="Future webinar")
    events.add_walk_in(past, events.WalkIn("Learner", "learner@example.org"), users["admin"])
    db.session.commit()
    with app.test_request_context():
        files = evidence_files(period=make_period(None, None, cumulative=True))
        assert sorted(f.name.rsplit(".", 1)[1] for f in files) == ["csv", "pdf"]
        assert all(f.name.startswith("attendance/") and "Past-webinar" in f.name for f in files)
        pdf = next(f for f in files if f.name.endswith(".pdf")).content()
        table = next(f for f in files if f.name.endswith(".csv")).content()
    assert pdf.startswith(b"%PDF")
    assert "Learner" in " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert [row[1] for row in read_csv(table)[1:]] == ["Learner"]
