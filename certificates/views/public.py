"""Public certificate verification, no login: by code (HTML and JSON), by the hash of an
uploaded PDF, and of a pasted Open Badges credential.

Unknown and malformed codes get the same answer, and every miss is counted per client
address (in the database, so every worker sees it and X-Forwarded-For cannot reset it): after
CERTIFICATES_VERIFY_MISSES misses within CERTIFICATES_VERIFY_WINDOW_SECONDS the client gets
429 for hits too, so codes cannot be guessed.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Response,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from certificates import credentials, services
from certificates.models import Certificate
from certificates.views import bp
from lms.database import is_unavailable, write_intent
from lms.extensions import db
from lms.forms import Form
from lms.models import ThrottleEvent, utcnow
from lms.security import client_address
from lms.services import throttle_count, throttle_record

log = logging.getLogger(__name__)

THROTTLE_SCOPE = "certificate-verify"
MAX_PDF_BYTES = 10 * 2**20
PDF_MAGIC = b"%PDF-"


class PdfForm(Form):
    file = FileField(
        _l("The certificate's PDF file"),
        validators=[FileRequired(_l("Choose the PDF file of the certificate."))],
        render_kw={"accept": "application/pdf,.pdf"},
    )


class CredentialForm(Form):
    credential = TextAreaField(
        _l("Credential (VC-JWT or JSON)"),
        validators=[Optional(), Length(max=credentials.MAX_CREDENTIAL_BYTES)],
    )
    file = FileField(
        _l("Or a credential file (.jwt or .json)"),
        render_kw={"accept": ".jwt,.json,application/json,application/vc+jwt,text/plain"},
    )


# --- throttling -----------------------------------------------------------------------------


def _window() -> int:
    return int(current_app.config["CERTIFICATES_VERIFY_WINDOW_SECONDS"])


def retry_after() -> int | None:
    """Seconds until this client may verify again, or None when it is not throttled."""
    key, window = client_address(), _window()
    if throttle_count(THROTTLE_SCOPE, key, window) < int(
        current_app.config["CERTIFICATES_VERIFY_MISSES"]
    ):
        return None
    now = utcnow()
    oldest: datetime | None = db.session.scalar(
        select(func.min(ThrottleEvent.at)).where(
            ThrottleEvent.scope == THROTTLE_SCOPE,
            ThrottleEvent.key == key[:300],
            ThrottleEvent.at >= now - timedelta(seconds=window),
        )
    )
    if oldest is None:
        return window
    return max(1, math.ceil(window - (now - oldest).total_seconds()))


def record_miss() -> None:
    """Count a miss for this client, in its own write transaction (a GET reads in a deferred
    one). A database that cannot be written (read-only, locked) does not stop verification."""
    db.session.rollback()
    try:
        with write_intent(True):
            throttle_record(THROTTLE_SCOPE, client_address(), _window())
            db.session.commit()
    except DBAPIError as error:
        db.session.rollback()
        if not is_unavailable(error):
            raise
        log.warning("could not record a verification miss: %s", error.orig)


def _private(response: Response) -> Response:
    """Status may change at any moment (revocation), and names are not for search engines."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def throttled_html(seconds: int) -> Response:
    minutes = max(1, math.ceil(seconds / 60))
    response = make_response(
        render_template("certificates/verify_throttled.html", minutes=minutes), 429
    )
    response.headers["Retry-After"] = str(seconds)
    return _private(response)


