"""Privacy: consents with their text version, the personal-data download, erasure (what goes at
once, what stays restricted, what the plugins do) and the purge after the retention date."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from courses import services as course_services
from courses.models import Enrolment, LessonProgress, ModuleCompletion
from lms import privacy
from lms.extensions import db
from lms.models import ConsentRecord, ErasureRequest, Membership, ThrottleEvent, User, utcnow
from lms.services import ServiceError
from lms.signals import user_erased
from tests.conftest import PASSWORD, login, post_form

SECRET_NAME = "Zlatomira Privacyova"
MIXED_GIFT_ESSAY = """
::short::Name the metric for data-centre efficiency. {=CANARYKEY#CANARY-FEEDBACK}

::essay::Describe one energy action for your office. {}
"""


def complete(user, course):
    course_services.enrol(user, course)
    for module in course.published_modules:
        for lesson in module.published_lessons:
            course_services.complete_lesson(user, lesson)
    db.session.commit()


def count(model, **where):
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


@pytest.fixture
def person(create_user, users):
    """A learner of the coordinator's company with a recognisable name, consents and data."""
    company = users["coordinator"].memberships[0].company
    user = create_user(
        "zlatomira@example.org",
        company=company,
        name=SECRET_NAME,
        gender="female",
        age_band="25_34",
        job_role="Data centre engineer",
    )
    privacy.set_consents(
        user, {"photos": True, "publication": False, "newsletter": True}, source="registration"
    )
    db.session.commit()
    return user


@pytest.fixture
def certified(person, users, create_course):
    """The person has completed a course of the trainer's and holds its certificate."""
    course = create_course("green-ops", modules=1, lessons=2, owner=users["trainer"])
    complete(person, course)
    return course


def request_and_erase(client, user, admin_email="admin@example.org"):
    login(client, user.email)
    assert post_form(client, "/account/privacy/erasure", {"confirm": "y"}).status_code == 302
    post_form(client, "/logout")
    login(client, admin_email)
    response = post_form(client, f"/admin/privacy/{user.id}/erase", {"confirm": "y"})
    post_form(client, "/logout")
    return response


# --- consents -----------------------------------------------------------------------------


def test_registration_records_each_consent_with_version_and_time(client, app):
    page = client.get("/register").get_data(as_text=True)
    for name in ("consent_photos", "consent_publication", "consent_newsletter"):
        tag = page[page.index(f'name="{name}"') - 200 : page.index(f'name="{name}"') + 60]
        assert "checked" not in tag  # unticked by default
    before = utcnow() - timedelta(seconds=5)
    response = post_form(
        client,
        "/register",
        {
            "name": "New Person",
            "email": "new.person@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "language": "en",
            "accept_privacy": "y",
            "consent_photos": "y",
            "gender": "prefer_not_to_say",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert user.gender == "prefer_not_to_say" and user.age_band is None
    records = {r.kind: r for r in db.session.scalars(select(ConsentRecord))}
    assert set(records) == {"photos", "publication", "newsletter"}
    assert records["photos"].granted is True
    assert records["publication"].granted is False and records["newsletter"].granted is False
    for record in records.values():
        assert record.user_id == user.id
        assert record.version == app.config["PRIVACY_NOTICE_VERSION"] == "2026-11"
        assert record.source == "registration"
        assert before <= record.at <= utcnow() + timedelta(seconds=5)


def test_registration_rejected_stores_no_consent(client):
    response = post_form(
        client,
        "/register",
        {
            "name": "X",
            "email": "x@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "language": "en",
            "consent_photos": "y",
        },
    )  # privacy notice not accepted
    assert response.status_code == 200
    assert count(ConsentRecord) == 0 and count(User) == 0


def test_consents_are_changed_on_the_account_page_and_the_history_kept(client, person):
    login(client, person.email)
    page = client.get("/account/").get_data(as_text=True)
    assert "/account/privacy" in page  # the account page links to the privacy page
    page = client.get("/account/privacy").get_data(as_text=True)
    assert "2026-11" in page
    # Withdraw photos, keep newsletter, give publication.
    response = post_form(
        client, "/account/privacy/consents", {"publication": "y", "newsletter": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    current = privacy.current_consents(person)
    assert {k: bool(r and r.granted) for k, r in current.items()} == {
        "photos": False,
        "publication": True,
        "newsletter": True,
    }
    assert count(ConsentRecord, user_id=person.id) == 3 + 2  # registration + two changes
    # The same choices again add nothing.
    post_form(client, "/account/privacy/consents", {"publication": "y", "newsletter": "y"})
    assert count(ConsentRecord, user_id=person.id) == 5


def test_privacy_posts_need_csrf(client, person):
    login(client, person.email)
    for path, data in (
        ("/account/privacy/consents", {"publication": "y"}),
        ("/account/privacy/erasure", {"confirm": "y"}),
        ("/account/privacy/erasure/withdraw", {}),
    ):
        assert client.post(path, data=data).status_code == 400
    assert count(ConsentRecord, user_id=person.id) == 3
    assert count(ErasureRequest) == 0
    post_form(client, "/account/privacy/erasure", {"confirm": "y"})
    post_form(client, "/logout")
    login(client, "admin@example.org")
    for path in (f"/admin/privacy/{person.id}/erase", f"/admin/privacy/{person.id}/cancel"):
        assert client.post(path, data={"confirm": "y"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, person.id).erased_at is None
    assert count(ErasureRequest, status="pending") == 1


def test_the_privacy_notice_names_recipients_retention_and_rights(client, app):
    page = client.get("/privacy").get_data(as_text=True)
    for text in (
        "ICT Cluster Burgas",
        "Innovation Norway",
        "Financial Mechanism Office",
        "auditors",
        "2031-12-31",
        "2026-11",
        "Комисия за защита на личните данни",
    ):
        assert text in page, text
    app.config["PRIVACY_RETENTION_UNTIL"] = "2033-06-30"
    assert "2033-06-30" in client.get("/privacy").get_data(as_text=True)


# --- data download ------------------------------------------------------------------------


def test_data_download_has_every_section_and_nothing_of_anyone_else(
    client, person, certified, users, create_course
):
    from quizzes import services as quiz_services

    other = users["other_learner"]
    other.name = "Otherina Strangerova"
    db.session.commit()
    complete(other, certified)
    quiz_course = create_course("quiz-course", modules=1, lessons=1, owner=users["trainer"])
    module = quiz_course.published_modules[0]
    made = quiz_services.import_gift(quiz_course, MIXED_GIFT_ESSAY, module)
    quiz = quiz_services.set_quiz(quiz_course, module, {"title": "Check", "pass_mark": 50}, made)
    course_services.enrol(person, quiz_course)
    attempt = quiz_services.start_attempt(quiz, person)
    essay_id = next(q.id for q in made if q.name == "essay")
    quiz_services.save_answers(attempt, {essay_id: {"text": "PRIVATE-ESSAY-TEXT"}})
    course_services.enrol(other, quiz_course)
    other_attempt = quiz_services.start_attempt(quiz, other)
    quiz_services.save_answers(other_attempt, {essay_id: {"text": "OTHER-ESSAY-TEXT"}})
    db.session.commit()

    login(client, person.email)
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    data = json.loads(body)
    assert data["profile"]["name"] == SECRET_NAME
    assert data["profile"]["email"] == "zlatomira@example.org"
    assert data["profile"]["gender"] == "female" and data["profile"]["age_band"] == "25_34"
    assert data["memberships"][0]["company"] == "Acme Green Ltd."
    assert data["consents"]["current"] == {"photos": True, "publication": False, "newsletter": True}
    assert len(data["consents"]["history"]) == 3
    slugs = {e["course"] for e in data["courses"]["enrolments"]}
    assert slugs == {"green-ops", "quiz-course"}
    assert len(data["courses"]["lesson_progress"]) == 2
    assert data["courses"]["module_completions"][0]["course"] == "green-ops"
    [attempt_data] = data["quizzes"]["attempts"]
    assert attempt_data["status"] == "in_progress" and attempt_data["score_percent"] is None
    assert [a["your_response"] for a in attempt_data["answers"]] == [{"text": "PRIVATE-ESSAY-TEXT"}]
    [certificate] = data["certificates"]
    assert certificate["name_on_certificate"] == SECRET_NAME
    assert certificate["status"] == "valid" and certificate["course"] == "green-ops"
    # Nothing of the other learner, and no answer key of the unfinished attempt.
    for leaked in ("Otherina", "other.learner@example.org", "OTHER-ESSAY-TEXT", "CANARY"):
        assert leaked not in body, leaked

    anonymous = client.application.test_client()
    assert anonymous.get("/account/data.json").status_code == 302


# --- erasure ------------------------------------------------------------------------------


def test_erasure_request_needs_confirmation_and_can_be_withdrawn(client, person):
    login(client, person.email)
    response = post_form(client, "/account/privacy/erasure", {})
    assert response.status_code == 400
    assert count(ErasureRequest) == 0
    assert post_form(client, "/account/privacy/erasure", {"confirm": "y"}).status_code == 302
    assert count(ErasureRequest, user_id=person.id, status="pending") == 1
    # Asking twice is refused, nothing added.
    assert post_form(client, "/account/privacy/erasure", {"confirm": "y"}).status_code == 409
    assert count(ErasureRequest) == 1
    assert post_form(client, "/account/privacy/erasure/withdraw").status_code == 302
    assert count(ErasureRequest, status="pending") == 0
    assert count(ErasureRequest, status="cancelled") == 1


def test_erasure_erases_at_once_and_restricts_the_rest(client, app, person, certified, users):
    from certificates import services as certificate_services
    from certificates.models import Certificate, CertificateDocument

    person_id, course_id = person.id, certified.id
    # A live session of the person, and a failed login counted against their address.
    learner_client = app.test_client()
    login(learner_client, person.email)
    assert learner_client.get("/account/").status_code == 200
    login(app.test_client(), person.email, "wrong-password-here")
    assert count(ThrottleEvent, key="zlatomira@example.org") == 1
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == person_id))
    code, sha = certificate.code, certificate.pdf_sha256
    assert sha and certificate.document is not None
    enrolments, completed = (
        count(Enrolment),
        db.session.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.completed_at.is_not(None))
        ),
    )
    modules_done = count(ModuleCompletion)

    login(client, "admin@example.org")
    post_form(client, "/logout")
    assert (
        post_form(learner_client, "/account/privacy/erasure", {"confirm": "y"}).status_code == 302
    )
    login(client, "admin@example.org")
    assert SECRET_NAME in client.get("/admin/privacy").get_data(as_text=True)
    response = post_form(client, f"/admin/privacy/{person_id}/erase", {"confirm": "y"})
    assert response.status_code == 302

    db.session.expire_all()
    user = db.session.get(User, person_id)
    assert user.name == f"Erased user #{person_id}"
    assert user.email.endswith("@erased.invalid") and "zlatomira" not in user.email
    assert user.job_role is None and user.last_login_at is None
    assert not user.active and user.erased_at is not None
    assert not user.check_password(PASSWORD)
    # Restricted, not erased: what the audit needs.
    assert user.gender == "female" and user.age_band == "25_34"
    assert count(Membership, user_id=person_id) == 1
    assert count(Enrolment) == enrolments and count(ModuleCompletion) == modules_done
    assert (
        db.session.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.completed_at.is_not(None))
        )
        == completed
    )
    assert count(ThrottleEvent, key="zlatomira@example.org") == 0
    assert not any(privacy.consent_given(user, kind) for kind in ("photos", "newsletter"))
    assert count(ConsentRecord, user_id=person_id, source="erasure") == 2
    request = db.session.scalar(select(ErasureRequest).where(ErasureRequest.user_id == person_id))
    assert request.status == "done" and request.processed_by_id == users["admin"].id

    # The certificate still verifies as valid, without a name; its named PDF is gone.
    certificate = certificate_services.find_by_code(code)
    assert certificate.anonymised_at is not None
    assert certificate.snapshot["learner_name"] is None and certificate.learner_name == ""
    verification = certificate_services.verification(certificate).as_dict()
    assert verification["status"] == "valid" and verification["learner_name"] is None
    assert verification["course_title"] == certified.title
    assert count(CertificateDocument, certificate_id=certificate.id) == 0
    assert certificate.pdf_sha256 == sha  # the person's own copy still verifies by hash

    # The session ended; the old and the placeholder address cannot log in.
    assert learner_client.get("/account/").status_code == 302
    for email in ("zlatomira@example.org", user.email):
        fresh = app.test_client()
        login(fresh, email)
        assert fresh.get("/account/").status_code == 302
    # Not reactivated, not shown for editing.
    post_form(client, f"/admin/users/{person_id}/active", {"active": "1"})
    db.session.expire_all()
    assert db.session.get(User, person_id).active is False
    assert client.get(f"/admin/users/{person_id}").status_code == 404

    # The name and email are nowhere: admin, coordinator, trainer pages and exports.
    company_id = users["coordinator"].memberships[0].company_id
    search = client.get("/admin/users?q=erased").get_data(as_text=True)
    assert f"/admin/users/{person_id}" not in search and "No users found" in search
    pages = [client.get("/admin/users"), client.get("/admin/privacy")]
    coordinator = app.test_client()
    login(coordinator, "coordinator@example.org")
    pages += [
        coordinator.get(f"/company/{company_id}"),
        coordinator.get(f"/courses/progress/company/{company_id}"),
        coordinator.get(f"/courses/progress/company/{company_id}/export.csv"),
    ]
    # Restricted: hidden from the coordinator's and trainer's pages altogether.
    hidden = coordinator.get(f"/courses/progress/company/{company_id}/learners/{person_id}")
    assert hidden.status_code == 404
    trainer = app.test_client()
    login(trainer, "trainer@example.org")
    pages += [
        trainer.get(f"/courses/progress/course/{certified.slug}"),
        trainer.get(f"/courses/progress/course/{certified.slug}/export.csv"),
    ]
    pages.append(app.test_client().get(f"/verify/{code}"))
    assert course_id
    for response in pages[2:]:
        assert f"Erased user #{person_id}" not in response.get_data(as_text=True)
    for response in pages:
        assert response.status_code == 200, (response.request.path, response.status_code)
        body = response.get_data(as_text=True)
        for secret in ("Zlatomira", "zlatomira@example.org", "Privacyova", "Data centre engineer"):
            assert secret not in body, (response.request.path, secret)


