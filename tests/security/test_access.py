"""SECURITY.md, access: the role x route matrix built from `app.url_map` against the tables in
tests/data/route_access/ (a route missing from them fails: default deny), object-level
permission (a foreign object answers 404) with IDOR sweeps over attempts, progress,
certificates and profiles, cross-company isolation in pages and exports, escalation through
extra form fields, and role changes taking effect on the next request."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from certificates.models import Certificate
from courses import services as course_services
from courses.models import Enrolment, LessonProgress, Media
from lms import services as core_services
from lms.extensions import db
from lms.models import Company, ErasureRequest, Membership, User
from lms.reports.models import ReportSnapshot
from quizzes import services as quiz_services
from quizzes.models import Attempt
from tests.certificates.test_register import SCOPES, codes_in, zip_post
from tests.conftest import login, post_form
from tests.core.test_admin import admin_client
from tests.core.test_privacy import count
from tests.core.test_report_exports import REPORT_URLS
from tests.courses.test_authoring import course_form, find, png
from tests.courses.test_authoring import upload as upload_image
from tests.courses.test_learning import lessons_of
from tests.courses.test_progress import enrolment_count, progress_urls
from tests.support.measure import read_csv, read_xlsx

# --- the role x route matrix ------------------------------------------------------------------

TABLES = Path(__file__).resolve().parents[1] / "data" / "route_access"
ROLES = ("anonymous", "learner", "trainer", "coordinator", "admin")
SKIPPED_ENDPOINTS = {"static"}


def load_table() -> dict[tuple[str, str], dict[str, int]]:
    table = {}
    for path in sorted(TABLES.glob("*.csv")):
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
        for row in csv.DictReader(lines):
            key = (row["endpoint"], row["method"])
            assert key not in table, f"duplicate row {key} in {path.name}"
            table[key] = {role: int(row[role]) for role in ROLES}
    return table


def app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or rule.endpoint.endswith(".static"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((rule.endpoint, method))
    return routes


#: POST rows are sent with an empty form and CSRF off (CSRF is swept route by route in
#: test_sessions.py::test_every_state_changing_route_refuses_a_missing_csrf_token).
CSRF_OFF = pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": False}], ids=["csrf-off"])


def table_gaps(app) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(routes of the app without a row, rows without a route)."""
    table, routes = set(load_table()), app_routes(app)
    return routes - table, table - routes


@CSRF_OFF
def test_every_route_has_a_row_and_every_row_a_route(app):
    missing, stale = table_gaps(app)
    assert missing == set(), "routes missing from tests/data/route_access/*.csv"
    assert stale == set(), "rows in tests/data/route_access/ for routes that do not exist"


def test_a_new_route_without_a_row_fails_the_matrix(database_url):
    """Default deny, proven: a route added to the app (here by a test) and absent from the
    tables is reported as missing, for each of its methods; a row naming no route is reported
    as stale."""
    from tests.conftest import make_app

    app = make_app(database_url)
    assert ("main.home", "GET") in app_routes(app)
    app.add_url_rule("/_unlisted", "unlisted_probe", lambda: "x", methods=["GET", "POST"])
    missing, _stale = table_gaps(app)
    assert {("unlisted_probe", "GET"), ("unlisted_probe", "POST")} <= missing
    table = load_table()
    table[("no_such.endpoint", "GET")] = dict.fromkeys(ROLES, 404)
    assert ("no_such.endpoint", "GET") in set(table) - app_routes(app)


@CSRF_OFF
def test_role_route_matrix(app, users, route_arguments):
    from flask import url_for

    arguments = route_arguments
    table = load_table()
    failures = []
    # Every GET first, then the POSTs (which may change state: enrolments, deactivations),
    # role by role in ROLES order and route by route in sorted order, so results are stable.
    plan = [
        (phase, role, key)
        for phase in ("GET", "POST")
        for role in ROLES
        for key in sorted(table)
        if (key[1] == "GET") == (phase == "GET")
    ]
    for _phase, role, (endpoint, method) in plan:
        expected = table[(endpoint, method)][role]
        client = app.test_client()
        if role != "anonymous":
            assert login(client, f"{role}@example.org").status_code == 302
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        with app.test_request_context():
            url = url_for(endpoint, **{a: arguments[a] for a in rule.arguments})
        response = client.open(url, method=method, data={})
        if response.status_code != expected:
            failures.append(
                f"{role:<11} {method:<5} {url}: {response.status_code}, expected {expected}"
            )
    assert not failures, "\n".join(failures)


