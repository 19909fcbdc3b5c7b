"""SECURITY.md, content: the Markdown XSS corpus (tests/data/payloads/markdown_xss.txt) never
survives rendering; hostile names, titles and options (tests/data/payloads/hostile_names.txt)
are shown literally everywhere, exports and PDFs included, and make the app fetch nothing;
uploads (HTML, SVG, double extensions, oversize) are refused or served as attachments."""

from __future__ import annotations

import io
import re
import unicodedata
from html.parser import HTMLParser

import markupsafe
import pypdf
import pytest
from sqlalchemy import select

from courses import events
from courses import services as course_services
from courses.markdown import render_markdown
from courses.models import Media
from lms.exports import neutralise
from lms.extensions import db
from lms.models import User, utcnow
from lms.reports.models import ReportSnapshot
from tests.conftest import csrf_token, login, post_form
from tests.courses.test_authoring import (
    HOSTILE,
    TEMPLATE,
    XSS,
    assert_safe,
    count,
    course_form,
    errors,
    find,
    png,
    upload,
)
from tests.courses.test_events import HOSTILE_NAME, make_event
from tests.support import payloads
from tests.support.measure import read_csv, read_xlsx

# --- the Markdown XSS corpus ------------------------------------------------------------------


XSS_CORPUS = payloads.load("markdown_xss")


FORBIDDEN_TAGS = {
    "script",
    "style",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "input",
    "meta",
    "base",
    "link",
    "details",
    "video",
    "source",
    "template",
}


#: Attributes that load or submit to an address of their own; none may survive.
REMOTE_ATTRIBUTES = {
    "srcset",
    "poster",
    "background",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "lowsrc",
    "dynsrc",
    "ping",
    "codebase",
}
SAFE_SCHEMES = ("http:", "https:", "mailto:", "/", "#")


VIDEO_HOSTS = ("https://www.youtube-nocookie.com/embed/", "https://player.vimeo.com/video/")


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def dangerous_parts(html: str) -> list[str]:
    """Every tag or attribute in `html` that could run script or load from elsewhere."""
    collector = TagCollector()
    collector.feed(html)
    problems = []
    for tag, attrs in collector.tags:
        if tag in FORBIDDEN_TAGS:
            problems.append(f"<{tag}>")
        for name, value in attrs:
            # Browsers ignore whitespace and control characters inside a URL's scheme.
            value = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name in REMOTE_ATTRIBUTES:
                problems.append(f"{tag}[{name}]")
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                problems.append(f"{tag}[{name}]")
            if name in ("href", "src") and not value.startswith(SAFE_SCHEMES):
                problems.append(f"{tag}[{name}={value}]")
            if tag == "iframe" and name == "src" and not value.startswith(VIDEO_HOSTS):
                problems.append(f"iframe to {value}")
            if tag == "img" and name == "src" and not value.startswith("/courses/media/"):
                problems.append(f"img from {value}")
    return problems


@pytest.mark.parametrize("payload", XSS_CORPUS, ids=payloads.ids(XSS_CORPUS))
def test_xss_corpus_is_neutralised(payload):
    html = render_markdown(f"Before\n\n{payload}\n\nAfter")
    assert dangerous_parts(html) == [], html
    html = html.lower()
    assert "before" in html  # unclosed dangerous tags may swallow what follows them


def test_the_checker_itself_catches_what_it_must():
    assert sorted(dangerous_parts('<img src="x" onerror="a()">')) == [
        "img from x",
        "img[onerror]",
        "img[src=x]",
    ]
    assert dangerous_parts('<a href="javascript:x()">') == ["a[href=javascript:x()]"]
    assert dangerous_parts("<svg><script></script></svg>") == ["<svg>", "<script>"]
    assert dangerous_parts('<a href="java\tscript:x()">') == ["a[href=javascript:x()]"]
    assert dangerous_parts('<img src="/courses/media/1/a.png" srcset="//e.example/x 2x">') == [
        "img[srcset]"
    ]
    assert dangerous_parts('<a href="/courses/">ok</a><a href="https://ok.example">ok</a>') == []


