"""The certificates plugin's contributions to the grant report (see `lms.reports`).

* ``certificates.issued`` – certificates issued, at their issue, unless revoked (a reissue
  revokes the old certificate and issues a new one, so a person is not counted twice for it);
* ``certificates.revoked`` – revocations, at their date, reported separately;
* the evidence pack's certificate register (every certificate issued in the period, with its
  status), through `get-evidence-files`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import select

from certificates.models import Certificate
from courses.models import Course
from lms.exports import csv_bytes
from lms.extensions import db
from lms.models import Company
from lms.reports import EvidenceFile, Period, Source, fact_columns


def _facts(at: Any, *conditions: Any) -> Any:
    return (
        select(
            *fact_columns(
                at=at,
                person_id=Certificate.user_id,
                company_id=Certificate.company_id,
                course_id=Certificate.course_id,
                topic=Course.topic,
                delivery_mode=Course.delivery_mode,
                ref=Certificate.code,
            )
        )
        .outerjoin(Course, Course.id == Certificate.course_id)
        .where(*conditions)
    )


@cache
def _sources() -> tuple[Source, ...]:
    """Built once per process: the engine caches its statements by the identity of these
    Selects, so answering with the same objects each time lets it reuse them."""
    return (
        Source(
            "certificates.issued",
            _facts(Certificate.issued_at, Certificate.revoked_at.is_(None)),
            "Certificates issued (not revoked)",
        ),
        Source(
            "certificates.revoked",
            _facts(Certificate.revoked_at, Certificate.revoked_at.is_not(None)),
            "Certificates revoked",
        ),
    )


def report_sources(sender: Any = None, **kwargs: Any) -> list[Source]:
    """Receiver of `get-report-indicators`."""
    return list(_sources())


REGISTER_HEADERS = (
    "Code",
    "Learner",
    "Course",
    "Course version",
    "Issued on",
    "Company",
    "UIC",
    "Status",
    "Revoked on",
    "Reason for revocation",
)


def register_rows(period: Period) -> list[tuple]:
    """Every certificate issued in the period, oldest first, as the register lists it."""
    query = (
        select(Certificate, Company.name, Company.uic)
        .outerjoin(Company, Company.id == Certificate.company_id)
        .order_by(Certificate.issued_at, Certificate.id)
    )
    if period.start is not None:
        query = query.where(Certificate.issued_at >= period.start)
    if period.end is not None:
        query = query.where(Certificate.issued_at < period.end)
    today = datetime.now(UTC).date()
    rows = []
    for certificate, company, uic in db.session.execute(query):
        revoked = certificate.revoked_at
        rows.append(
            (
                certificate.code,
                "" if certificate.anonymised_at else certificate.learner_name,
                certificate.course_title,
                certificate.course_version,
                period.local_date(certificate.issued_at),
                company or "",
                uic or "",
                str(certificate.status(today)),
                period.local_date(revoked) if revoked else None,
                certificate.revoked_reason or "",
            )
        )
    return rows


def evidence_files(sender: Any = None, *, period: Period, **kwargs: Any) -> list[EvidenceFile]:
    """Receiver of `get-evidence-files`: the certificate register as CSV."""
    return [
        EvidenceFile(
            "certificate-register.csv",
            lambda: csv_bytes(REGISTER_HEADERS, register_rows(period)),
            "Certificate register",
        )
    ]
