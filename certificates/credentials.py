"""Open Badges 3.0 credentials of issued certificates: the app's signing key, the issuer
profile, the credential of a certificate (built from its frozen snapshot), its VC-JWT, its
revocation status, and the check of a credential someone pastes on the verify page.

`certificates.openbadges` and `certificates.keys` are the pure parts; this module binds them
to the app (settings, BASE_URL, SECRET_KEY) and to the certificates in the database. Nothing
here writes to the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app
from sqlalchemy import select

from certificates import keys, openbadges
from certificates.models import Certificate, Status
from certificates.services import Verification, normalise_code, verification
from lms.extensions import db
from lms.models import utcnow

ISSUER_NAME = "ICT Cluster Burgas"
ISSUER_ADDRESS = {
    "addressCountry": "Bulgaria",
    "addressCountryCode": "BG",
    "addressRegion": "Burgas",
    "addressLocality": "Burgas",
}
KEY_FILE_NAME = "certificates-ed25519.pem"
#: The `type` of the proof entry in a JSON credential that carries its VC-JWT (the form used by
#: several wallets); the JWT is the signature, the JSON beside it is only a convenience.
JWT_PROOF_TYPE = "JwtProof2020"
#: Pasted or uploaded credentials larger than this are refused before parsing.
MAX_CREDENTIAL_BYTES = 256 * 1024
_EXTENSION = "certificates_signing_key"
_KEY_LOCK = threading.Lock()
#: The credential id is derived from the certificate code alone (not from BASE_URL), so it
#: stays the same if the site moves.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ictcluster.bg/greening-up/certificates")


# --- the key --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    key: Ed25519PrivateKey
    kid: str

    @property
    def public_jwk(self) -> dict:
        return keys.public_jwk(self.key, self.kid)


def key_path(app: Flask) -> Path:
    configured = (app.config.get("CERTIFICATES_KEY_FILE") or "").strip()
    return Path(configured) if configured else Path(app.instance_path) / KEY_FILE_NAME


def signing_key(app: Flask | None = None) -> SigningKey:
    """The app's Ed25519 key: the configured PEM, else the key file (created at first use,
    mode 0600). Loaded once per app and kept in ``app.extensions``."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get(_EXTENSION)
    if cached is not None:
        return cached
    with _KEY_LOCK:
        cached = app.extensions.get(_EXTENSION)
        if cached is None:
            key = keys.load_signing_key(key_path(app), app.config.get("CERTIFICATES_SIGNING_KEY"))
            cached = SigningKey(key, key_id(app, key))
            app.extensions[_EXTENSION] = cached
    return cached


def key_id(app: Flask, key: Ed25519PrivateKey) -> str:
    """The JWT ``kid``: a URI that dereferences to the JWK (Open Badges 3.0 section 8.2.3),
    i.e. the published key set with the key's RFC 7638 thumbprint as fragment."""
    return f"{_base(app)}/certificates/issuer/jwks.json#{keys.kid_for(key)}"


def jwks() -> dict:
    """The public key set (never a private part)."""
    return {"keys": [signing_key().public_jwk]}


# --- addresses and the issuer ---------------------------------------------------------------


def _base(app: Flask | None = None) -> str:
    return (app or current_app).config["BASE_URL"].rstrip("/")


def issuer_id() -> str:
    return f"{_base()}/certificates/issuer"


def jwks_url() -> str:
    return f"{_base()}/certificates/issuer/jwks.json"


def status_url(code: str) -> str:
    return f"{_base()}/certificates/status/{code}"


def credential_id(code: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, code)}"


def issuer() -> dict[str, Any]:
    """What `openbadges.build_credential` takes as issuer."""
    return {
        "id": issuer_id(),
        "name": ISSUER_NAME,
        "url": f"{_base()}/",
        "address": dict(ISSUER_ADDRESS),
    }


def issuer_profile() -> dict[str, Any]:
    """The issuer Profile published at its id (JSON-LD), with where its key is."""
    profile = openbadges._issuer_profile(issuer())
    return {
        "@context": [openbadges.VC_CONTEXT_V2, openbadges.OB_CONTEXT],
        **profile,
        "description": "Awarding body of the ICT Greening Up Initiative (Norway Grants "
        "2014-2021) certificates.",
        "publicKey": jwks_url(),
    }


# --- the credential of a certificate --------------------------------------------------------


