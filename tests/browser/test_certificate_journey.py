"""A learner in real Chromium finishes the last lesson of a course: the certificate is on the
course page at once, its PDF downloads (with the learner's name, the printed verification
address and the QR code of the certificate's own verification URL), and that URL opens the
public verification page, which says the certificate is valid."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader
from sqlalchemy import func, select

from certificates import pdf, services
from certificates.models import Certificate
from courses import services as course_services
from courses.models import Enrolment
from lms.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NAME = "Мария Иванова-Петрова"


def qr_image(url: str) -> Image.Image:
    """The QR code the certificate renderer makes for `url`, as a greyscale image."""
    data = base64.b64decode(pdf.qr_data_uri(url).split(",", 1)[1])
    return Image.open(io.BytesIO(data)).convert("L")


def has_image(reader: PdfReader, expected: Image.Image) -> bool:
    """True when the page embeds exactly this picture (pixel for pixel)."""
    for image in reader.pages[0].images:
        picture = image.image.convert("L")
        if (
            picture.size == expected.size
            and ImageChops.difference(picture, expected).getbbox() is None
        ):
            return True
    return False


def test_learner_completes_downloads_and_verifies(page, browser, live_server, users, create_course):
    learner = users["learner"]
    learner.name = NAME
    db.session.commit()
    course = create_course(
        "green-cert",
        modules=1,
        lessons=2,
        title="Green certificate course",
        complete_on_scroll=False,
    )
    first, last = course.published_modules[0].published_lessons
    course_services.enrol(learner, course)
    course_services.complete_lesson(learner, first)
    db.session.commit()
    assert db.session.scalar(select(func.count(Certificate.id))) == 0

    page.goto("/login")
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/courses/green-cert/lessons/{last.id}")
    page.get_by_role("button", name="Mark as done and continue").click()

    # The last requirement done: the course page shows the certificate at once.
    page.wait_for_url("**/courses/green-cert")
    page.get_by_text("Your certificate is ready.").wait_for()
    page.screenshot(path="/tmp/certificate-course-page.png", full_page=True)
    db.session.rollback()
    certificate = db.session.scalar(select(Certificate))
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    assert enrolment.completed_at is not None
    assert db.session.scalar(select(func.count(Certificate.id))) == 1
    assert certificate.user_id == learner.id and certificate.course_id == course.id

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the PDF").click()
    download = download_info.value
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    assert download.suggested_filename.endswith(".pdf")
    assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256  # the stored document
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = text.replace("\n", "")
    assert NAME in text and "Green certificate course" in text
    assert services.verify_url() in flat  # the printed address
    assert certificate.code in flat.replace("-", "").replace(" ", "")
    # The QR code encodes the certificate's verification URL: the PDF embeds exactly the
    # picture the renderer makes for that URL (and not the one of any other code).
    qr_url = services.verify_url(certificate.code)
    assert has_image(reader, qr_image(qr_url))
    assert not has_image(reader, qr_image(services.verify_url(services.new_code())))

    # The QR's URL, opened by anyone (a fresh browser, not logged in), says "valid". Its path
    # is opened on the server under test: the public address of the test configuration
    # (BASE_URL) is not this loopback port.
    path = urlsplit(qr_url).path
    assert path == f"/verify/{certificate.code}"
    visitor = browser.new_context(base_url=live_server.url, locale="en-GB")
    try:
        public = visitor.new_page()
        public.goto(path)
        public.get_by_role("heading", name="Valid certificate").wait_for()
        content = public.content()
        assert NAME in content and "Green certificate course" in content
        assert certificate.code in content and certificate.pdf_sha256 in content
        assert public.get_by_role("button", name="Log out").count() == 0  # anonymous
        public.screenshot(path="/tmp/certificate-verified.png", full_page=True)
    finally:
        visitor.close()