def test_admins_cannot_erase_themselves_or_the_last_admin(client, users, create_user):
    admin = users["admin"]
    login(client, admin.email)
    post_form(client, "/account/privacy/erasure", {"confirm": "y"})
    response = post_form(client, f"/admin/privacy/{admin.id}/erase", {"confirm": "y"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(User, admin.id).erased_at is None
    assert count(ErasureRequest, status="pending") == 1
    # The command line (no acting admin) cannot erase the only admin either.
    with pytest.raises(ServiceError):
        privacy.erase_user(db.session.get(User, admin.id), None)
    db.session.rollback()
    # Another admin can.
    create_user("second.admin@example.org", roles=("admin",))
    post_form(client, "/logout")
    login(client, "second.admin@example.org")
    assert (
        post_form(client, f"/admin/privacy/{admin.id}/erase", {"confirm": "y"}).status_code == 302
    )
    db.session.expire_all()
    assert db.session.get(User, admin.id).erased_at is not None


def test_a_failure_during_erasure_leaves_nothing_half_done(app, person, certified, users):
    from certificates.models import Certificate

    request = privacy.request_erasure(person)
    db.session.commit()

    def boom(sender, **kwargs):
        raise RuntimeError("a plugin failed")

    with user_erased.connected_to(boom), pytest.raises(RuntimeError):
        privacy.process_request(request, users["admin"])
    db.session.rollback()
    db.session.expire_all()
    user = db.session.get(User, person.id)
    assert user.name == SECRET_NAME and user.active and user.erased_at is None
    assert user.check_password(PASSWORD)
    assert db.session.get(ErasureRequest, request.id).status == "pending"
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == person.id))
    assert certificate.anonymised_at is None and certificate.learner_name == SECRET_NAME
    assert certificate.document is not None


