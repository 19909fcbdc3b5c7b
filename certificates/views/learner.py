"""Learners' certificates: "My certificates" and the download of one certificate's PDF.

A download is allowed to the people in `certificates.access.can_view` (the learner, the
company's coordinators, the course's trainers, the admin); anyone else gets 404. A revoked
certificate is refused with 410 and a page saying why, except to the admin, who may still
download it for the record.
"""

from __future__ import annotations

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select

from certificates import access, services
from certificates.models import Certificate, CertificateDocument, Status
from certificates.views import bp
from lms.database import write_intent
from lms.extensions import db
from lms.models import utcnow
from lms.text import slugify

PDF_MIMETYPE = "application/pdf"


# --- template helpers (global: the plugin's partials appear on other plugins' pages) -------


@bp.app_template_global("certificate_status")
def certificate_status(certificate: Certificate) -> Status:
    """The status today (UTC date, as on the public verification page)."""
    return certificate.status(utcnow().date())


@bp.app_template_global("certificate_status_label")
def certificate_status_label(status: Status | str) -> str:
    labels = {
        Status.VALID: _("Valid"),
        Status.EXPIRED: _("Expired"),
        Status.REVOKED: _("Revoked"),
    }
    return labels.get(Status(status), str(status))


@bp.app_template_global("certificate_badge")
def certificate_badge(certificate: Certificate) -> Markup:
    """The status as a badge; the word is there for everyone, the colour only helps."""
    status = certificate_status(certificate)
    css = {Status.VALID: "badge-ok", Status.EXPIRED: "badge-warn"}.get(status, "badge-revoked")
    label = escape(certificate_status_label(status))
    return Markup(f'<span class="badge {css} certificate-status">{label}</span>')  # noqa: S704


@bp.app_template_global("certificate_verify_url")
def certificate_verify_url(code: str, external: bool = False) -> str:
    """The public verification page of `code` (the public views may not be installed yet:
    then the address printed on the PDF)."""
    if "certificates.verify" in current_app.view_functions:
        return url_for("certificates.verify", code=code, _external=external)
    return services.verify_url(code)


@bp.app_template_global("certificate_credential_url")
def certificate_credential_url(certificate: Certificate) -> str:
    """The Open Badges 3.0 credential (VC-JWT) of the certificate."""
    if "certificates.credential_jwt" in current_app.view_functions:
        return url_for("certificates.credential_jwt", certificate_id=certificate.id)
    return f"{request.script_root}/certificates/{certificate.id}/credential.jwt"


def download_name(certificate: Certificate) -> str:
    """A clean ASCII file name: certificate-<course>-<learner>-<code start>.pdf."""
    parts = [
        "certificate",
        slugify(certificate.course_title, 60),
        slugify(certificate.learner_name, 60),
        certificate.code[:8].lower(),
    ]
    return "-".join(part for part in parts if part) + ".pdf"


# --- pages --------------------------------------------------------------------------------


@bp.route("/certificates/my")
@login_required
def mine():
    certificates = db.session.scalars(
        select(Certificate)
        .where(Certificate.user_id == current_user.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    ).all()
    return render_template("certificates/mine.html", certificates=certificates)


# The certificate with its stored PDF in one statement (the bytes are read only if present).
_CERTIFICATE_AND_PDF = (
    select(Certificate, CertificateDocument.pdf)
    .outerjoin(CertificateDocument, CertificateDocument.certificate_id == Certificate.id)
    .where(Certificate.id == bindparam("certificate_id"))
)


@bp.route("/certificates/<int:certificate_id>.pdf")
@login_required
def download(certificate_id: int):
    found = db.session.execute(_CERTIFICATE_AND_PDF, {"certificate_id": certificate_id}).first()
    if found is None or not access.can_view(current_user, found[0]):
        abort(404)
    certificate, data = found
    if certificate.revoked_at is not None and not current_user.is_admin:
        message = _(
            "This certificate was revoked on %(date)s, so it can no longer be downloaded. "
            "Reason: %(reason)s",
            date=certificate.revoked_at.strftime("%d.%m.%Y"),
            reason=certificate.revoked_reason or "—",
        )
        replacement = certificate.replaced_by
        if replacement is not None and access.can_view(current_user, replacement):
            message += " " + _(
                "A new certificate has replaced it: please download the new one instead."
            )
        page = render_template(
            "errors/error.html",
            code=410,
            title=_("Certificate revoked"),
            message=message,
            layout="base.html",
        )
        return page, 410
    if certificate.anonymised_at is not None:
        page = render_template(
            "errors/error.html",
            code=410,
            title=_("Document no longer available"),
            message=_(
                "The learner's personal data was erased, so this certificate's document is no "
                "longer kept. The certificate itself can still be verified by its code."
            ),
            layout="base.html",
        )
        return page, 410
    if data is None:
        # Issuance could not render it: render it now, once, in a write transaction.
        db.session.rollback()
        with write_intent():
            certificate = db.session.get(Certificate, certificate_id)
            data = services.document_bytes(certificate)
            db.session.commit()
    if data is None:
        abort(503)
    response = Response(data, mimetype=PDF_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{download_name(certificate)}"'
    response.headers["Cache-Control"] = "private, no-cache"
    if certificate.pdf_sha256:
        response.set_etag(certificate.pdf_sha256)
    return response.make_conditional(request)
