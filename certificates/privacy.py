"""The certificates plugin's part of privacy (lms/privacy.py).

On erasure (`user-erased`) every certificate of the person:
- gets `anonymised_at`: public verification still answers "valid" (or expired/revoked) with
  the course, dates and outcomes, but no name;
- loses the name from its snapshot (`learner_name` becomes null), so no page, register, export
  or re-rendered PDF can show it again;
- loses its stored PDF (`CertificateDocument`), which prints the name. `pdf_sha256` is kept,
  so the copy the person downloaded before still verifies by its hash. The certificate pages
  must refuse to download (or re-render) the PDF of an anonymised certificate.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from certificates.models import Certificate, CertificateDocument
from lms.extensions import db
from lms.models import User, utcnow


def personal_data(sender: User, **kwargs: object) -> dict[str, Any]:
    """`get-personal-data`: the user's certificates (no PDFs: they are downloaded one by one)."""
    from certificates.services import verify_url

    today = utcnow().date()
    certificates = db.session.scalars(
        select(Certificate)
        .where(Certificate.user_id == sender.id)
        .order_by(Certificate.issued_at, Certificate.id)
    ).all()
    return {
        "certificates": [
            {
                "code": c.code,
                "course": c.snapshot.get("course_slug"),
                "course_title": c.course_title,
                "course_version": c.course_version,
                "name_on_certificate": None if c.anonymised_at else c.learner_name,
                "company_on_certificate": c.snapshot.get("company_name"),
                "issued_at": c.issued_at,
                "valid_until": c.valid_until,
                "status": c.status(today).value,
                "revoked_at": c.revoked_at,
                "revoked_reason": c.revoked_reason,
                "verify_url": verify_url(c.code),
                "pdf_sha256": c.pdf_sha256,
            }
            for c in certificates
        ]
    }


def anonymise_certificates(sender: User, **kwargs: object) -> None:
    """`user-erased`: make the person's certificates nameless and drop their stored PDFs."""
    now = utcnow()
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.user_id == sender.id)
    ).all()
    for certificate in certificates:
        certificate.anonymised_at = certificate.anonymised_at or now
        # A new dict: the JSON column notices the change only on assignment.
        certificate.snapshot = {**(certificate.snapshot or {}), "learner_name": None}
    ids = [c.id for c in certificates]
    if ids:
        db.session.execute(
            delete(CertificateDocument).where(CertificateDocument.certificate_id.in_(ids))
        )
        for certificate in certificates:
            db.session.expire(certificate, ["document"])
    db.session.flush()