# --- after the retention date -------------------------------------------------------------


def test_purge_expired_does_nothing_before_the_retention_date_then_anonymises(
    client, app, person, certified, users, create_course
):
    from quizzes import services as quiz_services
    from quizzes.models import Answer

    quiz_course = create_course("quiz-course", modules=1, lessons=1, owner=users["trainer"])
    module = quiz_course.published_modules[0]
    made = quiz_services.import_gift(quiz_course, MIXED_GIFT_ESSAY, module)
    quiz = quiz_services.set_quiz(quiz_course, module, {"title": "Check", "pass_mark": 50}, made)
    course_services.enrol(person, quiz_course)
    attempt = quiz_services.start_attempt(quiz, person)
    essay_id = next(q.id for q in made if q.name == "essay")
    quiz_services.submit_attempt(attempt, {essay_id: {"text": "PRIVATE-ESSAY-TEXT"}})
    db.session.commit()
    privacy.request_erasure(person)
    privacy.erase_user(person, users["admin"])
    db.session.commit()
    person_id = person.id
    enrolments = count(Enrolment, user_id=person_id)
    completed = db.session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.user_id == person_id, Enrolment.completed_at.is_not(None))
    )
    assert count(LessonProgress, user_id=person_id) > 0

    runner = app.test_cli_runner()
    app.config["PRIVACY_RETENTION_UNTIL"] = (utcnow().date() + timedelta(days=1)).isoformat()
    result = runner.invoke(args=["lms", "purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Nothing to anonymise" in result.output
    db.session.expire_all()
    assert db.session.get(User, person_id).anonymised_at is None
    assert count(Membership, user_id=person_id) == 1
    assert count(LessonProgress, user_id=person_id) > 0

    app.config["PRIVACY_RETENTION_UNTIL"] = (utcnow().date() - timedelta(days=1)).isoformat()
    result = runner.invoke(args=["lms", "purge-expired"])
    assert result.exit_code == 0, result.output
    assert "1 erased accounts anonymised" in result.output
    db.session.expire_all()
    user = db.session.get(User, person_id)
    assert user.anonymised_at is not None
    assert count(Membership, user_id=person_id) == 0
    assert count(LessonProgress, user_id=person_id) == 0
    answer = db.session.scalar(select(Answer).where(Answer.question_id == essay_id))
    assert answer.response is None
    # One anonymous unit still counted: enrolments, completions, gender and age band stay.
    assert count(Enrolment, user_id=person_id) == enrolments
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.user_id == person_id, Enrolment.completed_at.is_not(None))
        )
        == completed
    )
    assert user.gender == "female" and user.age_band == "25_34"
    # Idempotent: a second run finds nothing.
    result = runner.invoke(args=["lms", "purge-expired"])
    assert "Nothing to anonymise" in result.output
    # Other people are never touched.
    other = db.session.get(User, users["learner"].id)
    assert other.erased_at is None and count(Membership, user_id=other.id) == 1


