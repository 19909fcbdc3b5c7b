"""Authoring in the browser's forms: courses, modules, lessons, preview, images, publication,
ownership and the escaping of hostile titles."""

from __future__ import annotations

import io
import re
import struct
import zlib
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from courses import completion, services
from courses.models import Course, Lesson, Media, Module
from lms.extensions import db
from tests.conftest import csrf_token, login, post_form

HOSTILE = '"><svg onload=alert(1)>'
TEMPLATE = "{{7*7}}"


def png(width: int = 2, height: int = 2, padding: int = 0) -> bytes:
    """A real PNG image (optionally made larger with a text chunk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x22\x8b\x22" * width for _ in range(height))
    chunks = [chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    if padding:
        chunks.append(chunk(b"tEXt", b"Comment\x00" + b"x" * padding))
    chunks += [chunk(b"IDAT", zlib.compress(raw)), chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


def course_form(**overrides) -> dict:  # noqa: ANN003
    data = {
        "title": "Green software basics",
        "slug": "green-software-basics",
        "summary": "Measure and cut the energy of the software you build.",
        "topic": "green-innovation",
        "language": "en",
        "translation_of": "",
        "contact_hours": "4",
        "self_study_hours": "6.5",
        "assessment_hours": "1",
        "learning_outcomes": "Estimate the energy use of a service.\n\n  Compare hosting options.  \n",
        "greencomp": ["2.1", "4.3"],
        "delivery_mode": "blended",
        "assessment": "Online quiz after each module.",
        "validity_months": "",
        "complete_on_scroll": "y",
    }
    data.update(overrides)
    return data


def reload(model, object_id):  # noqa: ANN001, ANN201
    db.session.rollback()
    return db.session.get(model, object_id)


def find(slug: str) -> Course | None:
    db.session.rollback()
    return db.session.scalar(select(Course).where(Course.slug == slug))


def errors(response) -> str:  # noqa: ANN001
    """The error messages shown next to the fields."""
    html = response.get_data(as_text=True)
    return " | ".join(re.findall(r'<p class="error"[^>]*>(.*?)</p>', html, re.S))


# --- courses ------------------------------------------------------------------------------


def test_trainer_creates_a_course_with_the_form(client, users):
    login(client, "trainer@example.org")
    page = client.get("/courses/manage/new").get_data(as_text=True)
    for code in ("1.1", "2.3", "4.3"):
        assert f'value="{code}"' in page
    assert "Embracing complexity in sustainability" in page and "Systems thinking" in page
    response = post_form(client, "/courses/manage/new", course_form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/courses/manage/green-software-basics")
    course = find("green-software-basics")
    assert course.title == "Green software basics"
    assert [o.id for o in course.owners] == [users["trainer"].id]
    assert course.status == "draft" and course.version == 0
    assert course.self_study_hours == Decimal("6.5")
    assert course.learning_outcomes == [
        "Estimate the energy use of a service.",
        "Compare hosting options.",
    ]
    assert course.greencomp == ["2.1", "4.3"]
    assert course.delivery_mode == "blended" and course.complete_on_scroll is True
    assert course.validity_months is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is created as a draft" in page
    assert "learners cannot see it until you publish it" in page
    listing = client.get("/courses/manage").get_data(as_text=True)
    assert "Green software basics" in listing and "New course" in listing


def test_slug_is_suggested_from_a_bulgarian_title_and_admin_owns_own_course(client, users):
    login(client, "admin@example.org")
    response = post_form(
        client,
        "/courses/manage/new",
        course_form(
            title="Зелен софтуер за малки фирми", slug="", language="bg", complete_on_scroll=""
        ),
    )
    assert response.status_code == 302
    course = find("zelen-softuer-za-malki-firmi")
    assert course is not None and course.complete_on_scroll is False
    assert [o.id for o in course.owners] == [users["admin"].id]


def test_translation_of_links_a_course_in_the_other_language(client, users, create_course):
    create_course("circular-en", owner=users["trainer"], language="en")
    login(client, "trainer@example.org")
    page = client.get("/courses/manage/new").get_data(as_text=True)
    assert 'value="circular-en"' in page
    response = post_form(
        client,
        "/courses/manage/new",
        course_form(slug="circular-bg", language="en", translation_of="circular-en"),
    )
    assert response.status_code == 400
    assert "A translation is in the other language." in errors(response)
    response = post_form(
        client,
        "/courses/manage/new",
        course_form(slug="circular-bg", language="bg", translation_of="circular-en"),
    )
    assert response.status_code == 302
    assert find("circular-bg").translation_of.slug == "circular-en"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slug": "Not A Slug!"}, "lower-case Latin letters"),
        ({"slug": "manage"}, "reserved"),
        ({"slug": "", "title": "Import"}, "reserved"),
        ({"slug": "", "title": "!!!"}, "Please choose a web address"),
        ({"slug": "x" * 81}, "longer than 80"),
        ({"slug": "taken"}, "Another course already uses this address."),
        ({"topic": "astrology"}, "Not a valid choice"),
        ({"topic": ""}, "Not a valid choice"),
        ({"language": "de"}, "Not a valid choice"),
        ({"contact_hours": "-1"}, "between 0"),
        ({"self_study_hours": "lots"}, "Not a valid decimal value"),
        ({"assessment_hours": "NaN"}, "Please enter a number."),
        ({"contact_hours": "1e9"}, "between 0"),
        ({"title": ""}, "This field is required."),
        ({"title": "t" * 100_000}, "longer than 200"),
        ({"summary": "s" * 100_000}, "longer than 5000"),
        ({"learning_outcomes": "\n".join(f"outcome {i}" for i in range(31))}, "at most 30"),
        ({"greencomp": ["9.9"]}, "is not a valid choice"),
        ({"validity_months": "0"}, "between 1 and 240"),
        ({"translation_of": "hidden-draft"}, "Not a valid choice"),
        ({"delivery_mode": "carrier-pigeon"}, "Not a valid choice"),
    ],
)
def test_invalid_course_input_stores_nothing(client, users, create_course, overrides, message):
    create_course("taken", owner=users["trainer"])
    create_course("hidden-draft", publish=False, language="bg")  # another trainer's draft
    login(client, "trainer@example.org")
    before = count(Course)
    response = post_form(client, "/courses/manage/new", course_form(**overrides))
    assert response.status_code == 400
    assert message in errors(response)
    assert count(Course) == before


def test_editing_metadata_validates_and_keeps_the_course(client, users, create_course):
    course = create_course("edit-me", owner=users["trainer"], title="Old title")
    login(client, "trainer@example.org")
    page = client.get("/courses/manage/edit-me").get_data(as_text=True)
    assert 'value="Old title"' in page and "Version 1" in page
    response = post_form(
        client,
        "/courses/manage/edit-me",
        course_form(title="Old title", slug="edit-me", contact_hours="-3"),
    )
    assert response.status_code == 400
    assert reload(Course, course.id).contact_hours == Decimal(2)
    response = post_form(
        client,
        "/courses/manage/edit-me",
        course_form(title="New title", slug="edit-me", contact_hours="3"),
    )
    assert response.status_code == 302
    course = reload(Course, course.id)
    assert course.title == "New title" and course.contact_hours == Decimal(3)


# --- permissions --------------------------------------------------------------------------


def test_only_admins_set_owners(client, users, create_user, create_course):
    course = create_course("owned", owner=users["trainer"])
    second = create_user("second.trainer@example.org", roles=("trainer",))
    login(client, "trainer@example.org")
    page = client.get("/courses/manage/owned").get_data(as_text=True)
    assert 'name="owners"' not in page
    ids = {"owners": [str(users["trainer"].id), str(users["learner"].id)]}
    assert post_form(client, "/courses/manage/owned/owners", ids).status_code == 403
    # Extra fields in the metadata form do not change owners either.
    response = post_form(
        client, "/courses/manage/owned", course_form(slug="owned", owners=str(second.id))
    )
    assert response.status_code == 302
    assert [o.id for o in reload(Course, course.id).owners] == [users["trainer"].id]

    login(client, "admin@example.org")
    page = client.get("/courses/manage/owned").get_data(as_text=True)
    assert 'name="owners"' in page and "second.trainer@example.org" in page
    assert "learner@example.org" not in page  # only trainers and admins can own courses
    assert post_form(client, "/courses/manage/owned/owners", {}).status_code == 400
    response = post_form(
        client, "/courses/manage/owned/owners", {"owners": [str(users["learner"].id)]}
    )
    assert response.status_code == 400
    response = post_form(
        client,
        "/courses/manage/owned/owners",
        {"owners": [str(users["trainer"].id), str(second.id)]},
    )
    assert response.status_code == 302
    assert {o.id for o in reload(Course, course.id).owners} == {users["trainer"].id, second.id}
    # The second trainer now reaches the course.
    login(client, "second.trainer@example.org")
    assert client.get("/courses/manage/owned").status_code == 200


@pytest.mark.parametrize("role", ["learner", "coordinator"])
def test_learners_and_coordinators_get_403(client, users, create_course, role):
    course = create_course("c403", owner=users["trainer"])
    lesson = course.modules[0].lessons[0]
    login(client, f"{role}@example.org")
    for path in (
        "/courses/manage",
        "/courses/manage/new",
        "/courses/manage/c403",
        f"/courses/manage/c403/lessons/{lesson.id}",
    ):
        assert client.get(path).status_code == 403, path
    assert post_form(client, "/courses/manage/new", course_form()).status_code == 403
    assert post_form(client, "/courses/manage/c403/preview", {"body_md": "x"}).status_code == 403
    assert post_form(client, "/courses/manage/c403/publish", {"version": 1}).status_code == 403


def test_anonymous_is_sent_to_login(client, create_course):
    create_course("anon")
    response = client.get("/courses/manage/anon")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- outline ------------------------------------------------------------------------------


def positions(items) -> list[str]:  # noqa: ANN001
    return [x.title for x in sorted((x for x in items if not x.deleted), key=lambda x: x.position)]


def test_modules_and_lessons_are_added_moved_and_deleted(client, users, create_course):
    course = create_course("outline", owner=users["trainer"], modules=0, publish=False)
    login(client, "trainer@example.org")
    for title in ("First module", "Second module"):
        response = post_form(
            client,
            "/courses/manage/outline/modules",
            {"module-title": title, "module-summary": "About it."},
        )
        assert response.status_code == 302
    assert (
        post_form(client, "/courses/manage/outline/modules", {"module-title": ""}).status_code
        == 400
    )
    course = reload(Course, course.id)
    first, second = sorted(course.modules, key=lambda m: m.position)
    for title in ("Lesson A", "Lesson B", "Lesson C"):
        response = post_form(
            client,
            f"/courses/manage/outline/modules/{first.id}/lessons",
            {"lesson-title": title, "lesson-minutes": "7"},
        )
        assert (
            response.status_code == 302
            and "/courses/manage/outline/lessons/" in response.headers["Location"]
        )
    response = post_form(
        client,
        f"/courses/manage/outline/modules/{first.id}/lessons",
        {"lesson-title": "Too long", "lesson-minutes": "601"},
    )
    assert response.status_code == 400
    first = reload(Module, first.id)
    assert positions(first.lessons) == ["Lesson A", "Lesson B", "Lesson C"]
    a, b, c = (x.id for x in sorted(first.lessons, key=lambda x: x.position))

    # Move a lesson down, another up; moving the last one further down changes nothing.
    assert (
        post_form(
            client, f"/courses/manage/outline/lessons/{a}/move", {"direction": "down"}
        ).status_code
        == 302
    )
    assert positions(reload(Module, first.id).lessons) == ["Lesson B", "Lesson A", "Lesson C"]
    response = post_form(
        client,
        f"/courses/manage/outline/lessons/{c}/move",
        {"direction": "up", "return_to": "module"},
    )
    assert f"/modules/{first.id}" in response.headers["Location"]
    assert positions(reload(Module, first.id).lessons) == ["Lesson B", "Lesson C", "Lesson A"]
    post_form(client, f"/courses/manage/outline/lessons/{a}/move", {"direction": "down"})
    assert positions(reload(Module, first.id).lessons) == ["Lesson B", "Lesson C", "Lesson A"]
    assert (
        post_form(
            client, f"/courses/manage/outline/lessons/{a}/move", {"direction": "sideways"}
        ).status_code
        == 400
    )
    # Modules too.
    post_form(client, f"/courses/manage/outline/modules/{second.id}/move", {"direction": "up"})
    assert positions(reload(Course, course.id).modules) == ["Second module", "First module"]
    page = client.get("/courses/manage/outline").get_data(as_text=True)
    assert page.index("Second module") < page.index("First module")

    # Deleting asks first; without the confirmation nothing happens.
    page = client.get(f"/courses/manage/outline/lessons/{b}/delete").get_data(as_text=True)
    assert "Delete the lesson “Lesson B”?" in page
    assert post_form(client, f"/courses/manage/outline/lessons/{b}/delete", {}).status_code == 400
    assert reload(Lesson, b) is not None
    response = post_form(client, f"/courses/manage/outline/lessons/{b}/delete", {"confirm": "yes"})
    assert response.status_code == 302
    assert reload(Lesson, b) is None  # never published: gone
    assert client.get(f"/courses/manage/outline/lessons/{b}").status_code == 404
    response = post_form(
        client, f"/courses/manage/outline/modules/{second.id}/delete", {"confirm": "yes"}
    )
    assert response.status_code == 302
    assert positions(reload(Course, course.id).modules) == ["First module"]

    # Edit the module's title.
    response = post_form(
        client,
        f"/courses/manage/outline/modules/{first.id}",
        {"title": "Renamed module", "summary": ""},
    )
    assert response.status_code == 302
    assert reload(Module, first.id).title == "Renamed module"
    assert (
        post_form(client, f"/courses/manage/outline/modules/{first.id}", {"title": ""}).status_code
        == 400
    )


def test_deleting_a_published_lesson_waits_for_the_next_version(client, users, create_course):
    course = create_course("pub-delete", owner=users["trainer"], modules=1, lessons=2)
    lesson = course.modules[0].lessons[0]
    login(client, "trainer@example.org")
    page = client.get(f"/courses/manage/pub-delete/lessons/{lesson.id}/delete")
    assert "Learners keep seeing it until you publish" in page.get_data(as_text=True)
    response = post_form(
        client, f"/courses/manage/pub-delete/lessons/{lesson.id}/delete", {"confirm": "yes"}
    )
    assert response.status_code == 302
    lesson = reload(Lesson, lesson.id)
    assert lesson.deleted and lesson.is_published
    page = client.get("/courses/manage/pub-delete").get_data(as_text=True)
    assert "There are unpublished changes." in page and "Removed items: 1." in page
    post_form(client, "/courses/manage/pub-delete/publish", {"version": 1})
    assert not reload(Lesson, lesson.id).is_published


# --- publication --------------------------------------------------------------------------


def test_publish_keeps_progress_on_unchanged_lessons(client, users, create_course):
    course = create_course("versions", owner=users["trainer"], modules=1, lessons=2)
    learner = users["learner"]
    services.enrol(learner, course)
    first, second = course.modules[0].lessons
    services.complete_lesson(learner, first)
    services.complete_lesson(learner, second)
    db.session.commit()
    assert completion.done_lesson_ids(learner.id, course.id) == {first.id, second.id}

    login(client, "trainer@example.org")
    page = client.get("/courses/manage/versions").get_data(as_text=True)
    assert "Learners see exactly what you see here." in page
    response = post_form(
        client,
        f"/courses/manage/versions/lessons/{second.id}",
        {"title": second.title, "minutes": "5", "body_md": "## Rewritten\n\nNew facts."},
    )
    assert response.status_code == 302
    page = client.get("/courses/manage/versions").get_data(as_text=True)
    assert "There are unpublished changes." in page and "changed, not published" in page
    assert "unpublished changes" in client.get("/courses/manage").get_data(as_text=True)
    # Learners still see the old text until publication.
    assert reload(Lesson, second.id).published_html != reload(Lesson, second.id).body_html

    response = post_form(client, "/courses/manage/versions/publish", {"version": "1"})
    assert response.status_code == 302
    page = client.get("/courses/manage/versions").get_data(as_text=True)
    assert "Version 2 is published." in page
    assert reload(Course, course.id).version == 2
    assert completion.done_lesson_ids(learner.id, course.id) == {first.id}
    assert "unpublished changes" not in client.get("/courses/manage").get_data(as_text=True)
    # A second click with the old version number does not publish again.
    post_form(client, "/courses/manage/versions/publish", {"version": "1"})
    assert reload(Course, course.id).version == 2
    assert post_form(client, "/courses/manage/versions/publish", {}).status_code == 400
    assert reload(Course, course.id).version == 2


def test_publish_of_an_empty_course_is_refused_and_archive(client, users, create_course):
    course = create_course("empty", owner=users["trainer"], modules=0, publish=False)
    login(client, "trainer@example.org")
    response = post_form(
        client, "/courses/manage/empty/publish", {"version": "0"}, follow_redirects=True
    )
    assert "Add at least one lesson before publishing." in response.get_data(as_text=True)
    assert reload(Course, course.id).version == 0
    create_course("to-archive", owner=users["trainer"])
    assert post_form(client, "/courses/manage/to-archive/archive", {}).status_code == 400
    assert find("to-archive").status == "published"
    response = post_form(
        client, "/courses/manage/to-archive/archive", {"confirm": "yes"}, follow_redirects=True
    )
    assert "The course is archived" in response.get_data(as_text=True)
    assert find("to-archive").status == "archived"


# --- lesson editor and preview ------------------------------------------------------------

XSS = (
    "<script>alert(1)</script>\n\n"
    "[click](javascript:alert(2))\n\n"
    '<img src="x" onerror="alert(3)">\n\n'
    '<a href="javascript:alert(4)">link</a>\n\n'
    "![pic](javascript:alert(5))\n\n"
    '<svg onload="alert(6)"></svg>\n\n'
    '<iframe src="https://evil.example"></iframe>\n\n'
    "**safe bold**"
)


def assert_safe(html: str) -> None:
    lowered = html.lower()
    for bad in ("<script", "javascript:", "onerror", "onload", "<svg", "<iframe", "alert(3)"):
        assert bad not in lowered, bad
    assert "<strong>safe bold</strong>" in html


def test_preview_requires_csrf_and_authorship(client, users, create_course, create_user):
    create_course("prev2", owner=users["trainer"])
    login(client, "trainer@example.org")
    response = client.post("/courses/manage/prev2/preview", data={"body_md": "x"})
    assert response.status_code == 400
    response = client.post("/courses/manage/prev2/preview", json={"body_md": "x"})
    assert response.status_code == 400
    # JSON callers send the token in the X-CSRFToken header; one in the body is not enough.
    response = client.post(
        "/courses/manage/prev2/preview", json={"body_md": "x", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 400
    create_user("other.trainer@example.org", roles=("trainer",))
    login(client, "other.trainer@example.org")
    assert post_form(client, "/courses/manage/prev2/preview", {"body_md": "x"}).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    response = client.post("/courses/manage/prev2/preview", data={"body_md": "x"})
    assert response.status_code in (302, 400)


def test_lesson_preview_without_script_and_save(client, users, create_course):
    course = create_course("editor", owner=users["trainer"], modules=1, lessons=1)
    lesson = course.modules[0].lessons[0]
    path = f"/courses/manage/editor/lessons/{lesson.id}"
    login(client, "trainer@example.org")
    page = client.get(path).get_data(as_text=True)
    assert 'for="body_md"' in page and "@[video](https://www.youtube.com/watch?v=...)" in page
    assert "![Description](images/name.png)" in page
    assert 'data-preview-url="/courses/manage/editor/preview"' in page
    response = post_form(
        client,
        path,
        {
            "title": "Edited",
            "minutes": "9",
            "body_md": "## Draft heading\n\n" + XSS,
            "preview": "1",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h2>Draft heading</h2>" in page and "it is not saved yet" in page
    preview = page.split('id="preview">', 1)[1].split("</section>", 1)[0]
    assert_safe(preview)
    assert reload(Lesson, lesson.id).title == "Lesson 1.1"  # nothing saved
    response = post_form(
        client, path, {"title": "Edited", "minutes": "9", "body_md": "x" * 200_001}
    )
    assert response.status_code == 400 and "200,000" in response.get_data(as_text=True)
    response = post_form(client, path, {"title": "", "minutes": "9", "body_md": "text"})
    assert response.status_code == 400
    response = post_form(
        client,
        path,
        {"title": "Ed\x00ited", "minutes": "9", "body_md": "## Saved\x00 heading\n\n" + XSS},
    )
    assert response.status_code == 302
    lesson = reload(Lesson, lesson.id)
    assert lesson.title == "Edited" and lesson.minutes == 9
    assert "\x00" not in lesson.body_md and "## Saved heading" in lesson.body_md
    assert_safe(lesson.body_html)
    assert "The lesson is saved." in client.get(path).get_data(as_text=True)


# --- images -------------------------------------------------------------------------------


def upload(client, slug: str, name: str, data: bytes, lesson_id=None, headers=None):  # noqa: ANN001, ANN201
    """POST an image like a browser. The body is encoded in memory: the test client would
    spool a large one to a temporary file that nobody closes."""
    form = {
        "csrf_token": csrf_token(client),
        "file": FileStorage(io.BytesIO(data), filename=name, content_type="image/png"),
    }
    if lesson_id is not None:
        form["lesson_id"] = lesson_id
    boundary, body = encode_multipart(form)
    return client.post(
        f"/courses/manage/{slug}/media",
        data=body,
        headers=headers or {},
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_image_upload_accepts_a_png_and_lessons_use_it(client, users, create_course):
    course = create_course("pics", owner=users["trainer"], modules=1, lessons=1)
    lesson = course.modules[0].lessons[0]
    login(client, "trainer@example.org")
    response = post_form(
        client,
        f"/courses/manage/pics/lessons/{lesson.id}",
        {"title": "With image", "minutes": "5", "body_md": "![A chart](images/chart.png)"},
    )
    assert response.status_code == 302
    assert "src=" not in reload(Lesson, lesson.id).body_html  # no such image yet
    response = upload(client, "pics", "chart.png", png(), lesson_id=str(lesson.id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/lessons/{lesson.id}#images")
    media = db.session.scalar(select(Media).where(Media.course_id == course.id))
    assert media.name == "chart.png" and media.content_type == "image/png"
    assert f'src="/courses/media/{media.id}/chart.png"' in reload(Lesson, lesson.id).body_html
    page = client.get(f"/courses/manage/pics/lessons/{lesson.id}").get_data(as_text=True)
    assert "![Describe the image](images/chart.png)" in page
    page = client.get("/courses/manage/pics").get_data(as_text=True)
    assert "![Describe the image](images/chart.png)" in page
    # The live preview resolves it too.
    response = post_form(
        client, "/courses/manage/pics/preview", {"body_md": "![A chart](images/chart.png)"}
    )
    assert f'src="/courses/media/{media.id}/chart.png"' in response.get_json()["html"]
    # Names are tidied into ASCII letters, digits and hyphens, not refused.
    for sent, stored in (
        ("My Chart.PNG", "My-Chart.png"),
        ("Моята снимка.jpg", None),
        ("<svg onload=alert(1)>.png", "svg-onload-alert-1.png"),
    ):
        response = upload(client, "pics", sent, png())
        assert response.status_code == (302 if stored else 400), (sent, errors(response))
        if stored:
            assert db.session.scalar(select(Media).where(Media.name == stored)) is not None
    assert "content does not match" in errors(upload(client, "pics", "Моята снимка.jpg", png()))
    assert upload(client, "pics", "Моята снимка.png", png()).status_code == 302
    assert db.session.scalar(select(Media).where(Media.name == "moyata-snimka.png")) is not None
    # An odd lesson number only changes where the answer leads.
    response = upload(client, "pics", "fourth.png", png(), lesson_id="²")
    assert response.headers["Location"].endswith("/courses/manage/pics#images")
    # The editor's script gets JSON.
    response = upload(client, "pics", "third.png", png(), headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json()["snippet"] == "![Describe the image](images/third.png)"