# --- escalation and role changes ----------------------------------------------------------


def test_trainer_cannot_escalate_with_extra_form_fields(app, users):
    client = app.test_client()
    login(client, "trainer@example.org")
    response = post_form(
        client,
        "/account/",
        {"name": "Trainer", "language": "en", "roles": ["admin"], "is_admin": "1", "active": "1"},
    )
    assert response.status_code == 302
    user = db.session.get(User, users["trainer"].id)
    assert user.roles == {"trainer"}
    assert post_form(client, f"/admin/users/{user.id}", {"roles": ["admin"]}).status_code == 403


def test_role_removal_takes_effect_on_the_next_request(app, users):
    admin = admin_client(app, users)
    trainer_admin = app.test_client()
    post_form(
        admin,
        f"/admin/users/{users['trainer'].id}",
        {
            "name": "T",
            "email": "trainer@example.org",
            "language": "en",
            "roles": ["trainer", "admin"],
            "company_id": "0",
        },
    )
    login(trainer_admin, "trainer@example.org")
    assert trainer_admin.get("/admin/").status_code == 200
    post_form(
        admin,
        f"/admin/users/{users['trainer'].id}",
        {
            "name": "T",
            "email": "trainer@example.org",
            "language": "en",
            "roles": ["trainer"],
            "company_id": "0",
        },
    )
    assert trainer_admin.get("/admin/").status_code == 403


def test_coordinator_sees_only_own_company(app, users):
    client = app.test_client()
    login(client, "coordinator@example.org")
    own = users["coordinator"].memberships[0].company_id
    foreign = users["other_coordinator"].memberships[0].company_id
    page = client.get(f"/company/{own}").get_data(as_text=True)
    assert "learner@example.org" in page and "other.learner@example.org" not in page
    assert client.get(f"/company/{foreign}").status_code == 404
    assert client.get("/company/999999").status_code == 404
    assert post_form(client, f"/company/{foreign}/invitation").status_code == 404
    assert client.get("/admin/companies").status_code == 403


# --- object-level permission and IDOR sweeps ---------------------------------------------


def test_lesson_of_another_course_is_404(client, users, create_course):
    create_course("c1")
    other = create_course("c2")
    login(client, "learner@example.org")
    post_form(client, "/courses/c1/enrol")
    foreign = lessons_of(other)[0]
    assert client.get(f"/courses/c1/lessons/{foreign.id}").status_code == 404
    assert post_form(client, f"/courses/c1/lessons/{foreign.id}/done").status_code == 404
    assert count(LessonProgress) == 0


def test_progress_of_other_learners_is_not_reachable(client, users, create_course):
    """IDOR: a learner's pages show only their own progress."""
    course = create_course("c1", modules=1, lessons=2)
    course_services.enrol(users["other_learner"], course)
    course_services.complete_lesson(users["other_learner"], lessons_of(course)[0])
    db.session.commit()
    login(client, "learner@example.org")
    assert "50%" not in client.get("/courses/my").get_data(as_text=True)
    assert "Your progress" not in client.get("/courses/c1").get_data(as_text=True)


def test_idor_sweep_over_certificate_ids(client, users, create_course, complete_course):
    """Every id from 1 past the last: each learner gets exactly their own certificates,
    every other id (foreign or unknown) answers 404 alike."""
    for n in range(2):
        course = create_course(f"sweep-{n}", modules=1, lessons=1)
        complete_course(users["learner"], course)
        complete_course(users["other_learner"], course)
    rows = db.session.execute(select(Certificate.id, Certificate.user_id)).all()
    assert len(rows) == 4
    owner = {cid: uid for cid, uid in rows}
    for who in ("learner", "other_learner"):
        client = client.application.test_client()
        login(client, users[who].email)
        for certificate_id in range(1, max(owner) + 4):
            status = client.get(f"/certificates/{certificate_id}.pdf").status_code
            expected = 200 if owner.get(certificate_id) == users[who].id else 404
            assert status == expected, (who, certificate_id, status)