def test_erasure_removes_the_name_and_email_copied_into_attendance_lists(app, person, users):
    from courses.models import Attendance, LiveEvent

    events = [
        LiveEvent(
            title=f"Webinar {n}",
            topic="circular-economy",
            starts_at=utcnow() - timedelta(days=n),
            duration_minutes=60,
        )
        for n in (1, 2)
    ]
    db.session.add_all(events)
    db.session.flush()
    db.session.add_all(
        [
            Attendance(
                event_id=events[0].id,
                user_id=person.id,
                name=SECRET_NAME,
                email="zlatomira@example.org",
                company="Acme Green Ltd.",
                minutes=60,
            ),
            # A walk-in recorded under the person's address without linking the account.
            Attendance(
                event_id=events[1].id,
                name="Zlatomira P.",
                email="ZLATOMIRA@example.org",
                company="Acme Green Ltd.",
            ),
            Attendance(event_id=events[1].id, name="Someone Else", email="else@example.org"),
        ]
    )
    db.session.commit()
    data = privacy.personal_data(person)
    assert data["courses"]["attendance"][0]["recorded_name"] == SECRET_NAME

    privacy.request_erasure(person)
    privacy.erase_user(person, users["admin"])
    db.session.commit()
    db.session.expire_all()
    rows = {
        a.event_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.name != "Someone Else"))
    }
    assert count(Attendance) == 3  # attendance still counts
    linked, guest = rows[events[0].id], rows[events[1].id]
    assert (linked.name, linked.email, linked.company, linked.minutes) == (
        "",
        "",
        "Acme Green Ltd.",
        60,
    )
    assert guest.name == f"Erased user #{person.id}" and guest.email == ""
    other = db.session.scalar(select(Attendance).where(Attendance.name == "Someone Else"))
    assert other.email == "else@example.org"
