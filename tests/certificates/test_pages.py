"""Learners' certificate pages: "My certificates", the PDF download and who may have it, and
the certificate shown where learners look (course page, home, company page, admin)."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from certificates import services
from certificates.models import Certificate
from lms.extensions import db
from tests.conftest import login, post_form


def count_certificates() -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate))


@pytest.fixture()
def certified(users, create_course, complete_course) -> Certificate:
    """The learner's certificate for a course owned by the `trainer` user."""
    course = create_course("certified", modules=1, lessons=2, owner=users["trainer"])
    complete_course(users["learner"], course)
    return db.session.scalar(select(Certificate).where(Certificate.course_id == course.id))


# --- My certificates ----------------------------------------------------------------------


def test_my_certificates_lists_only_mine_newest_first(
    client, users, create_course, complete_course, certified
):
    second = create_course("second", title="Second Course", modules=1, lessons=1)
    complete_course(users["learner"], second)
    theirs = create_course("theirs", title="Someone Else's Course", modules=1, lessons=1)
    complete_course(users["other_learner"], theirs)
    mine = db.session.scalars(
        select(Certificate).where(Certificate.user_id == users["learner"].id)
    ).all()
    assert len(mine) == 2 and count_certificates() == 3
    other = db.session.scalar(
        select(Certificate).where(Certificate.user_id == users["other_learner"].id)
    )

    login(client, "learner@example.org")
    html = client.get("/certificates/my").get_data(as_text=True)
    for certificate in mine:
        assert certificate.code in html
        assert f"/certificates/{certificate.id}.pdf" in html
        assert f"/verify/{certificate.code}" in html
        assert f"/certificates/{certificate.id}/credential.jwt" in html
    assert other.code not in html and "Someone Else" not in html
    # Newest first: the second course was completed last.
    assert html.index("Second Course") < html.index(certified.course_title)
    assert "badge-ok" in html


def test_my_certificates_explains_how_to_earn_one(client, users):
    login(client, "other.learner@example.org")
    response = client.get("/certificates/my")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No certificates yet" in html and "complete a course" in html
    assert 'href="/courses/my">Continue my courses</a>' in html


def test_my_certificates_needs_login(client):
    response = client.get("/certificates/my")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_menu_links_my_certificates_and_register(client, users):
    login(client, "learner@example.org")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/certificates/my"' in html and 'href="/certificates/register"' not in html
    login(client, "coordinator@example.org")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/certificates/register"' in html and 'href="/certificates/my"' in html
    login(client, "admin@example.org")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/certificates/register"' in html and 'href="/certificates/my"' not in html


# --- downloads ----------------------------------------------------------------------------


