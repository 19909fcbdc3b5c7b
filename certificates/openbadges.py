"""Open Badges 3.0 credentials for course certificates, signed as VC-JWT with Ed25519.

Pure functions: no Flask, no database. The certificates service freezes what a certificate
says into a *snapshot* when it is issued, and this module turns the snapshot into an
``OpenBadgeCredential`` (1EdTech Open Badges 3.0, a W3C Verifiable Credential in the VC Data
Model 2.0 form), signs it as a compact JWS ("VC-JWT", Open Badges 3.0 section 8.2) and
verifies such tokens.

Snapshot keys (a plain dict, JSON-serialisable):

``learner_name``        str, the learner's name as printed on the certificate
``course_title``        str, the course title in the course's language
``course_slug``         str, the course's stable short name (becomes ``humanCode``)
``course_version``      int or str, the published course version the learner completed
``learning_outcomes``   list of str (at least one), what the learner can do
``greencomp``           list of ``{"code": "2.1", "name": ...}``: GreenComp competences the
                        course develops; the code must be one of the 12 GreenComp codes,
                        the alignment uses the framework's own English name for it
``workload_hours``      int or float >= 0, notional workload in hours
``issued_on``           datetime (aware), date, or ISO 8601 text: when it was awarded
``language``            BCP 47 code of the course, e.g. "bg" or "en"

Where things go in the credential (field names from the Open Badges 3.0 data model):

* the learner: ``credentialSubject.identifier`` holds a salted SHA-256 ``IdentityObject`` of
  the email (``identityType`` "emailAddress", ``identityHash`` "sha256$<hex>", ``hashed``
  true, ``salt``) so the email never appears in clear, and an unhashed ``name`` entry;
  ``credentialSubject.id`` is an opaque ``urn:uuid:`` derived from the credential id (the
  VC-JWT ``sub`` claim must equal it);
* the course: ``credentialSubject.achievement`` with ``achievementType`` "Course"
  ("Represents a course completion"), ``name`` = course title, ``criteria.narrative`` = the
  learning outcomes (Markdown list), ``inLanguage``, ``version``, ``humanCode``;
* workload: in the achievement and credential ``description`` ("Notional workload: N hours").
  ``creditsAvailable`` is *not* used: the specification defines it as credit hours
  ("semester or quarter credit hours"), which notional workload hours are not;
* competences: one ``Alignment`` per GreenComp competence (``targetName`` "GreenComp 2.1
  Systems thinking", ``targetCode`` "2.1", ``targetFramework`` "GreenComp (JRC 2022)",
  ``targetUrl`` the JRC publication page, ``targetType`` "ext:GreenCompCompetence": the
  specification's own target types are CASE/CTDL registry items, which GreenComp is not, and
  the enumeration is extended with the "ext:" prefix as the specification prescribes);
* revocation: ``credentialStatus`` of type "1EdTechRevocationList" pointing to the status URL;
* ``credentialSchema`` names the 1EdTech JSON Schema with type
  "1EdTechJsonSchemaValidator2019"; ``validFrom``/``validUntil``/``awardedDate`` are UTC
  ``YYYY-MM-DDThh:mm:ssZ`` (whole seconds, so ``nbf``/``exp`` equal them exactly).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from numbers import Real
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificates.keys import b64url_decode, b64url_encode, public_key_from_jwk
from courses.models import GREENCOMP

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_ACHIEVEMENT_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
CREDENTIAL_SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"
CREDENTIAL_STATUS_TYPE = "1EdTechRevocationList"
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")
ACHIEVEMENT_TYPE = "Course"

GREENCOMP_FRAMEWORK = "GreenComp (JRC 2022)"
GREENCOMP_URL = "https://publications.jrc.ec.europa.eu/repository/handle/JRC128040"
GREENCOMP_TARGET_TYPE = "ext:GreenCompCompetence"
GREENCOMP_AREAS = {
    "1": "Embodying sustainability values",
    "2": "Embracing complexity in sustainability",
    "3": "Envisioning sustainable futures",
    "4": "Acting for sustainability",
}
# The framework's own English names (JRC 2022), kept once in the courses plugin.
GREENCOMP_COMPETENCES = GREENCOMP

JWS_ALGORITHM = "EdDSA"
JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "iat", "exp")
_ALLOWED_JOSE_HEADERS = frozenset({"alg", "kid", "typ"})

# Open Badges 3.0 LanguageCode pattern (the schema's `inLanguage`).
_LANGUAGE = re.compile(r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")

_TEXTS = {
    "en": {
        "description": "Completion of the course “{title}” (version {version}). "
        "Notional workload: {hours} hours.",
        "criteria": "The learner completed every required part of the course and can:",
    },
    "bg": {
        "description": "Завършен курс „{title}“ (версия {version}). "
        "Учебна натовареност: {hours} часа.",
        "criteria": "Обучаемият е завършил всички задължителни части на курса и може:",
    },
}


class CredentialInvalid(ValueError):
    """A VC-JWT that must not be trusted: malformed, wrongly signed, signed with an unknown or
    unaccepted key or algorithm, inconsistent with its credential, not yet valid or expired.
    The message says which, in plain words."""


# --- building -------------------------------------------------------------------------------


def hash_email(email: str, salt: str) -> str:
    """The Open Badges IdentityHash of an email: "sha256$" + hex SHA-256 of the normalised
    email (trimmed, lower-case, as the platform stores emails) followed by the salt."""
    normalised = email.strip().lower()
    return "sha256$" + hashlib.sha256((normalised + salt).encode("utf-8")).hexdigest()


def subject_id_for(credential_id: str) -> str:
    """The opaque, per-credential id of the learner (``credentialSubject.id``, JWT ``sub``):
    it identifies nobody outside this credential and links no two credentials together."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, credential_id + "#subject"))