def test_images_only_from_own_media():
    html = render_markdown(
        "![a](https://tracker.example/pixel.png) ![b](/courses/media/7/b.png) "
        "![c](../images/c.svg) ![d](/courses/media/../../etc/passwd)",
        resolve_image=lambda name: f"/courses/media/9/{name}" if name == "c.svg" else None,
    )
    assert "tracker.example" not in html
    assert 'src="/courses/media/7/b.png"' in html
    assert 'src="/courses/media/9/c.svg"' in html
    assert "passwd" not in html


def test_template_syntax_is_literal():
    html = render_markdown("{{7*7}} {% if 1 %}x{% endif %}")
    assert "{{7*7}}" in html and "49" not in html


# --- the authoring pages ------------------------------------------------------------------


def test_preview_sanitises_form_and_json(client, users, create_course):
    create_course("prev", owner=users["trainer"])
    login(client, "trainer@example.org")
    response = post_form(client, "/courses/manage/prev/preview", {"body_md": XSS})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert_safe(response.get_json()["html"])
    token = csrf_token(client)
    response = client.post(
        "/courses/manage/prev/preview", json={"body_md": XSS}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert_safe(response.get_json()["html"])
    response = client.post(
        "/courses/manage/prev/preview", json={"body_md": "## Hi"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200 and "<h2>Hi</h2>" in response.get_json()["html"]
    # Bad shapes are clear 400s, never 500s.
    for payload in ([1, 2], {"body_md": 5}, {"body_md": None}, "text"):
        response = client.post(
            "/courses/manage/prev/preview", json=payload, headers={"X-CSRFToken": token}
        )
        assert response.status_code == 400, payload
        assert "error" in response.get_json()
    response = post_form(client, "/courses/manage/prev/preview", {"body_md": "x" * 200_001})
    assert response.status_code == 400 and "200,000" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "one extension only"),
        ("x.png.html", png(), "one extension only"),
        (
            "evil.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "may not contain scripts",
        ),
        (
            "evil2.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
            "may not contain scripts",
        ),
        ("fake.png", b"<html>not an image</html>", "not a PNG"),
        ("big.png", png(padding=2 * 1024 * 1024), "at most 2 MB"),
        ("", png(), "Choose an image file"),
    ],
)
def test_image_upload_refusals_store_nothing(client, users, create_course, name, data, message):
    course = create_course("refuse", owner=users["trainer"], modules=1, lessons=1)
    lesson = course.modules[0].lessons[0]
    login(client, "trainer@example.org")
    response = upload(client, "refuse", name, data)
    assert response.status_code == 400
    assert message in errors(response)
    response = upload(client, "refuse", name, data, lesson_id=str(lesson.id))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'id="lesson-form"' in page  # back on the lesson editor
    response = upload(client, "refuse", name, data, headers={"Accept": "application/json"})
    assert response.status_code == 400 and message in response.get_json()["error"]
    assert count(Media) == 0