def test_a_trainer_reaches_only_their_own_courses(client, users, create_course):
    foreign = create_course("foreign", title="Someone else's course")  # a new trainer owns it
    module = foreign.modules[0]
    lesson = module.lessons[0]
    login(client, "trainer@example.org")
    assert "Someone else" not in client.get("/courses/manage").get_data(as_text=True)
    base = "/courses/manage/foreign"
    for path in (
        base,
        f"{base}/modules/{module.id}",
        f"{base}/lessons/{lesson.id}",
        f"{base}/modules/{module.id}/delete",
        f"{base}/lessons/{lesson.id}/delete",
    ):
        assert client.get(path).status_code == 404, path
    posts = {
        base: course_form(slug="foreign", title="Stolen"),
        f"{base}/modules": {"module-title": "Injected"},
        f"{base}/modules/{module.id}": {"title": "Stolen"},
        f"{base}/modules/{module.id}/move": {"direction": "down"},
        f"{base}/modules/{module.id}/delete": {"confirm": "yes"},
        f"{base}/modules/{module.id}/lessons": {"lesson-title": "Injected", "lesson-minutes": 5},
        f"{base}/lessons/{lesson.id}": {"title": "Stolen", "minutes": 5, "body_md": "x"},
        f"{base}/lessons/{lesson.id}/move": {"direction": "down"},
        f"{base}/lessons/{lesson.id}/delete": {"confirm": "yes"},
        f"{base}/publish": {"version": 1},
        f"{base}/archive": {"confirm": "yes"},
        f"{base}/preview": {"body_md": "# hi"},
        f"{base}/owners": {"owners": str(users["trainer"].id)},
    }
    for path, data in posts.items():
        expected = 403 if path.endswith("/owners") else 404
        assert post_form(client, path, data).status_code == expected, path
    assert upload_image(client, "foreign", "x.png", png()).status_code == 404
    course = find("foreign")
    assert course.title == "Someone else's course" and course.version == 1
    assert course.status == "published"
    assert [m.title for m in course.modules] == ["Module 1", "Module 2"]
    assert not any(x.deleted for m in course.modules for x in m.lessons)
    assert [o.id for o in course.owners] != [users["trainer"].id]
    assert count(Media) == 0


# --- tenant isolation: coordinators see their own company only -------------------------


def test_company_export_contains_no_other_company(client, users, acme, other, progress_data):
    login(client, "coordinator@example.org")
    for fmt, reader in (("csv", read_csv), ("xlsx", read_xlsx)):
        response = client.get(f"/courses/progress/company/{acme.id}/export.{fmt}")
        text = repr(reader(response))
        assert "other.learner@example.org" not in text
        assert "other.coordinator@example.org" not in text
        assert "Other.Learner" not in text
    client = client.application.test_client()
    login(client, "other.coordinator@example.org")
    for fmt, reader in (("csv", read_csv), ("xlsx", read_xlsx)):
        rows = reader(client.get(f"/courses/progress/company/{other.id}/export.{fmt}"))
        assert [row[1] for row in rows[1:]] == ["other.learner@example.org"]


def test_coordinator_cannot_reach_another_company(client, users, acme, other, progress_data):
    login(client, "coordinator@example.org")
    for url in progress_urls(other.id, users["other_learner"].id):
        assert client.get(url).status_code == 404, url
    unknown = other.id + 1000
    for url in progress_urls(unknown, users["other_learner"].id):
        assert client.get(url).status_code == 404, url  # the same answer as a foreign company
    response = post_form(
        client,
        f"/courses/progress/company/{other.id}/enrol",
        {"course_id": progress_data["two"].id, "user_ids": [users["other_learner"].id]},
    )
    assert response.status_code == 404
    assert (
        course_services.find_enrolment(users["other_learner"].id, progress_data["two"].id) is None
    )