def email_salt(code: str) -> str:
    """A per-certificate salt for the hashed email, derived from the code and SECRET_KEY so
    the credential is the same at every download."""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, b"certificate-email-salt:" + code.encode(), hashlib.sha256).hexdigest()[
        :32
    ]


def _valid_until(certificate: Certificate) -> datetime | None:
    """The end of the last valid day (the certificate is valid through ``valid_until``)."""
    if certificate.valid_until is None:
        return None
    return datetime.combine(certificate.valid_until + timedelta(days=1), time(0), tzinfo=UTC)


def _builder_snapshot(certificate: Certificate) -> dict[str, Any]:
    snap = certificate.snapshot or {}
    hours = snap.get("workload_hours")
    if isinstance(hours, Mapping):
        hours = hours.get("total")
    language = snap.get("course_language") or snap.get("language") or certificate.language
    outcomes = [text for text in snap.get("learning_outcomes") or [] if str(text).strip()]
    title = snap.get("course_title") or "—"
    return {
        # Replaced by nothing below when the certificate is anonymised (no name, no email).
        "learner_name": snap.get("learner_name") or "—",
        "course_title": title,
        "course_slug": snap.get("course_slug") or "course",
        "course_version": snap.get("course_version") or certificate.course_version,
        "learning_outcomes": outcomes or [title],
        "greencomp": [
            item
            for item in snap.get("greencomp") or []
            if isinstance(item, Mapping)
            and str(item.get("code")) in openbadges.GREENCOMP_COMPETENCES
        ],
        "workload_hours": hours if isinstance(hours, int | float) and hours >= 0 else 0,
        "issued_on": certificate.issued_at,
        "language": language if language in ("bg", "en") else "en",
    }


def credential_for(certificate: Certificate) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of a certificate: stable for a certificate (the
    same at every download) and saying nothing the certificate does not."""
    snap = _builder_snapshot(certificate)
    anonymised = certificate.anonymised_at is not None
    email = None
    if not anonymised and certificate.user is not None and certificate.user.email:
        email = certificate.user.email
    valid_until = _valid_until(certificate)
    valid_from = certificate.issued_at.astimezone(UTC)
    if valid_until is not None and valid_until <= valid_from:  # validity shorter than a day
        valid_until = valid_from + timedelta(seconds=1)
    credential = openbadges.build_credential(
        snap,
        credential_id=credential_id(certificate.code),
        issuer=issuer(),
        achievement_id=f"{_base()}/courses/{snap['course_slug']}#version-{snap['course_version']}",
        subject_email=email,
        salt=email_salt(certificate.code) if email else "",
        status_url=status_url(certificate.code),
        valid_from=valid_from,
        valid_until=valid_until,
    )
    if anonymised:
        subject = credential["credentialSubject"]
        subject["identifier"] = [
            entry for entry in subject["identifier"] if entry.get("identityType") != "name"
        ]
        if not subject["identifier"]:
            del subject["identifier"]
    return credential


def signed_credential(certificate: Certificate) -> str:
    """The credential as a compact VC-JWT signed with the app's key."""
    key = signing_key()
    return openbadges.sign_vc_jwt(credential_for(certificate), key.key, key.kid)


def credential_document(certificate: Certificate) -> dict[str, Any]:
    """The credential as JSON with its VC-JWT as proof (what the .json download holds)."""
    token = signed_credential(certificate)
    return {**credential_for(certificate), "proof": [{"type": JWT_PROOF_TYPE, "jwt": token}]}


def revocation_status(certificate: Certificate, today: date | None = None) -> dict[str, Any]:
    """What the credential's status URL answers: a 1EdTech revocation list for this one
    credential, plus the certificate's status in plain members."""
    result = verification(certificate, today)
    cred_id = credential_id(certificate.code)
    revoked = certificate.revoked_at is not None
    entry = {"id": cred_id, "revoked": True}
    if certificate.revoked_reason:
        entry["revocationReason"] = certificate.revoked_reason
    return {
        "id": status_url(certificate.code),
        "type": "RevocationList",
        "issuer": issuer_id(),
        "revokedCredentials": [entry] if revoked else [],
        "credential": cred_id,
        "status": result.status.value,
        "revoked": revoked,
        "revokedOn": certificate.revoked_at.date().isoformat() if revoked else None,
        "revocationReason": certificate.revoked_reason if revoked else None,
        "replaced": certificate.replaced_by_id is not None,
        "validUntil": certificate.valid_until.isoformat() if certificate.valid_until else None,
    }


