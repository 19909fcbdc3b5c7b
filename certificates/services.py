"""Issuing, rendering, revoking and finding certificates. Services flush, never commit.

Issuance is idempotent by construction: the first certificate for a learner and course version
is the row with ``sequence`` 0, inserted inside a savepoint, so when several requests (or
workers, or the CLI) issue at once exactly one insert wins and the others find its row.

The PDF is rendered after the issuing transaction commits (`render_after_commit`), not inside
it: rendering takes a few hundred milliseconds, and on SQLite every other writer would wait
behind the issuing request's lock all that time.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from certificates import pdf
from certificates.models import Certificate, CertificateDocument, Status
from certificates.signals import certificate_issued, certificate_revoked
from courses.completion import assessment_results
from courses.labels import GREENCOMP
from courses.models import Course, Enrolment
from lms.extensions import db
from lms.models import Company, User, utcnow
from lms.services import ServiceError
from lms.sme import add_months

log = logging.getLogger(__name__)

#: 16 random bytes (128 bits) in RFC 4648 base32 without padding: 26 characters from A-Z and
#: 2-7, easy to read aloud and type, case-insensitive.
CODE_LENGTH = 26
_CODE = re.compile(r"^[A-Z2-7]{26}$")
MAX_REASON_LENGTH = 500
MAX_NAME_LENGTH = 200
CERTIFICATE_LANGUAGES = ("bg", "en")

QUALITY_ASSURANCE = {
    "en": "Course content and assessment reviewed by ICT Cluster Burgas before publication; "
    "assessment scored automatically on the server; record kept in the cluster's register.",
    "bg": "Съдържанието и оценяването са прегледани от ICT Cluster Burgas преди публикуване; "
    "оценяването е автоматично на сървъра; записът се пази в регистъра на клъстера.",
}


class CertificateError(ServiceError):
    pass


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


def normalise_code(text: str | None) -> str | None:
    """The code as stored, or None when `text` cannot be a code (then it is a miss, answered
    exactly like an unknown code). Lower case, spaces and dashes are accepted."""
    if not text or len(text) > 80:
        return None
    code = re.sub(r"[\s-]", "", text).upper()
    return code if _CODE.match(code) else None


def verify_url(code: str | None = None) -> str:
    """The public verification address (printed on the PDF and in the QR code)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/verify/{code}" if code else f"{base}/verify"


def certificate_language(user: User, course: Course) -> str:
    """The learner's language when it is one the certificate is written in, else the course's."""
    for language in (user.language, course.language):
        if language in CERTIFICATE_LANGUAGES:
            return language
    return "en"


def _hours(value: Decimal | float | int | None) -> float | int:
    number = float(value or 0)
    return int(number) if number.is_integer() else number


def build_snapshot(enrolment: Enrolment, code: str, issued_at: datetime) -> dict[str, Any]:
    """Everything the certificate will ever show, frozen now."""
    user, course = enrolment.user, enrolment.course
    language = certificate_language(user, course)
    company = db.session.get(Company, enrolment.company_id) if enrolment.company_id else None
    results = assessment_results(course, user, language)
    with force_locale(language):
        greencomp = [
            {"code": item, "name": str(GREENCOMP.get(item, item))} for item in course.greencomp
        ]
        if results:
            main = results[0]
            assessment_type = course.assessment or str(_l("Online quiz, scored on the server"))
            assessment_result = main.result
        else:
            assessment_type = course.assessment or str(
                _l("Completion of every lesson and required activity")
            )
            assessment_result = str(_l("Completed"))
    valid_until = (
        add_months(issued_at.date(), course.validity_months) if course.validity_months else None
    )
    return {
        "learner_name": user.name[:MAX_NAME_LENGTH],
        "company_name": company.name if company else None,
        "course_title": course.title,
        "course_slug": course.slug,
        "course_version": enrolment.completed_version or course.version,
        "course_language": course.language,
        "language": language,
        "issued_on": issued_at.date().isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "workload_hours": {
            "contact": _hours(course.contact_hours),
            "self_study": _hours(course.self_study_hours),
            "assessment": _hours(course.assessment_hours),
            "total": _hours(course.workload_hours),
        },
        "learning_outcomes": list(course.learning_outcomes or []),
        "greencomp": greencomp,
        "assessment_type": assessment_type,
        "assessment_result": assessment_result,
        "assessments": [
            {"kind": r.kind, "label": r.label, "result": r.result, "percent": r.percent}
            for r in results
        ],
        "delivery_mode": course.delivery_mode,
        "level": "not applicable",
        "quality_assurance": QUALITY_ASSURANCE[language],
        **pdf.issuer_defaults(language),
        "code": code,
    }