def test_coordinator_cannot_drill_into_a_learner_of_another_company(client, users, acme):
    login(client, "coordinator@example.org")
    own = f"/courses/progress/company/{acme.id}/learners"
    assert client.get(f"{own}/{users['learner'].id}").status_code == 200
    assert client.get(f"{own}/{users['other_learner'].id}").status_code == 404
    assert client.get(f"{own}/{users['trainer'].id}").status_code == 404  # no company
    assert client.get(f"{own}/999999").status_code == 404


@pytest.mark.parametrize(
    "case", ["foreign", "mixed", "deactivated", "no-company", "unknown", "nonsense", "draft"]
)
def test_enrol_refuses_ids_outside_the_company(
    client, users, create_user, create_course, acme, case
):
    course = create_course("target")
    draft = create_course("draft-course", publish=False)
    gone = create_user("gone@example.org", company=acme)
    core_services.set_user_active(db.session.get(User, gone.id), False)
    db.session.commit()
    user_ids, course_id = {
        "foreign": ([users["other_learner"].id], course.id),
        "mixed": ([users["learner"].id, users["other_learner"].id], course.id),
        "deactivated": ([gone.id], course.id),
        "no-company": ([users["trainer"].id], course.id),
        "unknown": ([999999], course.id),
        "nonsense": (["abc"], course.id),
        "draft": ([users["learner"].id], draft.id),
    }[case]
    login(client, "coordinator@example.org")
    response = post_form(
        client,
        f"/courses/progress/company/{acme.id}/enrol",
        {"course_id": course_id, "user_ids": user_ids},
    )
    assert response.status_code == 400
    assert "Please correct the following" in response.get_data(as_text=True)
    assert enrolment_count() == 0


@pytest.mark.parametrize("email", sorted(SCOPES))
def test_register_page_csv_and_xlsx_are_scoped(client, world, email):
    login(client, email)
    page = client.get("/certificates/register")
    assert page.status_code == 200
    assert codes_in(page.get_data(as_text=True), world) == SCOPES[email]

    rows = read_csv(client.get("/certificates/register.csv"))
    assert rows[0][0] == "Certificate code"
    assert {k for k, c in world.c.items() if c.code in {r[0] for r in rows[1:]}} == SCOPES[email]
    assert len(rows) == 1 + len(SCOPES[email])

    sheet = read_xlsx(client.get("/certificates/register.xlsx"))
    assert {k for k, c in world.c.items() if c.code in {r[0] for r in sheet[1:]}} == SCOPES[email]


@pytest.mark.parametrize("email", sorted(SCOPES))
def test_zip_holds_only_certificates_in_the_users_register(client, world, email):
    """Every id is sent; only those in the user's register come back (foreign ids are
    ignored, as unknown ones are)."""
    login(client, email)
    ids = [str(c.id) for c in world.c.values()] + ["999999"]
    response = zip_post(client, {"ids": ids})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    pdfs = {name: archive.read(name) for name in archive.namelist() if name.endswith(".pdf")}
    digests = {hashlib.sha256(data).hexdigest() for data in pdfs.values()}
    expected = {world.c[key].pdf_sha256 for key in SCOPES[email]}
    assert digests == expected and len(pdfs) == len(expected)
    manifest = list(csv.reader(io.StringIO(archive.read("certificates.csv").decode("utf-8-sig"))))
    assert {row[0] for row in manifest[1:]} == {world.c[key].code for key in SCOPES[email]}


def test_company_filter_cannot_widen_a_coordinators_register(client, users, world):
    other_company = users["other_learner"].memberships[0].company_id
    login(client, "coordinator@example.org")
    html = client.get(f"/certificates/register?company={other_company}").get_data(as_text=True)
    assert codes_in(html, world) == set()
    rows = read_csv(client.get(f"/certificates/register.csv?company={other_company}"))
    assert rows[1:] == []


# --- admin-only areas ------------------------------------------------------------------------