def build_credential(
    snapshot: Mapping[str, Any],
    *,
    credential_id: str,
    issuer: Mapping[str, Any],
    achievement_id: str,
    subject_email: str | None,
    salt: str,
    status_url: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> dict:
    """The unsigned OpenBadgeCredential for a certificate snapshot (see the module docstring
    for the snapshot keys and the mapping).

    `issuer` is ``{"id", "name", "url"}`` plus optional ``"email"`` and ``"address"`` (a dict
    of Open Badges Address fields, e.g. ``addressCountryCode`` "BG", ``addressRegion``).
    `subject_email` may be None (then only the name identifies the learner); with an email a
    non-empty `salt` is required. Datetimes must be timezone-aware. Raises ValueError for a
    snapshot or argument that cannot make a valid credential."""
    snap = _check_snapshot(snapshot)
    for name, value in (
        ("credential_id", credential_id),
        ("achievement_id", achievement_id),
        ("status_url", status_url),
    ):
        _require_id(name, value)
    profile = _issuer_profile(issuer)
    start = _utc(valid_from, "valid_from")
    end = _utc(valid_until, "valid_until") if valid_until is not None else None
    if end is not None and end <= start:
        raise ValueError("valid_until must be later than valid_from")

    texts = _TEXTS.get(snap["language"].split("-")[0], _TEXTS["en"])
    description = texts["description"].format(
        title=snap["course_title"],
        version=snap["course_version"],
        hours=_hours(snap["workload_hours"], snap["language"]),
    )
    narrative = "\n".join(
        [texts["criteria"], ""] + [f"- {outcome}" for outcome in snap["learning_outcomes"]]
    )

    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": snap["course_title"],
        "description": description,
        "criteria": {"narrative": narrative},
        "humanCode": snap["course_slug"],
        "version": snap["course_version"],
        "inLanguage": snap["language"],
    }
    alignment = [_greencomp_alignment(code) for code in snap["greencomp_codes"]]
    if alignment:
        achievement["alignment"] = alignment

    identifiers: list[dict[str, Any]] = []
    if subject_email is not None:
        _require_text("subject_email", subject_email)
        _require_text("salt", salt)
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": hash_email(subject_email, salt),
                "salt": salt,
            }
        )
    identifiers.append(
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": snap["learner_name"],
        }
    )

    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2, OB_CONTEXT],
        "id": credential_id,
        "type": list(CREDENTIAL_TYPES),
        "name": snap["course_title"],
        "description": description,
        "issuer": profile,
        "validFrom": _iso(start),
    }
    if end is not None:
        credential["validUntil"] = _iso(end)
    credential.update(
        {
            "awardedDate": _iso(snap["issued_on"]),
            "credentialSubject": {
                "id": subject_id_for(credential_id),
                "type": ["AchievementSubject"],
                "identifier": identifiers,
                "achievement": achievement,
            },
            "credentialSchema": [
                {"id": OB_ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": CREDENTIAL_SCHEMA_TYPE}
            ],
            "credentialStatus": {"id": status_url, "type": CREDENTIAL_STATUS_TYPE},
        }
    )
    return credential


def recipient_matches(credential: Mapping[str, Any], email: str) -> bool:
    """Whether `email` is the learner's (Open Badges 3.0 section 9.3, "Verify the Recipient
    Using an Identifier"), without the credential ever holding the email in clear."""
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return False
    for entry in subject.get("identifier") or ():
        if not isinstance(entry, Mapping) or entry.get("identityType") != "emailAddress":
            continue
        if entry.get("hashed") is True:
            expected = hash_email(email, str(entry.get("salt", "")))
            if str(entry.get("identityHash", "")).lower() == expected:
                return True
        elif entry.get("identityHash") == email.strip().lower():
            return True
    return False


# --- signing and verifying ------------------------------------------------------------------


def sign_compact_jws(header: Mapping[str, Any], payload: bytes, key: Ed25519PrivateKey) -> str:
    """RFC 7515 compact serialisation: BASE64URL(header) "." BASE64URL(payload) "."
    BASE64URL(Ed25519 signature over the first two parts). The header must say EdDSA."""
    if header.get("alg") != JWS_ALGORITHM:
        raise ValueError("only EdDSA (Ed25519) signatures are made here")
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError("an Ed25519 private key is needed to sign")
    signing_input = b64url_encode(_json_bytes(header)) + "." + b64url_encode(payload)
    signature = key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def jwt_claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The registered JWT claims that Open Badges 3.0 section 8.2.4 derives from a
    credential: iss = issuer id, jti = id, sub = credentialSubject.id (when it has one),
    nbf = validFrom, exp = validUntil (when set); iat = validFrom too."""
    claims: dict[str, Any] = {
        "iss": _issuer_id(credential),
        "jti": _require_id("credential id", credential.get("id")),
    }
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and subject.get("id") is not None:
        claims["sub"] = _require_id("credentialSubject.id", subject["id"])
    not_before = _numeric_date(_parse_iso(credential.get("validFrom"), "validFrom"))
    claims["nbf"] = not_before
    claims["iat"] = not_before
    if credential.get("validUntil") is not None:
        claims["exp"] = _numeric_date(_parse_iso(credential["validUntil"], "validUntil"))
    return claims


def sign_vc_jwt(credential: Mapping[str, Any], key: Ed25519PrivateKey, kid: str) -> str:
    """The credential as a VC-JWT (Open Badges 3.0 section 8.2): JOSE header
    ``{"alg": "EdDSA", "typ": "JWT", "kid": kid}``, payload = the credential's own members
    plus the JWT claims of `jwt_claims`, signed with the Ed25519 `key`."""
    _require_id("kid", kid)
    clashing = [name for name in JWT_CLAIMS if name in credential]
    if clashing:
        raise ValueError(f"the credential already has JWT claim names: {', '.join(clashing)}")
    payload = {**credential, **jwt_claims(credential)}
    header = {"alg": JWS_ALGORITHM, "typ": "JWT", "kid": kid}
    return sign_compact_jws(header, _json_bytes(payload), key)


def verify_vc_jwt(
    token: str,
    jwks: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    now: datetime | None = None,
    leeway: timedelta = timedelta(0),
) -> dict:
    """Verify a VC-JWT made by `sign_vc_jwt` and return its credential (the payload without
    the JWT claims). Raises CredentialInvalid when anything is wrong:

    * the token is not three strict base64url parts of JSON objects (duplicate member names
      refused);
    * the header has an algorithm other than EdDSA (so "none", HS256, RS256... are refused
      before any key is looked at), a header other than alg/kid/typ (no embedded ``jwk``, no
      ``crit``), a ``typ`` other than "JWT", or no ``kid``;
    * no key of `jwks` (a list of JWKs, or a JWK Set ``{"keys": [...]}``) has that kid, or that
      key is not a public OKP/Ed25519 key, or the signature does not verify with it;
    * the claims do not match the credential as section 8.2.6.1 requires (iss = issuer id,
      jti = id, sub = credentialSubject.id, nbf = validFrom, exp = validUntil);
    * it is not yet valid (now < nbf - leeway) or expired (now >= exp + leeway).
    """
    if not isinstance(token, str):
        raise CredentialInvalid("the token is not text")
    parts = token.split(".")
    if len(parts) != 3:
        raise CredentialInvalid("the token is not a compact JWS (three dot-separated parts)")
    header_b64, payload_b64, signature_b64 = parts

    header = _decode_json_part(header_b64, "JOSE header")
    unknown = set(header) - _ALLOWED_JOSE_HEADERS
    if unknown:
        raise CredentialInvalid(f"header parameters not accepted: {', '.join(sorted(unknown))}")
    if header.get("alg") != JWS_ALGORITHM:
        raise CredentialInvalid(
            f"signature algorithm {header.get('alg')!r} is not accepted; only EdDSA is"
        )
    if "typ" in header and header["typ"] != "JWT":
        raise CredentialInvalid(f"token type {header['typ']!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise CredentialInvalid("the header names no signing key (kid)")

    jwk = _find_key(jwks, kid)
    try:
        public_key = public_key_from_jwk(dict(jwk))
    except ValueError as exc:
        raise CredentialInvalid(f"the key {kid!r} cannot verify EdDSA signatures: {exc}") from None
    try:
        signature = b64url_decode(signature_b64)
    except ValueError:
        raise CredentialInvalid("the signature part is not base64url") from None
    try:
        public_key.verify(signature, f"{header_b64}.{payload_b64}".encode("ascii"))
    except InvalidSignature:
        raise CredentialInvalid("the signature does not verify: the token was altered") from None

    payload = _decode_json_part(payload_b64, "payload")
    credential = {name: value for name, value in payload.items() if name not in JWT_CLAIMS}
    _check_claims(payload, credential)

    moment = _utc(now, "now") if now is not None else datetime.now(UTC)
    if moment < datetime.fromtimestamp(payload["nbf"], UTC) - leeway:
        raise CredentialInvalid("the credential is not yet valid")
    if "exp" in payload and moment >= datetime.fromtimestamp(payload["exp"], UTC) + leeway:
        raise CredentialInvalid("the credential has expired")
    return credential


# --- helpers --------------------------------------------------------------------------------


def _check_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(snapshot, Mapping):
        raise ValueError("the snapshot must be a mapping")
    required = (
        "learner_name",
        "course_title",
        "course_slug",
        "course_version",
        "learning_outcomes",
        "greencomp",
        "workload_hours",
        "issued_on",
        "language",
    )
    missing = [key for key in required if key not in snapshot]
    if missing:
        raise ValueError(f"the snapshot lacks: {', '.join(missing)}")
    snap: dict[str, Any] = {
        key: _require_text(key, snapshot[key])
        for key in ("learner_name", "course_title", "course_slug")
    }
    version = snapshot["course_version"]
    if isinstance(version, bool) or not isinstance(version, int | str) or str(version) == "":
        raise ValueError("course_version must be an int or a non-empty str")
    snap["course_version"] = str(version)

    outcomes = snapshot["learning_outcomes"]
    if isinstance(outcomes, str) or not isinstance(outcomes, Iterable):
        raise ValueError("learning_outcomes must be a list of texts")
    snap["learning_outcomes"] = [_require_text("learning outcome", text) for text in outcomes]
    if not snap["learning_outcomes"]:
        raise ValueError("learning_outcomes must name at least one outcome")

    codes: list[str] = []
    entries = snapshot["greencomp"]
    if isinstance(entries, str | Mapping) or not isinstance(entries, Iterable):
        raise ValueError("greencomp must be a list of {code, name}")
    for entry in entries:
        code = entry.get("code") if isinstance(entry, Mapping) else None
        code = str(code).strip() if code is not None else ""
        if code not in GREENCOMP_COMPETENCES:
            raise ValueError(f"unknown GreenComp competence code {code!r}")
        if code not in codes:
            codes.append(code)
    snap["greencomp_codes"] = codes

    hours = snapshot["workload_hours"]
    if isinstance(hours, bool) or not isinstance(hours, Real) or not 0 <= hours < 10_000:
        raise ValueError("workload_hours must be a number of hours, 0 or more")
    snap["workload_hours"] = hours

    snap["issued_on"] = _to_datetime(snapshot["issued_on"], "issued_on")
    language = snapshot["language"]
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        raise ValueError(f"language {language!r} is not a language code such as 'bg' or 'en'")
    snap["language"] = language
    return snap


def _issuer_profile(issuer: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(issuer, Mapping):
        raise ValueError("issuer must be a mapping with id, name and url")
    profile: dict[str, Any] = {
        "id": _require_id("issuer id", issuer.get("id")),
        "type": ["Profile"],
        "name": _require_text("issuer name", issuer.get("name")),
        "url": _require_id("issuer url", issuer.get("url")),
    }
    if issuer.get("email"):
        profile["email"] = _require_text("issuer email", issuer["email"])
    address = issuer.get("address")
    if address:
        if not isinstance(address, Mapping):
            raise ValueError("issuer address must be a mapping of Address fields")
        profile["address"] = {**address, "type": ["Address"]}
    return profile


def _greencomp_alignment(code: str) -> dict[str, Any]:
    name = GREENCOMP_COMPETENCES[code]
    area = code.split(".")[0]
    return {
        "type": ["Alignment"],
        "targetName": f"GreenComp {code} {name}",
        "targetCode": code,
        "targetDescription": f"Area {area}: {GREENCOMP_AREAS[area]}",
        "targetFramework": GREENCOMP_FRAMEWORK,
        "targetType": GREENCOMP_TARGET_TYPE,
        "targetUrl": GREENCOMP_URL,
    }


def _hours(hours: Real, language: str) -> str:
    text = f"{float(hours):.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if language.startswith("bg") else text


def _require_text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty text")
    return value.strip()


def _require_id(name: str, value: Any) -> str:
    """An identifier or URL: non-empty text without surrounding whitespace, kept as given."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError(f"{name} must be a non-empty text without surrounding spaces")
    return value


def _utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0)


