"""Certificates: one frozen record per learner, course version and issue.

A certificate never reads the live user or course after it is issued: everything it shows is in
``snapshot`` (see ``certificates.pdf`` for its keys). The PDF is kept in its own table so that
lists of certificates never load documents.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from courses.models import Course
from lms.extensions import db
from lms.models import User, utcnow
from lms.types import UTCDateTime


class Status(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Certificate(db.Model):
    """A competence certificate.

    ``(user_id, course_id, course_version, sequence)`` is unique: the first issue for a course
    version has sequence 0, so any number of concurrent issuing attempts insert one row and the
    others hit the constraint. A reissue revokes the current certificate and adds the next
    sequence with a new code; the old row stays (the history), pointing at its replacement.
    """

    __tablename__ = "certificates_certificate"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "course_id", "course_version", "sequence", name="uq_certificates_issue"
        ),
        Index("ix_certificates_certificate_course_issued", "course_id", "issued_at"),
        # The register and the grant report: certificates issued (not revoked) or revoked in
        # a period, by course, read from the index alone.
        Index("ix_certificates_certificate_issued_at", "issued_at"),
        Index(
            "ix_certificates_certificate_revoked_issued", "revoked_at", "issued_at", "course_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses_course.id", ondelete="SET NULL")
    )
    course_version: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # The learner's company when the certificate was issued (coordinators see their company's).
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(String(2))
    snapshot: Mapped[dict] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    valid_until: Mapped[date | None] = mapped_column(Date)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates_certificate.id", ondelete="SET NULL")
    )
    # Set when the learner's personal data was erased: the certificate stays verifiable, nameless.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    course: Mapped[Course | None] = relationship()
    replaced_by: Mapped[Certificate | None] = relationship(remote_side=[id])
    document: Mapped[CertificateDocument | None] = relationship(
        back_populates="certificate", cascade="all, delete-orphan", uselist=False
    )

    def status(self, today: date) -> Status:
        """Revoked wins over expired: a revoked certificate says why, whatever its date."""
        if self.revoked_at is not None:
            return Status.REVOKED
        if self.valid_until is not None and today > self.valid_until:
            return Status.EXPIRED
        return Status.VALID

    @property
    def learner_name(self) -> str:
        return self.snapshot.get("learner_name") or ""

    @property
    def course_title(self) -> str:
        return self.snapshot.get("course_title") or ""

    def __repr__(self) -> str:
        return f"<Certificate {self.id} {self.code}>"


class CertificateDocument(db.Model):
    """The PDF rendered at issuance, served as it is from then on."""

    __tablename__ = "certificates_document"

    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates_certificate.id", ondelete="CASCADE"), primary_key=True
    )
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    size: Mapped[int] = mapped_column(Integer)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="document")