def throttled_json(seconds: int) -> Response:
    response = jsonify(
        error="too_many_requests",
        message=_(
            "Too many codes that match no certificate were tried from your address. "
            "Wait %(seconds)s seconds and try again.",
            seconds=seconds,
        ),
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return _private(response)


def not_found_html() -> Response:
    """The one answer for unknown and malformed codes (it never repeats the code)."""
    return _private(make_response(render_template("certificates/verify_not_found.html"), 404))


def not_found_json() -> Response:
    response = jsonify(
        error="not_found",
        message=_("No certificate has this code. Check the code on the certificate and try again."),
    )
    response.status_code = 404
    return _private(response)


def certificate_or_answer(code: str, *, as_json: bool = False) -> Certificate | Response:
    """The certificate of `code`, or the answer to give instead: 429 while this client is
    throttled, the same not-found answer for unknown and malformed codes (counted as a miss)."""
    seconds = retry_after()
    if seconds is not None:
        return throttled_json(seconds) if as_json else throttled_html(seconds)
    certificate = services.find_by_code(code)
    if certificate is None:
        record_miss()
        return not_found_json() if as_json else not_found_html()
    return certificate


# --- pages ----------------------------------------------------------------------------------


def public_view(certificate: Certificate) -> dict[str, Any]:
    """What the public may know (Verification.as_dict), plus whether it was replaced."""
    data = services.verification(certificate).as_dict()
    data["replaced"] = certificate.replaced_by_id is not None
    return data


def _form_page(status: int = 200, **context: Any) -> Response:
    context.setdefault("pdf_form", PdfForm(formdata=None))
    context.setdefault("credential_form", CredentialForm(formdata=None))
    return _private(
        make_response(render_template("certificates/verify_form.html", **context), status)
    )


@bp.route("/verify")
def verify_form():
    """The verification page. Its code box submits here (GET ?code=), so a code typed by
    hand works without script."""
    text = request.args.get("code")
    if text is None or not text.strip():
        return _form_page(code_missing=text is not None)
    certificate = certificate_or_answer(text)
    if not isinstance(certificate, Certificate):
        return certificate
    return redirect(url_for("certificates.verify", code=certificate.code))


@bp.route("/verify/<path:code>")
def verify(code: str):
    certificate = certificate_or_answer(code)
    if not isinstance(certificate, Certificate):
        return certificate
    response = make_response(
        render_template(
            "certificates/verify.html",
            v=public_view(certificate),
            snapshot_language=certificate.language,
        )
    )
    json_url = url_for("certificates.verify_json", code=certificate.code)
    response.headers["Link"] = f'<{json_url}>; rel="alternate"; type="application/json"'
    return _private(response)


@bp.route("/verify/<path:code>.json")
def verify_json(code: str):
    certificate = certificate_or_answer(code, as_json=True)
    if not isinstance(certificate, Certificate):
        return certificate
    response = jsonify(public_view(certificate))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _private(response)


@bp.route("/verify/pdf", methods=["POST"])
def verify_pdf():
    """Which certificate an uploaded PDF is: its SHA-256 against the stored documents'."""
    form = PdfForm()
    seconds = retry_after()
    if seconds is not None:
        return throttled_html(seconds)
    if not form.validate_on_submit():
        return _form_page(400, pdf_form=form)
    data = form.file.data.read(MAX_PDF_BYTES + 1)
    error, status = None, 400
    if not data:
        error = _("The file is empty. Choose the certificate's PDF file.")
    elif len(data) > MAX_PDF_BYTES:
        error = _(
            "The file is larger than %(mb)s MB, so it is not one of our certificates.",
            mb=MAX_PDF_BYTES // 2**20,
        )
        status = 413
    elif not data.startswith(PDF_MAGIC):
        error = _("This file is not a PDF. Choose the certificate's PDF file.")
    if error:
        form.file.errors.append(error)
        return _form_page(status, pdf_form=form)
    certificate = services.find_by_hash(data)
    if certificate is None:
        record_miss()
    return _form_page(pdf_result={"match": public_view(certificate) if certificate else None})


@bp.route("/verify/credential", methods=["POST"])
def verify_credential():
    """Check a pasted or uploaded Open Badges credential (VC-JWT or JSON)."""
    form = CredentialForm()
    if not form.validate_on_submit():
        return _form_page(400, credential_form=form)
    text: str | bytes = form.credential.data or ""
    upload = form.file.data
    if not text.strip() and upload is not None and getattr(upload, "filename", ""):
        text = upload.read(credentials.MAX_CREDENTIAL_BYTES + 1)
    if not text or (isinstance(text, str) and not text.strip()):
        form.credential.errors.append(_("Paste the credential or choose its file."))
        return _form_page(400, credential_form=form)
    check = credentials.verify_credential(text)
    if check.problem == "too_large":
        form.credential.errors.append(
            _(
                "The credential is too large: at most %(kb)s kB.",
                kb=credentials.MAX_CREDENTIAL_BYTES // 1024,
            )
        )
        return _form_page(400, credential_form=form)
    found = check.certificate if check.signature_ok else None
    return _form_page(
        credential_result={"check": check, "v": public_view(found) if found is not None else None}
    )