def current_certificate(user_id: int, course_id: int) -> Certificate | None:
    """The learner's newest certificate for a course (any version), revoked or not."""
    return db.session.scalar(
        select(Certificate)
        .where(Certificate.user_id == user_id, Certificate.course_id == course_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .limit(1)
    )


def issue_certificate(enrolment: Enrolment) -> Certificate:
    """The certificate for a completed enrolment: issued now, or the one already issued for
    this course version (idempotent; safe under concurrency)."""
    if enrolment.completed_at is None:
        raise CertificateError(_l("The course is not completed yet, so no certificate is issued."))
    version = enrolment.completed_version or enrolment.course.version
    existing = _first_issue(enrolment.user_id, enrolment.course_id, version)
    if existing is not None:
        return existing
    issued_at = utcnow()
    code = new_code()
    snapshot = build_snapshot(enrolment, code, issued_at)
    certificate = Certificate(
        code=code,
        user_id=enrolment.user_id,
        course_id=enrolment.course_id,
        course_version=version,
        sequence=0,
        company_id=enrolment.company_id,
        language=snapshot["language"],
        snapshot=snapshot,
        issued_at=issued_at,
        valid_until=date.fromisoformat(snapshot["valid_until"])
        if snapshot["valid_until"]
        else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        # Another request issued it at the same moment: theirs is the certificate.
        existing = _first_issue(enrolment.user_id, enrolment.course_id, version)
        if existing is None:  # pragma: no cover - the constraint says it exists
            raise
        return existing
    render_after_commit(certificate)
    certificate_issued.send(certificate)
    return certificate


def _first_issue(user_id: int, course_id: int, version: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user_id,
            Certificate.course_id == course_id,
            Certificate.course_version == version,
            Certificate.sequence == 0,
        )
    )


def render_document(certificate: Certificate) -> CertificateDocument | None:
    """Render the PDF once and keep it with its SHA-256. A rendering failure is logged and
    leaves the certificate without a document (issuance must not fail the learner's request);
    `document_bytes` renders it on first download instead. Never for a certificate whose
    learner's data was erased: its document is gone for good (the hash stays, so the learner's
    own copy still verifies)."""
    if certificate.anonymised_at is not None:
        return None
    try:
        data = pdf.render_certificate_pdf(
            certificate.snapshot,
            language=certificate.language,
            verify_url=verify_url(),
            qr_url=verify_url(certificate.code),
        )
    except Exception:  # noqa: BLE001 - any renderer failure: keep the certificate, log it
        log.exception("rendering the PDF of certificate %s failed", certificate.id)
        return None
    document = CertificateDocument(certificate=certificate, pdf=data, size=len(data))
    certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
    db.session.add(document)
    db.session.flush()
    return document


_PENDING = "certificates_to_render"


def render_after_commit(certificate: Certificate) -> None:
    """Render the certificate's PDF once the current transaction has committed (see the module
    docstring). What the renderer needs is taken now, while the row is in memory, so nothing is
    read from the database after the commit until the document is stored. If the transaction
    rolls back, nothing is rendered."""
    if certificate.anonymised_at is not None:
        return
    db.session.flush()  # the certificate's id
    db.session.info.setdefault(_PENDING, []).append(
        (certificate.id, certificate.snapshot, certificate.language, certificate.code)
    )


@event.listens_for(Session, "after_commit")
def _render_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the transaction itself has not committed yet
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    engine = session.get_bind()
    for certificate_id, snapshot, language, code in pending:
        try:
            data = pdf.render_certificate_pdf(
                snapshot, language=language, verify_url=verify_url(), qr_url=verify_url(code)
            )
        except Exception:  # noqa: BLE001 - any renderer failure: keep the certificate, log it
            log.exception("rendering the PDF of certificate %s failed", certificate_id)
            continue
        try:
            # A connection of its own: the session's transaction has ended, and the stored
            # document must not wait for the session's next commit.
            with engine.begin() as connection:
                connection.execute(
                    insert(CertificateDocument).values(
                        certificate_id=certificate_id,
                        pdf=data,
                        size=len(data),
                        rendered_at=utcnow(),
                    )
                )
                connection.execute(
                    update(Certificate)
                    .where(Certificate.id == certificate_id)
                    .values(pdf_sha256=hashlib.sha256(data).hexdigest())
                )
        except IntegrityError:
            pass  # a first download rendered it meanwhile: that document stands
        except SQLAlchemyError:
            # Busy or unreachable database: the first download renders it (document_bytes).
            log.exception("storing the PDF of certificate %s failed", certificate_id)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:  # noqa: ANN001
    """A rolled-back or closed transaction renders nothing (a commit has already rendered)."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def document_bytes(certificate: Certificate) -> bytes | None:
    """The stored PDF (rendered now if issuance could not render it)."""
    document = certificate.document or render_document(certificate)
    return document.pdf if document is not None else None


def revoke(certificate: Certificate, reason: str, by: User | None) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_l("Give the reason for revoking the certificate."), "reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise CertificateError(
            _l("The reason can have at most %(n)s characters.", n=MAX_REASON_LENGTH), "reason"
        )
    if certificate.revoked_at is not None:
        raise CertificateError(_l("This certificate is already revoked."))
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    certificate.revoked_by_id = by.id if by else None
    db.session.flush()
    certificate_revoked.send(certificate, by=by)


def reissue(certificate: Certificate, reason: str, by: User | None) -> Certificate:
    """Revoke `certificate` (the reason says why) and issue its replacement with a new code
    from the learner's and course's data as they are now. The old one stays in the history."""
    if certificate.replaced_by_id is not None:
        raise CertificateError(_l("This certificate has already been replaced."))
    if certificate.user is None or certificate.course is None or certificate.anonymised_at:
        raise CertificateError(
            _l("The learner or the course no longer exists, so the certificate cannot be reissued.")
        )
    enrolment = db.session.scalar(
        select(Enrolment).where(
            Enrolment.user_id == certificate.user_id, Enrolment.course_id == certificate.course_id
        )
    )
    if enrolment is None or enrolment.completed_at is None:
        raise CertificateError(_l("The learner's completion of this course is no longer recorded."))
    if certificate.revoked_at is None:
        revoke(certificate, reason, by)
    sequence = (
        db.session.scalar(
            select(func.max(Certificate.sequence)).where(
                Certificate.user_id == certificate.user_id,
                Certificate.course_id == certificate.course_id,
                Certificate.course_version == certificate.course_version,
            )
        )
        or 0
    ) + 1
    issued_at = utcnow()
    code = new_code()
    snapshot = build_snapshot(enrolment, code, issued_at)
    snapshot["course_version"] = certificate.course_version
    replacement = Certificate(
        code=code,
        user_id=certificate.user_id,
        course_id=certificate.course_id,
        course_version=certificate.course_version,
        sequence=sequence,
        company_id=certificate.company_id,
        language=snapshot["language"],
        snapshot=snapshot,
        issued_at=issued_at,
        valid_until=date.fromisoformat(snapshot["valid_until"])
        if snapshot["valid_until"]
        else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(replacement)
            certificate.replaced_by = replacement
    except IntegrityError as error:
        raise CertificateError(
            _l("Someone reissued this certificate at the same moment; reload the page.")
        ) from error
    render_after_commit(replacement)
    certificate_issued.send(replacement)
    return replacement


def find_by_code(text: str | None) -> Certificate | None:
    code = normalise_code(text)
    if code is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def find_by_hash(data: bytes) -> Certificate | None:
    digest = hashlib.sha256(data).hexdigest()
    return db.session.scalar(select(Certificate).where(Certificate.pdf_sha256 == digest))


@dataclass(frozen=True)
class Verification:
    """What the public may know about a certificate."""

    certificate: Certificate
    status: Status

    def as_dict(self) -> dict[str, Any]:
        c, snap = self.certificate, self.certificate.snapshot
        return {
            "code": c.code,
            "status": self.status.value,
            "learner_name": None if c.anonymised_at else snap.get("learner_name"),
            "course_title": snap.get("course_title"),
            "course_version": snap.get("course_version"),
            "course_language": snap.get("course_language"),
            "issued_on": snap.get("issued_on"),
            "valid_until": snap.get("valid_until"),
            "workload_hours": (snap.get("workload_hours") or {}).get("total"),
            "learning_outcomes": snap.get("learning_outcomes") or [],
            "greencomp": snap.get("greencomp") or [],
            "assessment_type": snap.get("assessment_type"),
            "assessment_result": snap.get("assessment_result"),
            "delivery_mode": snap.get("delivery_mode"),
            "awarding_body": (snap.get("awarding_body") or {}).get("name"),
            "country_region": snap.get("country_region"),
            "revoked_on": c.revoked_at.date().isoformat() if c.revoked_at else None,
            "revocation_reason": c.revoked_reason,
            "pdf_sha256": c.pdf_sha256,
        }


def verification(certificate: Certificate, today: date | None = None) -> Verification:
    return Verification(certificate, certificate.status(today or utcnow().date()))


def pending_enrolments(course_id: int | None = None) -> list[Enrolment]:
    """Completed enrolments whose course version has no certificate yet (completions recorded
    before the plugin was enabled), oldest first. The caller issues them one by one."""
    version = func.coalesce(Enrolment.completed_version, Course.version)  # as issue_certificate
    issued = select(Certificate.id).where(
        Certificate.user_id == Enrolment.user_id,
        Certificate.course_id == Enrolment.course_id,
        Certificate.course_version == version,
    )
    query = (
        select(Enrolment)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.completed_at.is_not(None), ~issued.exists())
        .order_by(Enrolment.completed_at, Enrolment.id)
    )
    if course_id is not None:
        query = query.where(Enrolment.course_id == course_id)
    return list(db.session.scalars(query))