def test_other_peoples_requests_and_pages_are_not_reachable(client, person, users):
    login(client, person.email)
    post_form(client, "/account/privacy/erasure", {"confirm": "y"})
    post_form(client, "/logout")
    for email in ("learner@example.org", "coordinator@example.org", "trainer@example.org"):
        login(client, email)
        assert client.get("/admin/privacy").status_code == 403
        response = post_form(client, f"/admin/privacy/{person.id}/erase", {"confirm": "y"})
        assert response.status_code == 403
        assert post_form(client, f"/admin/privacy/{person.id}/cancel").status_code == 403
        # A learner's withdraw only ever touches their own request.
        post_form(client, "/account/privacy/erasure/withdraw")
        post_form(client, "/logout")
    assert count(ErasureRequest, status="pending") == 1
    login(client, "admin@example.org")
    # No pending request for this user: 404, nothing erased.
    other_id = users["other_learner"].id
    assert (
        post_form(client, f"/admin/privacy/{other_id}/erase", {"confirm": "y"}).status_code == 404
    )
    assert post_form(client, "/admin/privacy/999999/erase", {"confirm": "y"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, other_id).erased_at is None
    # Without the confirmation box: refused, nothing erased.
    assert post_form(client, f"/admin/privacy/{person.id}/erase", {}).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, person.id).erased_at is None
    # Closing without erasing.
    assert post_form(client, f"/admin/privacy/{person.id}/cancel").status_code == 302
    assert count(ErasureRequest, status="cancelled") == 1


@pytest.mark.parametrize("role", ["learner", "trainer", "coordinator"])
def test_other_roles_cannot_reach_any_report_url(client, users, role) -> None:  # noqa: ANN001
    login(client, f"{role}@example.org" if role != "coordinator" else "coordinator@example.org")
    for url in REPORT_URLS:
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"Grant report" not in response.data
    assert (
        post_form(
            client,
            "/admin/reports/snapshots",
            {"first_day": "2025-04-01", "last_day": "2025-06-30"},
        ).status_code
        == 403
    )
    assert db.session.scalar(select(func.count(ReportSnapshot.id))) == 0


# --- new cases --------------------------------------------------------------------------------


def test_extra_form_fields_change_nothing_they_do_not_show(app, client, users, create_course):
    """Mass assignment: fields a form does not show (roles, owners, company, status, flags)
    posted anyway by a visitor, a learner and a trainer change nothing."""
    acme_id = users["coordinator"].memberships[0].company_id
    extra = {
        "roles": ["admin", "trainer"],
        "is_admin": "1",
        "coordinator": "y",
        "company_id": str(acme_id),
        "active": "1",
        "session_version": "1",
        "owner_id": str(users["admin"].id),
        "owners": [str(users["admin"].id)],
        "user_id": str(users["other_learner"].id),
        "status": "published",
        "version": "9",
    }
    # A visitor registering.
    registration = {
        "name": "Mallory",
        "email": "mallory@example.org",
        "password": "a-long-password-1",
        "password_confirm": "a-long-password-1",
        "language": "en",
        "accept_privacy": "y",
    }
    assert post_form(client, "/register", {**registration, **extra}).status_code == 302
    mallory = db.session.scalar(select(User).where(User.email == "mallory@example.org"))
    assert mallory.roles == {"learner"} and mallory.memberships == []
    # A learner's profile.
    learner = app.test_client()
    login(learner, "learner@example.org")
    profile = {"name": "Learner", "language": "en", "email": "admin@example.org"}
    assert post_form(learner, "/account/", {**profile, **extra}).status_code == 302
    db.session.expire_all()
    me = db.session.get(User, users["learner"].id)
    assert me.roles == {"learner"} and me.email == "learner@example.org"
    assert [(m.company_id, m.is_coordinator) for m in me.memberships] == [(acme_id, False)]
    # A learner enrolling "for someone else".
    create_course("target", owner=users["trainer"])
    assert post_form(learner, "/courses/target/enrol", extra).status_code == 302
    enrolled = db.session.scalars(select(Enrolment.user_id)).all()
    assert enrolled == [users["learner"].id]
    # A trainer creating a course: owned by them only, still a draft.
    trainer = app.test_client()
    login(trainer, "trainer@example.org")
    response = post_form(trainer, "/courses/manage/new", {**course_form(slug="mine"), **extra})
    assert response.status_code == 302
    mine = find("mine")
    assert [o.id for o in mine.owners] == [users["trainer"].id]
    assert mine.status == "draft" and mine.version == 0
    db.session.expire_all()
    assert db.session.get(User, users["trainer"].id).roles == {"trainer"}


