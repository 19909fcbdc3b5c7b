"""Issuance on completion: once per learner and course version, frozen, with its PDF."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from certificates import services
from certificates.models import Certificate, CertificateDocument, Status
from lms.extensions import db


def count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_completion_issues_one_certificate_with_its_pdf(users, create_course, complete_course):
    learner = users["learner"]
    learner.name = "Мария Иванова-Петрова"
    learner.language = "bg"
    course = create_course("c1", modules=1, lessons=2, validity_months=24)
    enrolment = complete_course(learner, course)
    assert enrolment.completed_at is not None

    certificate = db.session.scalar(select(Certificate))
    assert count(Certificate) == 1 and count(CertificateDocument) == 1
    assert certificate.user_id == learner.id and certificate.course_version == course.version
    assert certificate.language == "bg"
    assert len(certificate.code) == 26 and services.normalise_code(certificate.code.lower())
    snap = certificate.snapshot
    assert snap["learner_name"] == "Мария Иванова-Петрова"
    assert snap["company_name"] == learner.primary_company.name
    assert snap["workload_hours"] == {"contact": 2, "self_study": 3, "assessment": 0, "total": 5}
    assert snap["greencomp"] == [{"code": "2.1", "name": "Системно мислене"}]
    issued = certificate.issued_at.date()
    assert certificate.valid_until == date(issued.year + 2, issued.month, issued.day)
    assert certificate.status(issued) is Status.VALID

    data = services.document_bytes(certificate)
    assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
    text = pdf_text(data)
    assert "Мария Иванова-Петрова" in text and certificate.code in text.replace("\n", "")

    # Issuing again (another trigger, the CLI) finds the same certificate.
    assert services.issue_certificate(enrolment) is certificate
    db.session.commit()
    assert count(Certificate) == 1


def test_snapshot_is_frozen(users, create_course, complete_course):
    learner = users["learner"]
    course = create_course("c1", modules=1, lessons=1, title="Circular design")
    complete_course(learner, course)
    certificate = db.session.scalar(select(Certificate))
    before = dict(certificate.snapshot)
    pdf_before = services.document_bytes(certificate)

    learner.name = "Someone Else"
    course.title = "Renamed course"
    course.learning_outcomes = ["Something new."]
    db.session.commit()
    db.session.expire_all()

    certificate = db.session.scalar(select(Certificate))
    assert certificate.snapshot == before
    assert services.verification(certificate).as_dict()["course_title"] == "Circular design"
    assert services.document_bytes(certificate) == pdf_before


def test_new_course_version_gives_a_new_certificate_and_pending_ones_are_found(
    users, create_course, complete_course
):
    learner = users["learner"]
    course = create_course("c1", modules=1, lessons=1)
    enrolment = complete_course(learner, course)
    assert services.pending_enrolments() == []
    # A completion recorded while the plugin was off: the certificate row is missing.
    db.session.delete(db.session.scalar(select(Certificate)))
    db.session.commit()
    assert [e.id for e in services.pending_enrolments()] == [enrolment.id]
    services.issue_certificate(enrolment)
    db.session.commit()
    assert services.pending_enrolments() == [] and count(Certificate) == 1


def test_revoke_and_reissue_keep_the_history(users, create_course, complete_course):
    learner, admin = users["learner"], users["admin"]
    course = create_course("c1", modules=1, lessons=1)
    complete_course(learner, course)
    first = db.session.scalar(select(Certificate))
    with pytest.raises(services.CertificateError):
        services.revoke(first, "   ", admin)
    learner.name = "Corrected Name"
    second = services.reissue(first, "Name was misspelt", admin)
    db.session.commit()
    assert (
        first.status(date.today()) is Status.REVOKED and first.revoked_reason == "Name was misspelt"
    )
    assert first.replaced_by_id == second.id and second.code != first.code
    assert second.snapshot["learner_name"] == "Corrected Name" and second.sequence == 1
    assert second.status(date.today()) is Status.VALID
    with pytest.raises(services.CertificateError):
        services.reissue(first, "again", admin)
    assert count(Certificate) == 2 and count(CertificateDocument) == 2


def test_expiry(users, create_course, complete_course):
    course = create_course("c1", modules=1, lessons=1, validity_months=12)
    complete_course(users["learner"], course)
    certificate = db.session.scalar(select(Certificate))
    assert certificate.status(certificate.valid_until) is Status.VALID
    later = date(certificate.valid_until.year + 1, 1, 1)
    assert certificate.status(later) is Status.EXPIRED
