"""SECURITY.md, input: the body size limit (413), huge numbers, NUL bytes and 100 kB strings
answered as form errors, spreadsheet formula injection neutralised in every CSV/XLSX export
(tests/data/payloads/formula_injection.txt), course-package import safe against zip-slip,
absolute paths, symlinks, zip bombs and XML entities, and imports (packages, GIFT) that make the
app fetch nothing. (Generated bad input for every form and JSON endpoint: test_fuzz.py.)"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from certificates.models import Certificate
from courses import packages
from courses import services as course_services
from lms.exports import neutralise
from lms.extensions import db
from lms.models import User
from tests.certificates.test_register import zip_post
from tests.conftest import login, make_app, post_form
from tests.core.test_report_exports import Q2
from tests.core.test_reports import complete, utc
from tests.courses.test_packages import counts, errors_of, zip_bytes, zip_of_tiny
from tests.courses.test_progress import INJECTIONS
from tests.security.test_faults import assert_no_internals
from tests.support import payloads
from tests.support.measure import read_csv, read_xlsx

# --- size limits and odd values ---------------------------------------------------------------


def test_body_size_limit_answers_413(database_url):
    app = make_app(database_url, MAX_CONTENT_LENGTH=1024, WTF_CSRF_ENABLED=False)
    response = app.test_client().post("/login", data={"email": "x" * 5000, "password": "y"})
    assert response.status_code == 413


def test_huge_and_nul_inputs_are_form_errors_not_crashes(client, create_user):
    create_user("ana@example.org")
    for email in ("a" * 100_000 + "@example.org", "ana@example.org\x00", "\x00"):
        response = login(client, email, "x" * 100_000)
        assert response.status_code in (200, 400)
        assert_no_internals(response.get_data(as_text=True))
    response = post_form(client, "/register", {"name": "\x00" * 10, "email": "x\x00@example.org"})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_ids_beyond_the_integer_range_answer_404(client, users):
    login(client, "admin@example.org")
    for path in ("/admin/users/100000000000000000000", "/company/99999999999999999999999"):
        assert client.get(path).status_code == 404


# --- spreadsheet formula injection -----------------------------------------------------


FORMULAS = payloads.load("formula_injection")


@pytest.mark.parametrize("text", FORMULAS, ids=payloads.ids(FORMULAS))
def test_formula_text_gets_a_leading_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["Ana Koleva", "Иван Петров", "a=b", "1+1", "", " =not first", "'quoted", "x@y.org"]
)
def test_harmless_text_is_unchanged(text):
    assert neutralise(text) == text


def test_formula_injection_is_neutralised_in_exports(
    client, users, create_user, create_course, acme
):
    course = create_course("injection", title="=cmd|'/C calc'!A0")
    for n, name in enumerate(INJECTIONS):
        person = create_user(f"inject{n}@example.org", company=acme, name=name, job_role="-1+1")
        course_services.enrol(person, course)
    db.session.commit()
    login(client, "coordinator@example.org")
    csv_rows = read_csv(client.get(f"/courses/progress/company/{acme.id}/export.csv"))
    xlsx_rows = read_xlsx(client.get(f"/courses/progress/company/{acme.id}/export.xlsx"))
    for rows in (csv_rows, xlsx_rows):
        names = {row[0] for row in rows[1:]}
        assert names == {"'" + name for name in INJECTIONS}
        for row in rows[1:]:
            assert row[2] == "'-1+1"
            assert row[3] == "'=cmd|'/C calc'!A0"
            assert not any(str(v).startswith(("=", "+", "-", "@")) for v in row if v is not None)
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/courses/progress/company/{acme.id}/export.xlsx").get_data())
    )
    for cells in workbook.active.iter_rows(min_row=2):
        assert cells[0].data_type == "s"  # text, never a formula ("f")
    # The course view's exports too.
    client = client.application.test_client()
    login(client, "admin@example.org")
    rows = read_csv(client.get("/courses/progress/course/injection/export.csv"))
    assert {row[0] for row in rows[1:]} == {"'" + name for name in INJECTIONS}


def test_exports_neutralise_formulas(client, users, create_user, create_course, complete_course):
    company = users["learner"].memberships[0].company
    evil = create_user("evil@example.org", company=company, name='=HYPERLINK("http://x")')
    course = create_course("plain", title="+cmd|' /C calc'!A0", modules=1, lessons=1)
    complete_course(evil, course)
    certificate = db.session.scalar(select(Certificate))
    login(client, "coordinator@example.org")
    rows = read_csv(client.get("/certificates/register.csv"))
    header, row = rows[0], rows[1]
    assert row[header.index("Learner")] == '\'=HYPERLINK("http://x")'
    assert row[header.index("Course")] == "'+cmd|' /C calc'!A0"
    assert row[header.index("Certificate code")] == certificate.code
    assert row[header.index("Status")] == "Valid"
    sheet = read_xlsx(client.get("/certificates/register.xlsx"))
    assert sheet[1][sheet[0].index("Learner")] == '\'=HYPERLINK("http://x")'
    for value in sheet[1]:
        assert not (isinstance(value, str) and value[:1] in "=+-@")
    # ... and the page shows the name literally.
    html = client.get("/certificates/register").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://x&#34;)" in html or "=HYPERLINK(&quot;http://x&quot;)" in html
    # The ZIP's manifest is neutralised too.
    response = zip_post(client, {"ids": [str(certificate.id)]})
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert "'=HYPERLINK" in archive.read("certificates.csv").decode("utf-8-sig")


def test_formula_injection_is_neutralised(
    client, admin, create_company, create_user, create_course
) -> None:  # noqa: ANN001
    evil = create_company("=cmd|' /C calc'!A0", headcount=3, year=2024)
    person = create_user("evil@example.org", company=evil, name="@SUM(1+1)")
    course = create_course(title="+Course")
    complete(person, course, utc(2025, 5, 2, 10))
    db.session.commit()
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/admin/reports/export.xlsx?{Q2}").get_data())
    )
    people = [list(r) for r in workbook.worksheets[2].iter_rows(values_only=True)]
    assert people[1][0] == "'@SUM(1+1)"
    assert people[1][2] == "'=cmd|' /C calc'!A0"
    companies = [list(r) for r in workbook.worksheets[4].iter_rows(values_only=True)]
    assert companies[1][0] == "'=cmd|' /C calc'!A0"
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/admin/reports/evidence.zip?{Q2}").get_data())
    )
    listed = read_csv(archive.read("supported-enterprises.csv"))
    assert listed[1][0] == "'=cmd|' /C calc'!A0"
    assert listed[1][1] == evil.uic


# --- course packages: hostile archives ------------------------------------------------


ZIP_CASES = {
    "zip slip": (
        lambda e: e | {"tiny-course/../../evil.md": b"x"},
        (),
        "tiny-course/../../evil.md",
    ),
    "absolute path": (lambda e: e | {"/etc/cron.d/evil": b"x"}, (), "/etc/cron.d/evil"),
    "windows path": (lambda e: e | {"C:/evil.md": b"x"}, (), "C:/evil.md"),
    "backslash": (lambda e: e | {"tiny-course\\..\\evil.md": b"x"}, (), "tiny-course\\..\\evil.md"),
    "symlink entry": (
        lambda e: e | {"tiny-course/02-practice/02-link.md": b"/etc/passwd"},
        ("tiny-course/02-practice/02-link.md",),
        "tiny-course/02-practice/02-link.md",
    ),
    "too many entries": (
        lambda e: e | {f"tiny-course/01-intro/x{i}.gift": b"x" for i in range(2001)},
        (),
        ".",
    ),
    "zip bomb": (
        lambda e: e | {"tiny-course/01-intro/quiz.gift": b"\0" * (3 * 1024 * 1024)},
        (),
        "tiny-course/01-intro/quiz.gift",
    ),
    "entry too large": (
        lambda e: e | {"tiny-course/images/huge.png": b"\0" * (packages.MAX_FILE_BYTES + 1)},
        (),
        "tiny-course/images/huge.png",
    ),
}


@pytest.mark.parametrize("case", list(ZIP_CASES), ids=list(ZIP_CASES))
def test_hostile_zip(app, users, create_course, tmp_path, case):
    create_course("existing", owner=users["trainer"])
    before = counts()
    change, symlinks, expected_file = ZIP_CASES[case]
    data = zip_bytes(change(zip_of_tiny(tmp_path)), symlinks)
    errors = errors_of(data, [users["trainer"]])
    assert expected_file in [e.file for e in errors], errors
    assert counts() == before


def test_total_size_limit(app, users, tmp_path, monkeypatch):
    monkeypatch.setattr(packages, "MAX_TOTAL_BYTES", 1000)
    data = zip_bytes(zip_of_tiny(tmp_path) | {"tiny-course/01-intro/a.gift": b"y" * 2000})
    errors = errors_of(data, [users["trainer"]])
    assert [(e.file, e.line) for e in errors] == [(".", None)]
    assert counts() == (0, 0, 0, 0)


def test_not_a_zip_and_a_truncated_zip(app, users, tmp_path):
    assert errors_of(b"plain text", [users["trainer"]])[0].file == "."
    data = zip_bytes(zip_of_tiny(tmp_path))
    assert errors_of(data[: len(data) // 2], [users["trainer"]])
    assert counts() == (0, 0, 0, 0)


# --- new cases --------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def test_formula_injection_in_names_is_neutralised_in_every_export(
    client, users, create_course, create_user, complete_course
):
    """Every payload of formula_injection.txt as a learner's name and job: in the company
    progress export and the certificate register, CSV and XLSX, each text cell is shown as
    text (a leading ') and no cell is left that a spreadsheet would run."""
    company = users["coordinator"].memberships[0].company
    course = create_course("formulas", modules=1, lessons=1, title="=1+2")
    people = []
    for n, payload in enumerate(FORMULAS):
        person = create_user(f"f{n}@example.org", company=company, name=payload, job_role=payload)
        complete_course(person, course)
        people.append(person)
    names = {db.session.get(User, p.id).name for p in people}  # as stored (trimmed)
    assert any(name.startswith(FORMULA_PREFIXES) for name in names)
    login(client, "coordinator@example.org")
    company_id = company.id
    for path in (
        f"/courses/progress/company/{company_id}/export.csv",
        f"/courses/progress/company/{company_id}/export.xlsx",
        "/certificates/register.csv",
        "/certificates/register.xlsx",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        rows = read_csv(response) if path.endswith(".csv") else read_xlsx(response)
        values = [v for row in rows[1:] for v in row if isinstance(v, str)]
        for name in names:
            assert neutralise(name) in values, (path, name)
        assert "'=1+2" in values, path
        leftovers = [v for v in values if v.startswith(FORMULA_PREFIXES)]
        assert leftovers == [], (path, leftovers)
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/certificates/register.xlsx").data))
    kinds = {cell.data_type for row in workbook.active.iter_rows(min_row=2) for cell in row}
    assert "f" not in kinds  # no formula cell at all


XML_ENTITY_SVGS = {
    "external entity": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol">'
    + b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(8))
    + b']><svg xmlns="http://www.w3.org/2000/svg"><text>&i;</text></svg>',
    "parameter entity": b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % p SYSTEM '
    b'"http://127.0.0.1:9/evil.dtd"> %p;]><svg xmlns="http://www.w3.org/2000/svg"/>',
    "remote stylesheet": b'<?xml version="1.0"?><?xml-stylesheet href="http://127.0.0.1:9/x.css"?>'
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    b'<use xlink:href="http://127.0.0.1:9/x.svg#a"/></svg>',
}


@pytest.mark.parametrize("case", list(XML_ENTITY_SVGS), ids=list(XML_ENTITY_SVGS))
def test_package_images_with_xml_entities_are_refused(app, users, tmp_path, case):
    entries = zip_of_tiny(tmp_path)
    entries["tiny-course/images/square.svg"] = XML_ENTITY_SVGS[case]
    errors = errors_of(zip_bytes(entries), [users["trainer"]])
    assert "tiny-course/images/square.svg" in [e.file for e in errors] or "images/square.svg" in [
        e.file for e in errors
    ], errors
    assert counts() == (0, 0, 0, 0)


def test_an_upload_over_the_default_body_limit_answers_413_and_stores_nothing(database_url, users):
    app = make_app(database_url)  # the production default limit
    limit = app.config["MAX_CONTENT_LENGTH"]
    client = app.test_client()
    login(client, "trainer@example.org")
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from tests.conftest import csrf_token

    # Encoded in memory: the test client would spool a large body to a file nobody closes.
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(client, "/courses/manage/import"),
            "file": FileStorage(io.BytesIO(b"\0" * (limit + 1)), filename="big.zip"),
        }
    )
    response = client.post(
        "/courses/manage/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert_no_internals(response.get_data(as_text=True))
    assert counts() == (0, 0, 0, 0)


# --- imports fetch nothing (the loopback listener) ---------------------------------------------


def remote_lesson(url: str) -> str:
    return (
        "---\ntitle: Remote things\nminutes: 5\n---\n"
        f"![tracker]({url}/md.png)\n\n"
        f'<img src="{url}/raw.png">\n\n'
        f"[a link]({url}/page)\n\n"
        f'<iframe src="{url}/frame"></iframe>\n\n'
        f"<style>@import url({url}/s.css);</style>\n\n"
        f"@[video]({url}/watch?v=dQw4w9WgXcQ)\n"
    )


def test_a_course_package_pointing_at_a_listener_makes_the_app_fetch_nothing(
    app, client, users, tmp_path, listener
):
    from tests.courses.test_packages import upload

    entries = zip_of_tiny(tmp_path)
    entries["tiny-course/02-practice/02-remote.md"] = remote_lesson(listener.url).encode()
    login(client, "trainer@example.org")
    assert upload(client, zip_bytes(entries)).status_code == 302
    course = packages.find_course_or_none("tiny-course")
    lesson = next(
        x
        for m in course.published_modules
        for x in m.published_lessons
        if x.title == "Remote things"
    )
    assert f"{listener.url}/raw.png" not in lesson.body_html
    assert f'src="{listener.url}' not in lesson.body_html
    learner = app.test_client()
    login(learner, "learner@example.org")
    post_form(learner, "/courses/tiny-course/enrol")
    page = learner.get(f"/courses/tiny-course/lessons/{lesson.id}").get_data(as_text=True)
    assert "Remote things" in page and f'src="{listener.url}' not in page
    assert f'href="{listener.url}/page"' in page  # a link stays a link: the reader may follow it
    assert client.get("/courses/manage/tiny-course/export").status_code == 200
    assert listener.received() == []


def test_a_gift_import_pointing_at_a_listener_makes_the_app_fetch_nothing(
    app, client, users, create_course, listener
):
    from quizzes.models import Question
    from tests.quizzes.test_trainer import import_form

    course = create_course("remote-quiz", modules=1, lessons=1, owner=users["trainer"])
    module = course.published_modules[0]
    url = listener.url
    text = (
        f'::html::[html]<p>Look <img src="{url}/q.png"></p> {{=Yes ~No}}\n\n'
        f"::md::[markdown]![chart]({url}/m.png) Right? {{T}}\n\n"
        f'::opt::Which? {{=<img src\\="{url}/o.png"> ~plain}}\n'
    )
    login(client, "trainer@example.org")
    response = post_form(
        client, "/quizzes/course/remote-quiz/import", import_form(f"module-{module.id}", text=text)
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert db.session.scalar(select(func.count(Question.id))) == 3
    from quizzes.models import Quiz

    quiz = db.session.scalar(select(Quiz))
    learner = app.test_client()
    login(learner, "learner@example.org")
    post_form(learner, "/courses/remote-quiz/enrol")
    attempt = post_form(learner, f"/quizzes/{quiz.id}/start").headers["Location"]
    page = learner.get(attempt).get_data(as_text=True)
    assert "Look" in page and f'src="{url}' not in page
    assert "&lt;img src=&#34;" in page  # the option's markup shown as text
    for path in (
        f"/quizzes/course/remote-quiz/quiz/{module.id}",
        f"/quizzes/course/remote-quiz/quiz/{module.id}/export.gift",
    ):
        assert client.get(path).status_code == 200
    assert listener.received() == []