def test_coordinator_demotion_takes_effect_on_the_next_request(app, users):
    acme_id = users["coordinator"].memberships[0].company_id
    coordinator = app.test_client()
    login(coordinator, "coordinator@example.org")
    own = f"/courses/progress/company/{acme_id}/export.csv"
    assert coordinator.get(f"/company/{acme_id}").status_code == 200
    assert coordinator.get(own).status_code == 200
    admin = admin_client(app, users)
    response = post_form(
        admin,
        f"/admin/users/{users['coordinator'].id}",
        {
            "name": "Coordinator",
            "email": "coordinator@example.org",
            "language": "en",
            "roles": ["learner"],
            "company_id": str(acme_id),
        },
    )
    assert response.status_code == 302
    for path in (f"/company/{acme_id}", own, f"/courses/progress/company/{acme_id}"):
        assert coordinator.get(path).status_code in (403, 404), path
    assert b"learner@example.org" not in coordinator.get(own).get_data()


def test_idor_sweep_over_attempts_progress_and_profiles(app, users, quiz_course):
    """Every id from 1 to past the last, for each of two people: their own objects answer,
    every foreign or unknown id answers 404 alike (403 where the role has no access at all)."""
    course, quiz = quiz_course
    course_services.enrol(users["other_learner"], course)
    for who in ("learner", "other_learner", "learner"):
        attempt = quiz_services.start_attempt(quiz, users[who])
        quiz_services.submit_attempt(attempt, {})
    quiz_services.start_attempt(quiz, users["other_learner"])  # one in progress
    db.session.commit()
    owner = dict(db.session.execute(select(Attempt.id, Attempt.user_id)).all())
    assert len(owner) == 4
    for who in ("learner", "other_learner"):
        client = app.test_client()
        login(client, users[who].email)
        for attempt_id in range(1, max(owner) + 4):
            mine = owner.get(attempt_id) == users[who].id
            page = client.get(f"/quizzes/attempts/{attempt_id}")
            review = client.get(f"/quizzes/attempts/{attempt_id}/review")
            if mine:
                assert page.status_code in (200, 302) and review.status_code in (200, 302)
            else:
                assert (page.status_code, review.status_code) == (404, 404), (who, attempt_id)
                submit = post_form(client, f"/quizzes/attempts/{attempt_id}", {"action": "submit"})
                assert submit.status_code == 404
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count(Attempt.id)).where(Attempt.submitted_at.is_(None))) == 1
    )  # the other learner's open attempt was not submitted by anyone else

    # Progress of people and companies, for both coordinators.
    user_ids = db.session.scalars(select(User.id)).all()
    company_ids = db.session.scalars(select(Company.id)).all()
    members = {(m.company_id, m.user_id) for m in db.session.scalars(select(Membership)).all()}
    for who in ("coordinator", "other_coordinator"):
        client = app.test_client()
        login(client, users[who].email)
        own = users[who].memberships[0].company_id
        for company_id in [*company_ids, max(company_ids) + 1]:
            expected = 200 if company_id == own else 404
            assert client.get(f"/company/{company_id}").status_code == expected
            assert client.get(f"/courses/progress/company/{company_id}").status_code == expected
            for user_id in [*user_ids, max(user_ids) + 1]:
                status = client.get(
                    f"/courses/progress/company/{company_id}/learners/{user_id}"
                ).status_code
                mine = company_id == own and (company_id, user_id) in members
                assert status == (200 if mine else 404), (who, company_id, user_id, status)
        # Profiles are the admin's: every id answers 403 to a coordinator, known or not.
        for user_id in [*user_ids, max(user_ids) + 1]:
            assert client.get(f"/admin/users/{user_id}").status_code == 403