def test_learner_downloads_the_stored_pdf(client, users, certified):
    login(client, "learner@example.org")
    response = client.get(f"/certificates/{certified.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == certified.pdf_sha256
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    name = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert name.isascii() and name.endswith(".pdf") and "certificate-" in name
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]  # private: never in shared caches
    assert response.headers["ETag"] == f'"{certified.pdf_sha256}"'
    again = client.get(
        f"/certificates/{certified.id}.pdf", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.get_data() == b""


def test_cyrillic_names_give_an_ascii_file_name(client, users, create_course, complete_course):
    learner = users["learner"]
    learner.name = "Мария Иванова"
    db.session.commit()
    course = create_course("bg-course", title="Кръгова икономика", modules=1, lessons=1)
    complete_course(learner, course)
    certificate = db.session.scalar(select(Certificate))
    login(client, "learner@example.org")
    disposition = client.get(f"/certificates/{certificate.id}.pdf").headers["Content-Disposition"]
    assert "kragova-ikonomika-mariya-ivanova" in disposition and disposition.isascii()


def test_anonymous_download_is_sent_to_login(client, certified):
    response = client.get(f"/certificates/{certified.id}.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_reissued_certificate_points_to_its_replacement(client, users, certified):
    services.reissue(certified, "Name corrected", users["admin"])
    db.session.commit()
    login(client, "learner@example.org")
    response = client.get(f"/certificates/{certified.id}.pdf")
    assert response.status_code == 410
    assert "A new certificate has replaced it" in response.get_data(as_text=True)


def test_download_renders_a_missing_document_once(client, users, certified):
    """Issuance could not render the PDF: the first download renders and stores it."""
    db.session.delete(certified.document)
    certified.pdf_sha256 = None
    db.session.commit()
    login(client, "learner@example.org")
    response = client.get(f"/certificates/{certified.id}.pdf")
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF")
    db.session.expire_all()
    stored = db.session.get(Certificate, certified.id)
    assert stored.document is not None
    assert stored.pdf_sha256 == hashlib.sha256(response.get_data()).hexdigest()


# --- where learners look ------------------------------------------------------------------


def test_course_page_shows_the_certificate_right_after_the_last_lesson(
    client, users, create_course
):
    course = create_course("journey", modules=1, lessons=2, owner=users["trainer"])
    login(client, "learner@example.org")
    post_form(client, f"/courses/{course.slug}/enrol")
    lessons = course.published_modules[0].published_lessons
    post_form(client, f"/courses/{course.slug}/lessons/{lessons[0].id}/done")
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Your certificate is ready" not in html and count_certificates() == 0

    post_form(client, f"/courses/{course.slug}/lessons/{lessons[1].id}/done")
    certificate = db.session.scalar(select(Certificate))
    assert certificate is not None and certificate.user_id == users["learner"].id
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Your certificate is ready" in html
    assert f'href="/certificates/{certificate.id}.pdf"' in html
    assert f"/verify/{certificate.code}" in html
    assert f"/certificates/{certificate.id}/credential.jwt" in html
    # ... and the link works.
    pdf = client.get(f"/certificates/{certificate.id}.pdf")
    assert hashlib.sha256(pdf.get_data()).hexdigest() == certificate.pdf_sha256
    # The dashboard shows it as well.
    dashboard = client.get("/courses/my").get_data(as_text=True)
    assert f'href="/certificates/{certificate.id}.pdf"' in dashboard


def test_home_lists_recent_certificates(client, users, certified):
    login(client, "learner@example.org")
    html = client.get("/").get_data(as_text=True)
    assert "Your certificates" in html and f"/certificates/{certified.id}.pdf" in html
    login(client, "other.learner@example.org")
    html = client.get("/").get_data(as_text=True)
    assert "Your certificates" not in html


def test_company_page_links_to_the_company_register(client, users, certified):
    company_id = users["coordinator"].memberships[0].company_id
    login(client, "coordinator@example.org")
    html = client.get(f"/company/{company_id}").get_data(as_text=True)
    assert f'href="/certificates/register?company={company_id}"' in html
    assert "Certificates earned in the company: 1 (valid today: 1)" in html


def test_admin_overview_links_to_the_register(client, users, certified):
    login(client, "admin@example.org")
    html = client.get("/admin/").get_data(as_text=True)
    assert 'href="/certificates/register"' in html
    assert "Open the register of certificates" in html


def test_stylesheet_is_on_every_page(client, users):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/certificates/static/certificates.css"' in html
    response = client.get("/certificates/static/certificates.css")
    response.close()
    assert response.status_code == 200


def test_erased_learners_certificate_has_no_document_or_credential(
    client, users, create_course, complete_course
):
    """After erasure the certificate verifies (nameless) but neither its PDF nor a credential
    is rendered again: that would print the erased name or change the stored hash."""
    from certificates import services as certificate_services
    from lms.privacy import erase_user

    course = create_course("erased-course", modules=1, lessons=1, owner=users["trainer"])
    complete_course(users["learner"], course)
    certificate = db.session.scalar(select(Certificate))
    digest = certificate.pdf_sha256
    erase_user(users["learner"], by=users["admin"])
    db.session.commit()

    login(client, "admin@example.org")
    response = client.get(f"/certificates/{certificate.id}.pdf")
    assert response.status_code == 410
    assert client.get(f"/certificates/{certificate.id}/credential.jwt").status_code == 410
    db.session.expire_all()
    certificate = db.session.get(Certificate, certificate.id)
    assert certificate.pdf_sha256 == digest and certificate.document is None
    assert certificate_services.document_bytes(certificate) is None
    public = client.get(f"/verify/{certificate.code}.json").get_json()
    assert public["status"] == "valid" and public["learner_name"] is None
