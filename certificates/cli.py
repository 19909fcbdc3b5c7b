"""`flask --app wsgi certificates ...`: issue missing certificates, verify and revoke by code.

Output is for operators, in English. Exit codes of `verify`: 0 valid, 1 expired or revoked,
2 unknown or malformed code (so scripts can tell them apart)."""

from __future__ import annotations

from dataclasses import dataclass

import click
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from certificates import services
from certificates.models import Certificate, Status
from courses.models import Course, Enrolment
from lms.extensions import db
from lms.models import User

EXIT_VALID = 0
EXIT_NOT_VALID = 1
EXIT_UNKNOWN = 2


@click.group("certificates", cls=AppGroup, help="Issue, verify and revoke certificates.")
def certificates_group() -> None:
    pass


@dataclass
class Failure:
    enrolment_id: int
    who: str
    reason: str


def _describe(enrolment_id: int) -> str:
    row = db.session.execute(
        select(User.email, Course.slug)
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.id == enrolment_id)
    ).first()
    return f"{row.email} in {row.slug}" if row else f"enrolment {enrolment_id}"


def _already_issued(enrolment: Enrolment) -> bool:
    version = enrolment.completed_version or enrolment.course.version
    return (
        db.session.scalar(
            select(Certificate.id).where(
                Certificate.user_id == enrolment.user_id,
                Certificate.course_id == enrolment.course_id,
                Certificate.course_version == version,
                Certificate.sequence == 0,
            )
        )
        is not None
    )


@certificates_group.command("issue-pending")
@click.option("--course", "slug", help="Only this course (its slug).")
def issue_pending_command(slug: str | None) -> None:
    """Issue the certificates of completions recorded before the plugin was enabled.

    Each certificate is committed on its own, so an interrupted run keeps what it issued and
    running the command again issues only what is still missing."""
    course_id = None
    if slug:
        course_id = db.session.scalar(select(Course.id).where(Course.slug == slug.strip()))
        if course_id is None:
            raise click.ClickException(f"No course {slug}.")
    completed = select(func.count(Enrolment.id)).where(Enrolment.completed_at.is_not(None))
    if course_id is not None:
        completed = completed.where(Enrolment.course_id == course_id)
    total = db.session.scalar(completed) or 0
    pending = [e.id for e in services.pending_enrolments(course_id)]
    db.session.rollback()  # end the read; each certificate gets its own transaction
    present = total - len(pending)
    issued = 0
    without_pdf: list[str] = []
    failures: list[Failure] = []
    with click.progressbar(pending, label="Issuing certificates", show_pos=True) as bar:
        for enrolment_id in bar:
            try:
                enrolment = db.session.get(Enrolment, enrolment_id)
                if enrolment is None or enrolment.completed_at is None:
                    db.session.rollback()
                    continue  # deleted or reset since the list was made: nothing is owed
                if _already_issued(enrolment):  # issued meanwhile (a request, another run)
                    db.session.rollback()
                    present += 1
                    continue
                certificate = services.issue_certificate(enrolment)
                code = certificate.code
                db.session.commit()  # renders and stores the PDF once committed
                has_document = certificate.document is not None
            except services.CertificateError as error:
                db.session.rollback()
                failures.append(Failure(enrolment_id, _describe(enrolment_id), str(error.message)))
                continue
            except SQLAlchemyError as error:
                db.session.rollback()
                reason = str(getattr(error, "orig", None) or error).splitlines()[0]
                failures.append(Failure(enrolment_id, _describe(enrolment_id), reason))
                continue
            issued += 1
            if not has_document:
                without_pdf.append(code)
    scope = f" in {slug}" if slug else ""
    click.echo(
        f"{issued} certificate(s) issued, {present} already present, {len(failures)} failed{scope}."
    )
    for code in without_pdf:
        click.echo(
            f"warning: the PDF of {code} could not be rendered (see the log); it will be "
            "rendered on its first download.",
            err=True,
        )
    for failure in failures:
        click.echo(
            f"failed: enrolment {failure.enrolment_id} ({failure.who}): {failure.reason}", err=True
        )
    if failures:
        click.get_current_context().exit(1)


def _find(code: str) -> Certificate:
    """The certificate with this code, else exit 2 with the reason."""
    if services.normalise_code(code) is None:
        click.echo(f"{code!r} is not a certificate code (26 letters A-Z and digits 2-7).", err=True)
        click.get_current_context().exit(EXIT_UNKNOWN)
    certificate = services.find_by_code(code)
    if certificate is None:
        click.echo(f"No certificate has the code {services.normalise_code(code)}.", err=True)
        click.get_current_context().exit(EXIT_UNKNOWN)
    return certificate


@certificates_group.command("verify")
@click.argument("code")
def verify_command(code: str) -> None:
    """Show a certificate's status and facts. Exit code: 0 valid, 1 expired or revoked,
    2 unknown or malformed code."""
    certificate = _find(code)
    facts = services.verification(certificate).as_dict()
    status = Status(facts["status"])
    learner = facts["learner_name"] or "(erased at the learner's request)"
    rows = [
        ("Status", status.value.upper()),
        ("Code", facts["code"]),
        ("Learner", learner),
        ("Course", f"{facts['course_title']} (version {facts['course_version']})"),
        ("Issued on", facts["issued_on"]),
        # The column the status is computed from (the snapshot holds the same date).
        ("Valid until", str(certificate.valid_until or "no expiry")),
    ]
    if certificate.revoked_at is not None:
        rows.append(("Revoked on", facts["revoked_on"]))
        rows.append(("Reason", facts["revocation_reason"] or ""))
    if certificate.replaced_by is not None:
        rows.append(("Replaced by", certificate.replaced_by.code))
    rows.append(("PDF SHA-256", facts["pdf_sha256"] or "not rendered yet"))
    rows.append(("Verify at", services.verify_url(certificate.code)))
    for label, value in rows:
        click.echo(f"{label + ':':13}{value}")
    click.get_current_context().exit(EXIT_VALID if status is Status.VALID else EXIT_NOT_VALID)


@certificates_group.command("revoke")
@click.argument("code")
@click.option("--reason", required=True, help="Why the certificate is revoked (shown publicly).")
def revoke_command(code: str, reason: str) -> None:
    """Revoke a certificate. The reason is shown on its public verification page."""
    if not reason.strip():
        raise click.ClickException("Give the reason for revoking the certificate (--reason).")
    certificate = _find(code)
    try:
        services.revoke(certificate, reason, by=None)
    except services.CertificateError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    who = certificate.learner_name or "an erased learner"
    click.echo(f"Revoked {certificate.code} ({who}, {certificate.course_title}).")