def _to_datetime(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return _utc(value, name)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return _to_datetime(date.fromisoformat(text), name)
        return _parse_iso(text, name)
    raise ValueError(f"{name} must be a date, an aware datetime or ISO 8601 text")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 date-time text")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 date-time") from None
    return _utc(moment, name)


def _numeric_date(moment: datetime) -> int:
    return int(moment.timestamp())


def _issuer_id(credential: Mapping[str, Any]) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return _require_id("issuer id", issuer)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode_json_part(part: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(
            b64url_decode(part).decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise CredentialInvalid(f"the {what} is not valid base64url JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CredentialInvalid(f"the {what} is not a JSON object")
    return data


def _find_key(jwks: Sequence[Mapping[str, Any]] | Mapping[str, Any], kid: str) -> Mapping[str, Any]:
    keys = jwks.get("keys", ()) if isinstance(jwks, Mapping) else jwks
    for jwk in keys:
        if isinstance(jwk, Mapping) and jwk.get("kid") == kid:
            return jwk
    raise CredentialInvalid(f"the token is signed with an unknown key {kid!r}")


def _is_numeric_date(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_claims(payload: Mapping[str, Any], credential: Mapping[str, Any]) -> None:
    """Open Badges 3.0 section 8.2.6.1, plus the credential's own shape."""
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise CredentialInvalid("the payload is not a verifiable credential")
    if "OpenBadgeCredential" not in types and "AchievementCredential" not in types:
        raise CredentialInvalid("the payload is not an OpenBadgeCredential")
    context = credential.get("@context")
    if not isinstance(context, list) or context[:1] != [VC_CONTEXT_V2]:
        raise CredentialInvalid("the credential's @context does not start with VC 2.0")

    try:
        issuer_id = _issuer_id(credential)
    except ValueError:
        raise CredentialInvalid("the credential names no issuer") from None
    if payload.get("iss") != issuer_id:
        raise CredentialInvalid("the iss claim does not match the credential's issuer")
    if not isinstance(credential.get("id"), str) or payload.get("jti") != credential["id"]:
        raise CredentialInvalid("the jti claim does not match the credential's id")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise CredentialInvalid("the credential has no credentialSubject")
    if payload.get("sub") != subject.get("id"):
        raise CredentialInvalid("the sub claim does not match credentialSubject.id")

    if not _is_numeric_date(payload.get("nbf")):
        raise CredentialInvalid("the nbf claim is missing or not a NumericDate")
    try:
        valid_from = _parse_iso(credential.get("validFrom"), "validFrom")
        valid_until = (
            _parse_iso(credential["validUntil"], "validUntil")
            if credential.get("validUntil") is not None
            else None
        )
    except ValueError as exc:
        raise CredentialInvalid(str(exc)) from None
    if payload["nbf"] != _numeric_date(valid_from):
        raise CredentialInvalid("the nbf claim does not match validFrom")
    if "iat" in payload and not _is_numeric_date(payload["iat"]):
        raise CredentialInvalid("the iat claim is not a NumericDate")
    if valid_until is None:
        if "exp" in payload:
            raise CredentialInvalid("the exp claim has no validUntil in the credential")
    elif not _is_numeric_date(payload.get("exp")) or payload["exp"] != _numeric_date(valid_until):
        raise CredentialInvalid("the exp claim does not match validUntil")
