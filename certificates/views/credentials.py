"""Open Badges 3.0 endpoints at stable URLs: the issuer profile and its public key (public),
the revocation status of a credential (public, throttled like verification), and the
credential of a certificate for its learner and the cluster admin (.jwt and .json)."""

from __future__ import annotations

import json

from flask import Response, abort, make_response, render_template
from flask_login import current_user, login_required

from certificates import credentials, services
from certificates.models import Certificate
from certificates.views import bp
from certificates.views.public import certificate_or_answer
from lms.extensions import db

#: Where the issuer profile and the key set may be cached (a key change is rare and planned).
PUBLIC_CACHE = "public, max-age=3600"


def _json(data: object, mimetype: str, cache: str = "no-store") -> Response:
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n",
        mimetype=mimetype,
    )
    response.headers["Cache-Control"] = cache
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/certificates/issuer")
def issuer():
    return _json(credentials.issuer_profile(), "application/ld+json", PUBLIC_CACHE)


@bp.route("/certificates/issuer/jwks.json")
def jwks():
    return _json(credentials.jwks(), "application/jwk-set+json", PUBLIC_CACHE)


@bp.route("/certificates/status/<path:code>")
def credential_status(code: str):
    """The credentialStatus URL of a credential: answers with the certificate's status now."""
    certificate = certificate_or_answer(code, as_json=True)
    if not isinstance(certificate, Certificate):
        return certificate
    return _json(credentials.revocation_status(certificate), "application/json")


def _downloadable(certificate_id: int) -> Certificate | Response:
    """The learner's own certificate (or any, for the cluster admin); 404 for everyone else;
    410 with a page saying why for a revoked one (its credential is no longer offered)."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not (
        certificate.user_id == current_user.id or current_user.has_role("admin")
    ):
        abort(404)
    if certificate.revoked_at is not None or certificate.anonymised_at is not None:
        # Revoked: no longer offered. Erased learner: a credential must name its holder.
        response = make_response(
            render_template(
                "certificates/verify_revoked_download.html",
                certificate=certificate,
                v=services.verification(certificate).as_dict(),
            ),
            410,
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return certificate


def _attachment(response: Response, certificate: Certificate, extension: str) -> Response:
    response.headers["Content-Disposition"] = (
        f'attachment; filename="certificate-{certificate.code}.{extension}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/certificates/<int:certificate_id>/credential.jwt")
@login_required
def credential_jwt(certificate_id: int):
    certificate = _downloadable(certificate_id)
    if isinstance(certificate, Response):
        return certificate
    token = credentials.signed_credential(certificate)
    return _attachment(Response(token, mimetype="application/vc+jwt"), certificate, "jwt")


@bp.route("/certificates/<int:certificate_id>/credential.json")
@login_required
def credential_json(certificate_id: int):
    certificate = _downloadable(certificate_id)
    if isinstance(certificate, Response):
        return certificate
    response = _json(credentials.credential_document(certificate), "application/ld+json")
    del response.headers["Access-Control-Allow-Origin"]
    return _attachment(response, certificate, "json")
