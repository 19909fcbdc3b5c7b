"""Following progress: the company matrix, a learner's drill-down, enrolment by coordinators, a
course's learners for its trainers, the CSV/XLSX exports, tenant isolation and query counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from courses import reports
from courses import services as course_services
from courses.models import Enrolment
from lms import services as core_services
from lms.extensions import db
from lms.models import Company, Membership, User
from tests.conftest import login, post_form
from tests.support.measure import counted_statements, read_csv, read_xlsx

INJECTIONS = ['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1)"]


def company_of(user: User) -> Company:
    return user.memberships[0].company


def lessons_of(course) -> list:  # noqa: ANN001
    return [lesson for m in course.published_modules for lesson in m.published_lessons]


def complete(user: User, course, count: int) -> None:  # noqa: ANN001
    for lesson in lessons_of(course)[:count]:
        course_services.complete_lesson(user, lesson)


@pytest.fixture
def acme(users) -> Company:  # noqa: ANN001
    return company_of(users["learner"])


@pytest.fixture
def other(users) -> Company:  # noqa: ANN001
    return company_of(users["other_learner"])


@pytest.fixture
def progress_data(users, create_user, create_course, acme, other):  # noqa: ANN001
    """Acme: the learner read 1 of 4 lessons of "four"; Ana completed "four"; nobody of Acme
    but Ana is in "two". Other Company: its learner is in "four" too (1 lesson)."""
    four = create_course("four", modules=2, lessons=2, owner=users["trainer"], title="Four")
    two = create_course("two", modules=1, lessons=2, title="Two")
    ana = create_user("ana@example.org", company=acme, name="Ana Koleva", job_role="Developer")
    course_services.enrol(users["learner"], four)
    course_services.enrol(ana, four)
    course_services.enrol(ana, two)
    course_services.enrol(users["other_learner"], four)
    complete(users["learner"], four, 1)
    complete(ana, four, 4)
    complete(users["other_learner"], four, 1)
    db.session.commit()
    return {"four": four, "two": two, "ana": ana}


# --- values -------------------------------------------------------------------------------


def test_matrix_values_on_hand_built_data(users, acme, progress_data):
    four, two, ana = progress_data["four"], progress_data["two"], progress_data["ana"]
    matrix = reports.company_matrix(acme)
    assert [c.slug for c in matrix.courses] == ["four", "two"]
    rows = {row.learner.id: row for row in matrix.rows}
    assert set(rows) == {users["learner"].id, users["coordinator"].id, ana.id}
    learner = rows[users["learner"].id]
    assert learner.cells[four.id].percent == 25
    assert learner.cells[four.id].lessons_done == 1
    assert learner.cells[four.id].lessons_total == 4
    assert learner.cells[four.id].completed_at is None
    assert two.id not in learner.cells  # not enrolled: an empty cell
    done = rows[ana.id].cells[four.id]
    assert done.percent == 100 and done.completed_at is not None
    assert rows[ana.id].cells[two.id].percent == 0
    assert rows[users["coordinator"].id].cells == {}
    assert rows[ana.id].last_activity_at is not None
    assert matrix.enrolment_count == 3 and matrix.completed_count == 1


def test_matrix_page_shows_values(client, users, acme, progress_data):
    ana = progress_data["ana"]
    login(client, "coordinator@example.org")
    response = client.get(f"/courses/progress/company/{acme.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "25%" in html and "1 of 4 lessons" in html
    assert "pct-20" in html and "pct-100 is-complete" in html
    enrolment = course_services.find_enrolment(ana.id, progress_data["four"].id)
    assert f'Completed <time datetime="{enrolment.completed_at.isoformat()}">' in html
    assert "not enrolled" in html
    assert "Other.Learner" not in html and "other.learner@example.org" not in html
    assert 'style="' not in html  # the CSP forbids inline styles
    assert f"/courses/progress/company/{acme.id}/learners/{ana.id}" in html


def test_progress_pages_load_their_stylesheet(client, users, acme, progress_data):
    login(client, "coordinator@example.org")
    html = client.get(f"/courses/progress/company/{acme.id}").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="([^"]*progress\.css)"', html).group(1)
    response = client.get(href)
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert b".pbar-fill.pct-40" in response.get_data()
    response.close()  # a file response: close it, or the file stays open


def test_progress_on_an_older_revision_no_longer_counts(users, acme, progress_data):
    four = progress_data["four"]
    first = lessons_of(four)[0]
    course_services.update_lesson(first, first.title, "Rewritten text.", 5)
    course_services.publish_course(four)
    db.session.commit()
    matrix = reports.company_matrix(acme)
    cell = next(r for r in matrix.rows if r.learner.id == users["learner"].id).cells[four.id]
    assert cell.percent == 0
    ana_cell = next(r for r in matrix.rows if r.learner.id == progress_data["ana"].id)
    assert ana_cell.cells[four.id].percent == 100  # completed stays completed


def test_learner_drill_down(client, users, acme, progress_data):
    login(client, "coordinator@example.org")
    response = client.get(f"/courses/progress/company/{acme.id}/learners/{users['learner'].id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Four" in html and "1 of 4" in html
    assert "Still to do" in html
    assert "Read “Lesson 1.2”" in html and "Read “Lesson 2.2”" in html
    assert "Read “Lesson 1.1”" not in html  # done
    ana = progress_data["ana"]
    html = client.get(f"/courses/progress/company/{acme.id}/learners/{ana.id}").get_data(
        as_text=True
    )
    assert html.count("Module completed") == 2  # two courses, one modules table each
    assert "not yet" in html  # "two": nothing done
    assert "Still to do" in html  # for "two"; "four" is completed


def test_course_view_lists_learners_across_companies(client, users, progress_data):
    login(client, "trainer@example.org")
    response = client.get("/courses/progress/course/four")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Acme Green Ltd." in html and "Other Company Ltd." in html
    assert "Ana Koleva" in html and "25%" in html
    rows = read_csv(client.get("/courses/progress/course/four/export.csv"))
    assert rows[0][:3] == ["Learner", "Email", "Company"]
    by_email = {row[1]: row for row in rows[1:]}
    assert set(by_email) == {
        "learner@example.org",
        "ana@example.org",
        "other.learner@example.org",
    }
    assert by_email["ana@example.org"][5] == "100" and by_email["ana@example.org"][6]
    assert by_email["other.learner@example.org"][2] == "Other Company Ltd."
    sheet = read_xlsx(client.get("/courses/progress/course/four/export.xlsx"))
    assert len(sheet) == 4
    assert {row[5] for row in sheet[1:]} == {25, 100}


def test_index_for_each_role(client, users, acme, progress_data):
    login(client, "coordinator@example.org")
    response = client.get("/courses/progress")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/courses/progress/company/{acme.id}")

    client = client.application.test_client()
    login(client, "trainer@example.org")
    html = client.get("/courses/progress").get_data(as_text=True)
    assert "/courses/progress/course/four" in html
    assert "/courses/progress/course/two" not in html  # owned by someone else
    assert "/courses/progress/company/" not in html

    client = client.application.test_client()
    login(client, "admin@example.org")
    html = client.get("/courses/progress").get_data(as_text=True)
    assert "/courses/progress/course/four" in html and "/courses/progress/course/two" in html
    assert f"/courses/progress/company/{acme.id}" in html
    assert "Other Company Ltd." in html


def test_coordinator_of_two_companies_gets_a_list(client, users, create_company, acme):
    second = create_company("Second Site Ltd.")
    # The core's services keep one membership per user; a second one is a plain row.
    db.session.add(
        Membership(user_id=users["coordinator"].id, company_id=second.id, is_coordinator=True)
    )
    db.session.commit()
    login(client, "coordinator@example.org")
    response = client.get("/courses/progress")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Acme Green Ltd." in html and "Second Site Ltd." in html
    assert "Other Company Ltd." not in html


def test_company_page_links_to_the_matrix(client, users, acme):
    login(client, "coordinator@example.org")
    html = client.get(f"/company/{acme.id}").get_data(as_text=True)
    assert f'href="/courses/progress/company/{acme.id}"' in html
    assert "Training progress" in html


# --- exports ------------------------------------------------------------------------------


def test_company_export_csv_and_xlsx(client, users, acme, progress_data):
    login(client, "coordinator@example.org")
    response = client.get(f"/courses/progress/company/{acme.id}/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="progress-Acme-Green-Ltd-')
    assert disposition.endswith('.csv"')
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert rows[0] == [
        "Learner",
        "Email",
        "Job role",
        "Course",
        "Course language",
        "Enrolled at (UTC)",
        "Progress (%)",
        "Completed at (UTC)",
        "Last activity (UTC)",
    ]
    by_key = {(row[1], row[3]): row for row in rows[1:]}
    assert set(by_key) == {
        ("learner@example.org", "Four"),
        ("ana@example.org", "Four"),
        ("ana@example.org", "Two"),
    }
    assert by_key[("learner@example.org", "Four")][6] == "25"
    assert by_key[("learner@example.org", "Four")][7] == ""
    assert by_key[("ana@example.org", "Four")][6] == "100"
    assert by_key[("ana@example.org", "Four")][7]  # completion date
    assert by_key[("ana@example.org", "Four")][2] == "Developer"

    response = client.get(f"/courses/progress/company/{acme.id}/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = read_xlsx(response)
    assert sheet[0][0] == "Learner"
    values = {(row[1], row[3]): row for row in sheet[1:]}
    assert set(values) == set(by_key)
    assert values[("learner@example.org", "Four")][6] == 25  # a number, not text
    assert values[("learner@example.org", "Four")][7] is None


# --- access -------------------------------------------------------------------------------


def progress_urls(company_id: int, user_id: int) -> list[str]:
    base = f"/courses/progress/company/{company_id}"
    return [
        base,
        f"{base}/learners/{user_id}",
        f"{base}/export.csv",
        f"{base}/export.xlsx",
    ]


def test_learner_cannot_read_progress_pages(client, users, acme, progress_data):
    login(client, "learner@example.org")
    urls = [
        "/courses/progress",
        *progress_urls(acme.id, users["learner"].id),  # even their own company and self
        "/courses/progress/course/four",
        "/courses/progress/course/four/export.csv",
        "/courses/progress/course/four/export.xlsx",
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    response = post_form(
        client,
        f"/courses/progress/company/{acme.id}/enrol",
        {"course_id": progress_data["two"].id, "user_ids": [users["learner"].id]},
    )
    assert response.status_code == 403
    assert course_services.find_enrolment(users["learner"].id, progress_data["two"].id) is None


def test_trainer_sees_only_courses_they_own(client, users, acme, progress_data):
    login(client, "trainer@example.org")
    for suffix in ("", "/export.csv", "/export.xlsx"):
        assert client.get(f"/courses/progress/course/four{suffix}").status_code == 200
        assert client.get(f"/courses/progress/course/two{suffix}").status_code == 404
        assert client.get(f"/courses/progress/course/nope{suffix}").status_code == 404
    for url in progress_urls(acme.id, users["learner"].id):
        assert client.get(url).status_code == 403, url  # no company matrices for trainers


def test_coordinator_does_not_get_course_views(client, users, progress_data):
    login(client, "coordinator@example.org")
    for suffix in ("", "/export.csv", "/export.xlsx"):
        assert client.get(f"/courses/progress/course/four{suffix}").status_code == 404


def test_admin_sees_every_company_and_course(client, users, acme, other, progress_data):
    login(client, "admin@example.org")
    for company, person in ((acme, users["learner"]), (other, users["other_learner"])):
        for url in progress_urls(company.id, person.id):
            assert client.get(url).status_code == 200, url
    assert client.get("/courses/progress/course/two").status_code == 200
    # Still only members of the company in the URL.
    url = f"/courses/progress/company/{acme.id}/learners/{users['other_learner'].id}"
    assert client.get(url).status_code == 404


# --- enrolment ----------------------------------------------------------------------------


def enrolment_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Enrolment.id))) or 0


def test_coordinator_enrols_staff(client, users, create_user, create_course, acme):
    course = create_course("green-basics", title="Green basics")
    ana = create_user("ana@example.org", company=acme, name="Ana Koleva")
    login(client, "coordinator@example.org")
    page = client.get(f"/courses/progress/company/{acme.id}").get_data(as_text=True)
    assert "Green basics (EN)" in page and "Ana Koleva (ana@example.org)" in page
    assert "other.learner@example.org" not in page
    url = f"/courses/progress/company/{acme.id}/enrol"
    response = post_form(client, url, {"course_id": course.id, "user_ids": [ana.id]})
    assert response.status_code == 302
    enrolment = course_services.find_enrolment(ana.id, course.id)
    assert enrolment is not None
    assert enrolment.enrolled_by_id == users["coordinator"].id
    assert enrolment.company_id == acme.id
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 person is now enrolled in “Green basics”." in html
    # Idempotent: again, plus someone new.
    response = post_form(
        client, url, {"course_id": course.id, "user_ids": [ana.id, users["learner"].id]}
    )
    assert response.status_code == 302
    assert enrolment_count() == 2
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 person you chose was already enrolled" in html


def test_enrol_everyone_skips_deactivated_accounts(client, users, create_user, create_course, acme):
    course = create_course("everyone")
    gone = create_user("gone@example.org", company=acme)
    core_services.set_user_active(db.session.get(User, gone.id), False)
    db.session.commit()
    login(client, "coordinator@example.org")
    response = post_form(
        client,
        f"/courses/progress/company/{acme.id}/enrol",
        {"course_id": course.id, "everyone": "y"},
    )
    assert response.status_code == 302
    db.session.rollback()
    enrolled = set(
        db.session.scalars(select(Enrolment.user_id).where(Enrolment.course_id == course.id))
    )
    assert enrolled == {users["learner"].id, users["coordinator"].id}


def test_enrol_without_anyone_chosen_is_a_friendly_400(client, users, create_course, acme):
    course = create_course("nobody")
    login(client, "coordinator@example.org")
    response = post_form(
        client, f"/courses/progress/company/{acme.id}/enrol", {"course_id": course.id}
    )
    assert response.status_code == 400
    assert "Choose at least one person, or everyone." in response.get_data(as_text=True)
    assert enrolment_count() == 0


def test_enrol_needs_csrf(client, users, create_course, acme):
    course = create_course("csrf")
    login(client, "coordinator@example.org")
    response = client.post(
        f"/courses/progress/company/{acme.id}/enrol",
        data={"course_id": course.id, "user_ids": [users["learner"].id]},
    )
    assert response.status_code == 400
    assert enrolment_count() == 0


# --- queries ------------------------------------------------------------------------------


def test_company_matrix_queries_for_200_learners_and_10_courses(
    client, users, create_user, create_course, acme
):
    courses = [create_course(f"bulk-{n}", modules=1, lessons=2) for n in range(10)]
    people = [create_user(f"staff{n:03}@example.org", company=acme) for n in range(200)]
    for n, person in enumerate(people):
        for course in courses:
            course_services.enrol(person, course)
        if n % 4 == 0:  # a quarter read lessons: some one, some both (completed)
            for k, course in enumerate(courses):
                complete(person, course, 1 + (n + k) % 2)
    db.session.commit()
    login(client, "coordinator@example.org")
    url = f"/courses/progress/company/{acme.id}"
    client.get(url)  # warm caches (templates, translations)
    with counted_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('class="pbar-fill') == 2000
    assert len(statements) < 15, "\n".join(statements)

    for fmt in ("csv", "xlsx"):
        with counted_statements() as statements:
            response = client.get(f"{url}/export.{fmt}")
        assert response.status_code == 200
        assert len(statements) < 15, "\n".join(statements)
    assert len(read_csv(client.get(f"{url}/export.csv"))) == 2001

    client = client.application.test_client()
    login(client, "admin@example.org")
    with counted_statements() as statements:
        response = client.get(f"/courses/progress/course/{courses[0].slug}")
    assert response.status_code == 200
    assert len(statements) < 15, "\n".join(statements)
    with counted_statements() as statements:
        assert client.get("/courses/progress").status_code == 200
    assert len(statements) < 15, "\n".join(statements)
