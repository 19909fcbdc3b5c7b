"""A stored PDF is served with one read besides the session check: the certificate (for the
permission check) and its bytes come in the same statement; others still get a 404."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from certificates.models import Certificate, CertificateDocument
from lms.extensions import db
from tests.conftest import login
from tests.support.measure import counted_statements


def _certificate(users, create_course, complete_course) -> Certificate:
    course = create_course("counted", modules=1, lessons=1, owner=users["trainer"])
    complete_course(users["learner"], course)
    return db.session.scalar(select(Certificate).where(Certificate.course_id == course.id))


def test_download_of_a_stored_pdf_takes_three_statements(
    client, users, create_course, complete_course
):
    certificate = _certificate(users, create_course, complete_course)
    login(client, "learner@example.org")
    path = f"/certificates/{certificate.id}.pdf"
    client.get(path)  # renders the document if issuance did not
    with counted_statements() as statements:
        response = client.get(path)
    assert response.status_code == 200
    stored = db.session.scalar(
        select(CertificateDocument.pdf).where(CertificateDocument.certificate_id == certificate.id)
    )
    assert response.get_data() == stored and stored.startswith(b"%PDF")
    db.session.expire_all()
    assert (
        hashlib.sha256(stored).hexdigest() == db.session.get(Certificate, certificate.id).pdf_sha256
    )
    assert len(statements) <= 3, statements  # BEGIN, user, certificate with its PDF


def test_someone_elses_pdf_is_404(client, users, create_course, complete_course):
    certificate = _certificate(users, create_course, complete_course)
    login(client, "other.learner@example.org")
    response = client.get(f"/certificates/{certificate.id}.pdf")
    assert response.status_code == 404
    assert b"%PDF" not in response.get_data()
    assert "attachment" not in response.headers.get("Content-Disposition", "")