# --- checking a credential someone gives us --------------------------------------------------


@dataclass
class CredentialCheck:
    """The outcome of `verify_credential`. ``message`` says in plain English what is wrong
    (the view shows its own translated text by ``problem``)."""

    problem: str | None = None  # None when the credential is genuine and ours
    message: str = ""
    signature_ok: bool = False
    issued_by_us: bool = False
    certificate: Certificate | None = None
    status: Status | None = None
    credential: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None and self.status is Status.VALID

    def verification(self) -> Verification | None:
        if self.certificate is None or self.status is None:
            return None
        return Verification(self.certificate, self.status)


def _extract_token(text: str) -> tuple[str | None, dict | None, str | None]:
    """(token, JSON credential beside it or None, problem)."""
    text = text.strip().lstrip("\ufeff")
    if not text:
        return None, None, "empty"
    if not text.startswith(("{", "[", '"')):
        return "".join(text.split()), None, None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, None, "unreadable"
    if isinstance(data, str):
        return "".join(data.split()), None, None
    if not isinstance(data, dict):
        return None, None, "unreadable"
    candidates: list[Any] = [data.get("jwt")]
    proofs = data.get("proof")
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if isinstance(proof, Mapping):
            candidates.append(proof.get("jwt"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.count(".") == 2:
            body = {name: value for name, value in data.items() if name not in ("proof", "jwt")}
            return "".join(candidate.split()), body or None, None
    return None, None, "unsigned"


def _not_before(token: str) -> datetime | None:
    """The token's own nbf, read without trusting it: signature and claims are then checked
    as of that moment, and validity in time is decided by the certificate's status."""
    try:
        payload = json.loads(keys.b64url_decode(token.split(".")[1]))
        nbf = payload.get("nbf")
        if isinstance(nbf, int) and not isinstance(nbf, bool):
            return datetime.fromtimestamp(nbf, UTC)
    except (ValueError, IndexError, AttributeError, OverflowError, OSError, RecursionError):
        return None
    return None


def _certificate_for(credential: Mapping[str, Any]) -> Certificate | None:
    status = credential.get("credentialStatus")
    url = status.get("id") if isinstance(status, Mapping) else None
    if not isinstance(url, str) or "/certificates/status/" not in url:
        return None
    code = normalise_code(url.rsplit("/", 1)[-1])
    if code is None or credential.get("id") != credential_id(code):
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def verify_credential(text: str | bytes | None, today: date | None = None) -> CredentialCheck:
    """Check a compact VC-JWT, or a JSON credential carrying one (``proof[].jwt`` or
    ``jwt``): signed with our key, consistent, and of which certificate, with that
    certificate's current status. Never raises for bad input."""
    try:
        if isinstance(text, bytes):
            if len(text) > MAX_CREDENTIAL_BYTES:
                return CredentialCheck("too_large", "the credential is too large")
            text = text.decode("utf-8")
        if text is None:
            text = ""
        if len(text) > MAX_CREDENTIAL_BYTES:
            return CredentialCheck("too_large", "the credential is too large")
        token, body, problem = _extract_token(text)
        if problem is not None or token is None:
            messages = {
                "empty": "no credential was given",
                "unreadable": "this is neither a VC-JWT nor a JSON credential",
                "unsigned": "the JSON credential carries no VC-JWT to check",
            }
            return CredentialCheck(problem or "unreadable", messages[problem or "unreadable"])
        key = signing_key()
        try:
            credential = openbadges.verify_vc_jwt(token, [key.public_jwk], now=_not_before(token))
        except openbadges.CredentialInvalid as invalid:
            message = str(invalid)
            problem = "not_ours" if "unknown key" in message else "invalid"
            if "signature does not verify" in message:
                problem = "tampered"
            return CredentialCheck(problem, message)
        check = CredentialCheck(
            signature_ok=True,
            issued_by_us=True,
            credential=credential,
            message="signature verified",
        )
        if body is not None and body != credential:
            check.problem = "mismatch"
            check.message = "the JSON credential differs from the one its VC-JWT signs"
            return check
        certificate = _certificate_for(credential)
        if certificate is None:
            check.problem = "unknown"
            check.message = "no certificate in the register matches this credential"
            return check
        check.certificate = certificate
        check.status = certificate.status(today or utcnow().date())
        return check
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError) as error:
        return CredentialCheck("unreadable", f"the credential cannot be read: {error}")