@pytest.mark.parametrize("hostile", [HOSTILE, TEMPLATE])
def test_hostile_titles_are_shown_literally(client, users, hostile):
    login(client, "trainer@example.org")
    response = post_form(
        client,
        "/courses/manage/new",
        course_form(
            title=f"Course {hostile}",
            slug="hostile",
            summary=hostile,
            learning_outcomes=hostile,
            assessment=hostile,
        ),
    )
    assert response.status_code == 302
    post_form(
        client,
        "/courses/manage/hostile/modules",
        {"module-title": f"Module {hostile}", "module-summary": hostile},
    )
    course = find("hostile")
    module = course.modules[0]
    response = post_form(
        client,
        f"/courses/manage/hostile/modules/{module.id}/lessons",
        {"lesson-title": f"Lesson {hostile}", "lesson-minutes": "5"},
    )
    lesson_path = response.headers["Location"]
    lesson_id = int(lesson_path.rsplit("/", 1)[1])
    pages = [
        "/courses/manage",
        "/courses/manage/hostile",
        f"/courses/manage/hostile/modules/{module.id}",
        lesson_path,
        f"/courses/manage/hostile/modules/{module.id}/delete",
        f"/courses/manage/hostile/lessons/{lesson_id}/delete",
    ]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        if hostile == HOSTILE:
            assert "<svg onload" not in html, path
            assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in html, path
        else:
            assert "{{7*7}}" in html, path
            assert "Course 49" not in html and "Module 49" not in html, path
    # Flash messages carry the titles too.
    response = post_form(
        client,
        f"/courses/manage/hostile/lessons/{lesson_id}/move",
        {"direction": "up"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "<svg onload" not in html and "Lesson 49" not in html


# --- names and titles shown literally ---------------------------------------------------


def test_titles_with_markup_are_shown_literally(client, users, create_course):
    create_course("c1", title='"><svg onload=alert(1)> {{7*7}}')
    html = client.get("/courses/").get_data(as_text=True)
    assert "<svg onload" not in html and "&#34;&gt;&lt;svg onload=alert(1)&gt; {{7*7}}" in html


def test_names_are_shown_literally(client, users, create_user, create_course, acme):
    course = create_course("xss")
    evil = create_user("evil@example.org", company=acme, name='"><svg onload=alert(1)>{{7*7}}')
    course_services.enrol(evil, course)
    db.session.commit()
    login(client, "coordinator@example.org")
    html = client.get(f"/courses/progress/company/{acme.id}").get_data(as_text=True)
    assert "<svg onload" not in html
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;{{7*7}}" in html


def test_attendance_sheet_pdf_shows_names_as_text(client, users, create_user):
    event = make_event(users["trainer"], title="Сесия за кръгова икономика")
    hostile = create_user("hostile@example.org", name=HOSTILE_NAME)
    for person in (users["learner"], hostile):
        events.register(event, person)
    db.session.commit()
    login(client, "trainer@example.org")
    response = client.get(f"/courses/events/{event.id}/attendance-sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.get_data()))
    text = " ".join(page.extract_text() for page in reader.pages)
    compact = "".join(text.split())
    assert "Сесиязакръговаикономика" in compact
    assert "Learner" in text and "Acme Green Ltd." in text
    assert "".join(HOSTILE_NAME.split()) in compact
    assert "Signature" in text
    learner_client = client.application.test_client()
    login(learner_client, "learner@example.org")
    assert learner_client.get(f"/courses/events/{event.id}/attendance-sheet.pdf").status_code == 403


# --- hostile names everywhere -----------------------------------------------------------------

HOSTILE_NAMES = payloads.load("hostile_names")


def visible_in_pdf(text: str) -> str:
    """What a PDF can show of `text`: no whitespace (line breaks fall anywhere) and no format
    characters (the certificate drops bidirectional overrides, fonts have no glyph for them)."""
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF"), data[:100]
    reader = pypdf.PdfReader(io.BytesIO(data))
    return visible_in_pdf("".join(page.extract_text() for page in reader.pages))


def assert_literal_in_html(payload: str, html: str, where: str) -> None:
    assert str(markupsafe.escape(payload)) in html, where
    if "<" in payload:
        assert payload not in html, where  # never as markup


def cells(rows: list[list]) -> set[str]:
    return {str(value) for row in rows for value in row if value is not None}


@pytest.mark.parametrize("number", range(len(HOSTILE_NAMES)), ids=payloads.ids(HOSTILE_NAMES))
def test_hostile_names_are_shown_literally_everywhere(
    app, users, create_user, create_company, listener, number
):
    """One payload as the name of a company, a learner (and their job), a course, its module
    and lesson, a quiz question and its right option, an event and an admin: every page, CSV,
    XLSX and PDF shows it as text, and the loopback listener it points at receives nothing."""
    from certificates.models import Certificate
    from courses import services as course_services
    from quizzes import gift
    from quizzes import services as quiz_services

    payload = payloads.load("hostile_names", port=listener.port)[number]
    as_cell = str(neutralise(payload))
    company = create_company(payload)
    learner = create_user("hostile@example.org", company=company, name=payload, job_role=payload)
    create_user("boss@example.org", company=company, coordinator=True)
    admin = db.session.get(User, users["admin"].id)
    admin.name = payload
    course = course_services.create_course(
        course_services.CourseData(
            slug="hostile",
            title=payload,
            topic="circular-economy",
            language="en",
            summary=payload,
            contact_hours=1,
            self_study_hours=1,
            learning_outcomes=[payload],
            greencomp=["2.1"],
            assessment=payload,
        ),
        owners=[users["trainer"]],
    )
    module = course_services.add_module(course, payload, payload)
    lesson = course_services.add_lesson(module, payload, "Text.", 5)
    course_services.publish_course(course)
    text = gift.escape(payload)
    made = quiz_services.import_gift(course, f"::q::[plain]{text} {{={text} ~Wrong}}", module)
    quiz = quiz_services.set_quiz(course, module, {"title": payload, "pass_mark": 50}, made)
    event = make_event(users["trainer"], title=payload, description=payload)
    events.register(event, learner)
    course_services.enrol(learner, course)
    db.session.commit()

    learner_client = app.test_client()
    login(learner_client, "hostile@example.org")
    attempt = post_form(learner_client, f"/quizzes/{quiz.id}/start").headers["Location"]
    question = made[0]
    right = next(o["id"] for o in question.data["options"] if o["text"] == payload)
    page = learner_client.get(attempt).get_data(as_text=True)
    assert_literal_in_html(payload, page, attempt)
    post_form(learner_client, attempt, {f"q-{question.id}": right, "action": "submit"})
    done = post_form(learner_client, f"/courses/hostile/lessons/{lesson.id}/done")
    assert done.status_code == 302
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == learner.id))
    assert certificate is not None, "the course was not completed"

    pages = {
        "learner": (
            learner_client,
            [
                "/",
                "/courses/",
                "/courses/hostile",
                f"/courses/hostile/lessons/{lesson.id}",
                "/courses/my",
                f"/quizzes/{quiz.id}",
                "/certificates/my",
                "/account/",
                f"/courses/events/{event.id}",
                "/courses/events",
            ],
        ),
        "coordinator": (
            None,
            [
                f"/company/{company.id}",
                f"/courses/progress/company/{company.id}",
                f"/courses/progress/company/{company.id}/learners/{learner.id}",
                "/certificates/register",
            ],
        ),
        "trainer": (
            None,
            [
                "/courses/manage",
                "/courses/manage/hostile",
                "/courses/progress/course/hostile",
                "/quizzes/course/hostile",
                f"/quizzes/course/hostile/quiz/{module.id}",
                f"/courses/events/{event.id}/attendance",
                f"/certificates/{certificate.id}",
            ],
        ),
        "admin": (None, ["/admin/users", f"/admin/users/{learner.id}", "/admin/companies"]),
        "anonymous": (None, [f"/verify/{certificate.code}", "/courses/hostile"]),
    }
    clients = {"learner": learner_client}
    for who, (client, paths) in pages.items():
        if client is None:
            client = clients[who] = app.test_client()
            email = "boss@example.org" if who == "coordinator" else f"{who}@example.org"
            if who != "anonymous":
                assert login(client, email).status_code == 302
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (who, path, response.status_code)
            assert_literal_in_html(payload, response.get_data(as_text=True), f"{who} {path}")

    # Exports: the text in a cell (formula-like text neutralised, nothing else changed).
    exports = {
        "coordinator": [
            f"/courses/progress/company/{company.id}/export.csv",
            f"/courses/progress/company/{company.id}/export.xlsx",
            "/certificates/register.csv",
            "/certificates/register.xlsx",
        ],
        "trainer": [
            "/courses/progress/course/hostile/export.csv",
            f"/quizzes/course/hostile/quiz/{module.id}/responses.csv",
            f"/quizzes/course/hostile/quiz/{module.id}/responses.xlsx",
            "/courses/progress/course/hostile/export.xlsx",
        ],
    }
    for who, paths in exports.items():
        for path in paths:
            response = clients[who].get(path)
            assert response.status_code == 200, path
            rows = read_csv(response) if path.endswith(".csv") else read_xlsx(response)
            assert as_cell in cells(rows), (path, as_cell)

    # PDFs: the certificate, the attendance sheet, the frozen report.
    expected = visible_in_pdf(payload)
    certificate_pdf = learner_client.get(f"/certificates/{certificate.id}.pdf").get_data()
    assert expected in pdf_text(certificate_pdf), "certificate"
    sheet = clients["trainer"].get(f"/courses/events/{event.id}/attendance-sheet.pdf")
    assert expected in pdf_text(sheet.get_data()), "attendance sheet"
    admin_client = clients["admin"]
    today = utcnow().date().isoformat()
    response = post_form(
        admin_client,
        "/admin/reports/snapshots",
        {"first_day": today, "last_day": today, "note": payload},
    )
    assert response.status_code == 302
    snapshot = db.session.scalar(select(ReportSnapshot))
    report = admin_client.get(f"/admin/reports/export.pdf?snapshot={snapshot.id}")
    assert report.status_code == 200
    assert expected in pdf_text(report.get_data()), "report"

    assert listener.received() == []


# --- uploads ----------------------------------------------------------------------------------

SVG_OK = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("page.htm", b"<!doctype html><script>alert(1)</script>", "one extension only"),
        ("image.svg.html", SVG_OK, "one extension only"),
        ("shell.php.png", png(), None),  # tidied to one extension: stored as a harmless PNG
        ("x.jpg", png(), "content does not match"),
        ("x.png", SVG_OK, "content does not match"),
        ("x.gif", b"GIF89a<script>alert(1)</script>", None),  # a GIF signature: served as image
        (
            "entity.svg",
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
            "may not contain scripts",
        ),
        (
            "laughs.svg",
            b'<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
            "not a PNG",  # no <svg or <?xml at the start: not even taken for an image
        ),
        (
            "remote.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            b'<image xlink:href="http://127.0.0.1:9/x.png"/></svg>',
            "may not contain scripts",
        ),
        (
            "foreign.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe src="//e"/>'
            b"</foreignObject></svg>",
            "may not contain scripts",
        ),
        (
            "huge.svg",
            SVG_OK[:-6] + b"<!--" + b"x" * (2 * 1024 * 1024) + b"--></svg>",
            "at most 2 MB",
        ),
    ],
)
def test_hostile_uploads_are_refused_or_harmless(client, users, create_course, name, data, message):
    create_course("uploads", owner=users["trainer"], modules=1, lessons=1)
    login(client, "trainer@example.org")
    response = upload(client, "uploads", name, data)
    if message is not None:
        assert response.status_code == 400
        assert message in errors(response)
        assert count(Media) == 0
        return
    assert response.status_code == 302
    media = db.session.scalar(select(Media))
    assert media.name.count(".") == 1 and media.content_type.startswith("image/")
    served = client.get(f"/courses/media/{media.id}/{media.name}")
    assert served.headers["Content-Type"] == media.content_type
    assert served.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(("name", "data"), [("chart.png", png()), ("square.svg", SVG_OK)])
def test_uploaded_images_are_served_as_sandboxed_attachments(
    client, users, create_course, name, data
):
    """Opened directly (not in an <img>), an upload downloads and could run nothing: an
    attachment, its sniffed type, nosniff and a sandboxing Content-Security-Policy."""
    create_course("served", owner=users["trainer"], modules=1, lessons=1)
    login(client, "trainer@example.org")
    assert upload(client, "served", name, data).status_code == 302
    media = db.session.scalar(select(Media))
    for who in ("anonymous", "learner"):
        viewer = client.application.test_client()
        if who != "anonymous":
            login(viewer, "learner@example.org")
        response = viewer.get(f"/courses/media/{media.id}/{name}")
        assert response.status_code == 200 and response.get_data() == data
        assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        assert response.headers["Content-Type"] in ("image/png", "image/svg+xml")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "default-src 'none'" in policy
        assert "script-src" not in policy  # nothing loosens default-src 'none'
    # The name in the address must match: no other file is reachable through it.
    assert client.get(f"/courses/media/{media.id}/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get(f"/courses/media/{media.id}/other.png").status_code == 404
