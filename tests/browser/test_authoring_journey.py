"""A trainer writes a course in real Chromium against gunicorn: creates it, adds a module and a
lesson, uploads an image, puts it in the lesson, watches the live preview, saves and publishes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from courses.models import Course, Lesson, Media
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.courses.test_authoring import png

pytestmark = pytest.mark.browser


def test_trainer_writes_and_publishes_a_course(page, live_server, create_user, tmp_path):
    create_user("author@example.org", roles=("trainer",), name="Mira Author")
    image = tmp_path / "energy-chart.png"
    image.write_bytes(png(24, 16))

    page.goto("/login")
    page.get_by_label("Email").fill("author@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto("/courses/manage")
    page.get_by_role("link", name="New course").click()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Title", exact=True).fill("Green hosting in practice")
    # The script suggests the address from the title.
    assert page.get_by_label("Web address (slug)").input_value() == "green-hosting-in-practice"
    page.get_by_label("Topic").select_option("resource-energy-efficiency")
    page.get_by_label("Language of the course").select_option("en")
    page.get_by_label("Contact hours").fill("2")
    page.get_by_label("Learning outcomes (one per line)").fill("Choose a greener host.")
    page.get_by_label("2.1 Systems thinking").check()
    page.screenshot(path="/tmp/authoring-new.png", full_page=True)
    # A bad address is refused with a clear message; nothing is stored.
    page.get_by_label("Web address (slug)").fill("Green Hosting!")
    page.get_by_role("button", name="Create course").click()
    summary = page.get_by_role("alert").filter(has_text="Please correct the following:")
    assert "lower-case Latin letters" in summary.inner_text()
    page.screenshot(path="/tmp/authoring-new-error.png", full_page=True)
    page.get_by_label("Web address (slug)").fill("green-hosting-in-practice")
    page.get_by_role("button", name="Create course").click()
    page.wait_for_url(f"{live_server.url}/courses/manage/green-hosting-in-practice")
    assert "is created as a draft" in page.content()

    page.get_by_label("Module title").fill("Where the energy goes")
    page.get_by_role("button", name="Add module").click()
    page.wait_for_url(re.compile(r".*/courses/manage/green-hosting-in-practice/modules/\d+$"))
    page.get_by_label("Lesson title").fill("Reading a data centre's PUE")
    page.get_by_role("button", name="Add lesson and write it").click()
    page.wait_for_url(re.compile(r".*/courses/manage/green-hosting-in-practice/lessons/\d+$"))

    # Upload without leaving the editor; the image appears in the list.
    page.get_by_label(re.compile("^Image file")).set_input_files(str(image))
    page.get_by_role("button", name="Upload image").click()
    item = page.locator(".media-item", has_text="energy-chart.png")
    item.wait_for()

    editor = page.get_by_label("Lesson text (Markdown)")
    editor.fill("## Power usage effectiveness\n\nPUE = total facility energy / IT energy.\n")
    editor.press("Control+End")
    item.get_by_role("button", name="Insert in text").click()
    assert "![Describe the image](images/energy-chart.png)" in editor.input_value()
    preview = page.locator("#preview")
    preview_image = preview.locator('img[src*="/courses/media/"][src$="/energy-chart.png"]')
    preview_image.wait_for()
    assert preview.locator("h2", has_text="Power usage effectiveness").count() == 1
    page.wait_for_function(
        "document.querySelector('#preview img') && document.querySelector('#preview img').complete"
        " && document.querySelector('#preview img').naturalWidth === 24"
    )
    page.get_by_text("Markdown help").click()
    page.screenshot(path="/tmp/authoring-editor.png", full_page=True)

    page.get_by_role("button", name="Save lesson").click()
    page.wait_for_load_state()
    assert "The lesson is saved." in page.content()

    page.get_by_role("link", name="Green hosting in practice").first.click()
    page.wait_for_url(re.compile(r".*/courses/manage/green-hosting-in-practice(#.*)?$"))
    page.get_by_role("button", name="Publish version 1").click()
    page.wait_for_load_state()
    assert "Version 1 is published." in page.content()
    assert "Learners see exactly what you see here." in page.content()
    page.screenshot(path="/tmp/authoring-course.png", full_page=True)

    db.session.rollback()  # see what the server committed
    course = db.session.scalar(select(Course).where(Course.slug == "green-hosting-in-practice"))
    assert course.version == 1 and course.status == "published"
    assert course.greencomp == ["2.1"]
    lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == course.id))
    media = db.session.scalar(select(Media).where(Media.course_id == course.id))
    assert f'src="/courses/media/{media.id}/energy-chart.png"' in lesson.published_html

    # The learner-facing page shows the published course; the manage page its version.
    page.goto("/courses/green-hosting-in-practice")
    assert "Green hosting in practice" in page.content()
    page.goto("/courses/manage")
    row = page.locator("tr", has_text="Green hosting in practice")
    assert "Version 1" in row.inner_text() and "Published" in row.inner_text()

    # On a phone nothing scrolls sideways.
    page.set_viewport_size({"width": 375, "height": 740})
    for name, path in (
        ("course", "/courses/manage/green-hosting-in-practice"),
        ("lesson", f"/courses/manage/green-hosting-in-practice/lessons/{lesson.id}"),
    ):
        page.goto(path)
        page.screenshot(path=f"/tmp/authoring-phone-{name}.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the {name} page scrolls sideways on a phone"
