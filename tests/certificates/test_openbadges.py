"""Open Badges 3.0 credentials and their VC-JWT signatures (certificates/openbadges.py) and the
signing key (certificates/keys.py). Pure: no app, no database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import stat
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft201909Validator

from certificates import keys, openbadges
from certificates.keys import (
    b64url_decode,
    b64url_encode,
    key_from_pem,
    key_to_pem,
    kid_for,
    load_or_create_key,
    load_signing_key,
    public_jwk,
    public_key_from_jwk,
)
from certificates.openbadges import (
    CredentialInvalid,
    build_credential,
    hash_email,
    recipient_matches,
    sign_compact_jws,
    sign_vc_jwt,
    verify_vc_jwt,
)

SCHEMA_PATH = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "openbadges"
    / "ob_v3p0_achievementcredential_schema.json"
)

EMAIL = "learner@example.org"
SALT = "c2b6a1f0e9d84b7f"
ISSUED = datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)
ISSUER = {
    "id": "https://lms.example.org/certificates/issuer",
    "name": "ICT Cluster Burgas",
    "url": "https://lms.example.org/",
    "email": "certificates@example.org",
    "address": {
        "addressCountry": "Bulgaria",
        "addressCountryCode": "BG",
        "addressRegion": "Burgas",
    },
}
CREDENTIAL_ID = "urn:uuid:6f1c2a3e-0b8d-4c4e-9a57-3d2f1e0c9b8a"
ACHIEVEMENT_ID = "https://lms.example.org/certificates/achievements/green-software/3"
STATUS_URL = "https://lms.example.org/certificates/revocations"


def snapshot(**changes):
    data = {
        "learner_name": "Мария Иванова",
        "course_title": "Green software basics",
        "course_slug": "green-software",
        "course_version": 3,
        "learning_outcomes": [
            "Explain where the energy use of a software service comes from.",
            "Estimate the Software Carbon Intensity (SCI) of a service.",
        ],
        "greencomp": [
            {"code": "2.1", "name": "Systems thinking"},
            {"code": "4.3", "name": "Individual initiative"},
        ],
        "workload_hours": 12,
        "issued_on": "2025-03-14",
        "language": "en",
    }
    data.update(changes)
    return data


def credential(snap=None, *, email=EMAIL, valid_from=ISSUED, valid_until=None, **kwargs):
    return build_credential(
        snap if snap is not None else snapshot(),
        credential_id=kwargs.get("credential_id", CREDENTIAL_ID),
        issuer=kwargs.get("issuer", ISSUER),
        achievement_id=ACHIEVEMENT_ID,
        subject_email=email,
        salt=SALT,
        status_url=STATUS_URL,
        valid_from=valid_from,
        valid_until=valid_until,
    )


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_errors(validator, document):
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def kid(key):
    return kid_for(key)


@pytest.fixture(scope="module")
def jwks(key, kid):
    return [public_jwk(key, kid)]


def decode_part(part):
    return json.loads(b64url_decode(part))


def encode_part(value):
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


# --- the credential -------------------------------------------------------------------------


def test_vendored_schema_is_the_vc2_achievement_credential_schema(validator):
    schema = validator.schema
    assert schema["title"] == "JSON Schema for the AchievementCredential class."
    assert "validFrom" in schema["required"]
    assert schema["properties"]["@context"]["items"][0]["enum"] == [openbadges.VC_CONTEXT_V2]
    assert re.match(schema["properties"]["@context"]["items"][1]["pattern"], openbadges.OB_CONTEXT)


@pytest.mark.parametrize(
    ("snap", "email", "valid_until"),
    [
        (snapshot(), EMAIL, None),
        (snapshot(), EMAIL, ISSUED + timedelta(days=3 * 365)),
        (snapshot(language="bg", workload_hours=7.5, course_title="Зелен софтуер"), EMAIL, None),
        (snapshot(greencomp=[]), None, None),
        (snapshot(issued_on=date(2025, 3, 14), course_version="2025.1"), EMAIL, None),
    ],
    ids=[
        "plain",
        "with-valid-until",
        "bulgarian",
        "no-email-no-greencomp",
        "date-and-text-version",
    ],
)
def test_built_credential_validates_against_the_official_schema(
    validator, snap, email, valid_until
):
    built = credential(snap, email=email, valid_until=valid_until)
    assert schema_errors(validator, built) == []
    # The installed jsonschema does not check "date-time" formats by itself: check them here.
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    for name in ("validFrom", "validUntil", "awardedDate"):
        if name in built:
            assert stamp.match(built[name]), name


def test_schema_check_is_real(validator):
    """The schema rejects what the specification forbids, so a pass above means something."""
    built = credential()
    broken = json.loads(json.dumps(built))
    del broken["validFrom"]
    assert schema_errors(validator, broken)
    broken = json.loads(json.dumps(built))
    broken["@context"] = ["https://www.w3.org/2018/credentials/v1", openbadges.OB_CONTEXT]
    assert schema_errors(validator, broken)
    broken = json.loads(json.dumps(built))
    broken["credentialSubject"]["identifier"][0]["email"] = EMAIL
    assert schema_errors(validator, broken)
    broken = json.loads(json.dumps(built))
    broken["credentialSubject"]["achievement"]["achievementType"] = "CourseCertificate"
    assert schema_errors(validator, broken)


def test_credential_content():
    built = credential(valid_until=datetime(2028, 1, 1, 12, tzinfo=UTC))
    assert built["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert built["id"] == CREDENTIAL_ID
    assert built["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert built["issuer"] == {
        "id": ISSUER["id"],
        "type": ["Profile"],
        "name": "ICT Cluster Burgas",
        "url": "https://lms.example.org/",
        "email": "certificates@example.org",
        "address": {
            "type": ["Address"],
            "addressCountry": "Bulgaria",
            "addressCountryCode": "BG",
            "addressRegion": "Burgas",
        },
    }
    assert built["validFrom"] == "2025-03-14T09:30:15Z"
    assert built["validUntil"] == "2028-01-01T12:00:00Z"
    assert built["awardedDate"] == "2025-03-14T00:00:00Z"
    assert built["credentialStatus"] == {"id": STATUS_URL, "type": "1EdTechRevocationList"}
    assert built["credentialSchema"] == [
        {
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
            "ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }
    ]

    subject = built["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["id"].startswith("urn:uuid:")
    assert subject["id"] == credential()["credentialSubject"]["id"]  # stable per credential
    other = credential(credential_id="urn:uuid:00000000-0000-4000-8000-000000000001")
    assert other["credentialSubject"]["id"] != subject["id"]  # links no two credentials
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "identityHash": "sha256$" + hashlib.sha256((EMAIL + SALT).encode()).hexdigest(),
            "salt": SALT,
        },
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": "Мария Иванова",
        },
    ]

    achievement = subject["achievement"]
    assert achievement["id"] == ACHIEVEMENT_ID
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "Course"
    assert achievement["name"] == "Green software basics"
    assert "Notional workload: 12 hours." in achievement["description"]
    assert "creditsAvailable" not in achievement
    assert achievement["humanCode"] == "green-software"
    assert achievement["version"] == "3"
    assert achievement["inLanguage"] == "en"
    narrative = achievement["criteria"]["narrative"]
    assert "- Explain where the energy use of a software service comes from." in narrative
    assert "- Estimate the Software Carbon Intensity (SCI) of a service." in narrative
    assert achievement["alignment"] == [
        {
            "type": ["Alignment"],
            "targetName": "GreenComp 2.1 Systems thinking",
            "targetCode": "2.1",
            "targetDescription": "Area 2: Embracing complexity in sustainability",
            "targetFramework": "GreenComp (JRC 2022)",
            "targetType": "ext:GreenCompCompetence",
            "targetUrl": "https://publications.jrc.ec.europa.eu/repository/handle/JRC128040",
        },
        {
            "type": ["Alignment"],
            "targetName": "GreenComp 4.3 Individual initiative",
            "targetCode": "4.3",
            "targetDescription": "Area 4: Acting for sustainability",
            "targetFramework": "GreenComp (JRC 2022)",
            "targetType": "ext:GreenCompCompetence",
            "targetUrl": "https://publications.jrc.ec.europa.eu/repository/handle/JRC128040",
        },
    ]


def test_bulgarian_texts_and_fractional_hours():
    built = credential(snapshot(language="bg", workload_hours=7.5))
    achievement = built["credentialSubject"]["achievement"]
    assert "Учебна натовареност: 7,5 часа." in achievement["description"]
    assert achievement["criteria"]["narrative"].startswith("Обучаемият е завършил")
    assert achievement["inLanguage"] == "bg"


def test_greencomp_codes_are_checked_and_deduplicated():
    built = credential(snapshot(greencomp=[{"code": "1.1"}, {"code": "1.1", "name": "x"}]))
    assert [a["targetCode"] for a in built["credentialSubject"]["achievement"]["alignment"]] == [
        "1.1"
    ]
    with pytest.raises(ValueError, match="GreenComp"):
        credential(snapshot(greencomp=[{"code": "5.1", "name": "Invented"}]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"learner_name": " "}, "learner_name"),
        ({"learning_outcomes": []}, "at least one"),
        ({"learning_outcomes": "one outcome"}, "list"),
        ({"workload_hours": -1}, "workload_hours"),
        ({"workload_hours": True}, "workload_hours"),
        ({"language": "English"}, "language"),
        ({"issued_on": datetime(2025, 3, 14, 9, 0)}, "timezone-aware"),
        ({"course_version": ""}, "course_version"),
    ],
)
def test_bad_snapshots_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        credential(snapshot(**changes))


def test_missing_snapshot_key_is_named():
    snap = snapshot()
    del snap["greencomp"]
    with pytest.raises(ValueError, match="greencomp"):
        credential(snap)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        credential(valid_from=datetime(2025, 3, 14, 9, 0))
    with pytest.raises(ValueError, match="later"):
        credential(valid_until=ISSUED - timedelta(days=1))
    with pytest.raises(ValueError, match="issuer url"):
        credential(issuer={"id": ISSUER["id"], "name": "ICT Cluster Burgas"})
    with pytest.raises(ValueError, match="credential_id"):
        credential(credential_id=" urn:uuid:x")


def test_email_never_appears_in_clear(key, kid):
    built = credential(valid_until=ISSUED + timedelta(days=1))
    token = sign_vc_jwt(built, key, kid)
    header, payload, _ = token.split(".")
    for text in (
        json.dumps(built, ensure_ascii=False),
        b64url_decode(header).decode(),
        b64url_decode(payload).decode(),
    ):
        assert EMAIL not in text.lower()
        assert "learner@" not in text.lower()
    # ...yet whoever knows the email can check it belongs to this credential (spec 9.3).
    assert recipient_matches(built, " Learner@Example.org ")
    assert not recipient_matches(built, "someone.else@example.org")
    assert not recipient_matches(credential(email=None), EMAIL)


def test_identity_hash_matches_the_specification_example():
    # The example in the Open Badges 3.0 IdentityHash definition (also in the schema).
    assert hash_email("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )


# --- VC-JWT ---------------------------------------------------------------------------------


def test_sign_then_verify_round_trip(key, kid, jwks):
    built = credential(valid_until=ISSUED + timedelta(days=365))
    token = sign_vc_jwt(built, key, kid)
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert decode_part(header_b64) == {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    payload = decode_part(payload_b64)
    assert payload["iss"] == ISSUER["id"]
    assert payload["jti"] == CREDENTIAL_ID
    assert payload["sub"] == built["credentialSubject"]["id"]
    assert (
        payload["nbf"]
        == payload["iat"]
        == int(datetime(2025, 3, 14, 9, 30, 15, tzinfo=UTC).timestamp())
    )
    assert payload["exp"] == payload["nbf"] + 365 * 86400
    assert {k: v for k, v in payload.items() if k not in openbadges.JWT_CLAIMS} == built
    assert len(b64url_decode(signature_b64)) == 64

    verified = verify_vc_jwt(token, jwks, now=ISSUED + timedelta(days=30))
    assert verified == built
    # A JWK Set document works as well as a list of keys.
    assert verify_vc_jwt(token, {"keys": jwks}, now=ISSUED + timedelta(days=30)) == built


def test_round_trip_without_valid_until_and_with_default_clock(key, kid, jwks):
    built = credential(snapshot(language="bg", course_title="Кръгова икономика"))
    token = sign_vc_jwt(built, key, kid)
    assert "exp" not in decode_part(token.split(".")[1])
    assert verify_vc_jwt(token, jwks) == built


def test_rfc8037_test_vectors():
    """RFC 8037 appendix A: the Ed25519 key, its JWK thumbprint and its JWS signature."""
    d = b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    rfc_key = Ed25519PrivateKey.from_private_bytes(d)
    jwk = public_jwk(rfc_key)
    assert jwk["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert kid_for(rfc_key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert sign_compact_jws({"alg": "EdDSA"}, b"Example of Ed25519 signing", rfc_key) == (
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )


def test_tampered_payload_is_refused(key, kid, jwks):
    token = sign_vc_jwt(credential(), key, kid)
    header_b64, payload_b64, signature_b64 = token.split(".")
    payload = decode_part(payload_b64)
    payload["credentialSubject"]["identifier"][1]["identityHash"] = "Someone Else"
    forged = f"{header_b64}.{encode_part(payload)}.{signature_b64}"
    with pytest.raises(CredentialInvalid, match="signature does not verify"):
        verify_vc_jwt(forged, jwks)
    # Flipping one character of the signature is caught too.
    flipped = signature_b64[:-2] + ("A" if signature_b64[-2] != "A" else "B") + signature_b64[-1]
    with pytest.raises(CredentialInvalid):
        verify_vc_jwt(f"{header_b64}.{payload_b64}.{flipped}", jwks)


@pytest.mark.parametrize("signature", ["", "keep"])
def test_alg_none_is_refused(key, kid, jwks, signature):
    token = sign_vc_jwt(credential(), key, kid)
    _, payload_b64, signature_b64 = token.split(".")
    header = encode_part({"alg": "none", "typ": "JWT", "kid": kid})
    forged = f"{header}.{payload_b64}.{signature_b64 if signature == 'keep' else ''}"
    with pytest.raises(CredentialInvalid, match="algorithm 'none' is not accepted"):
        verify_vc_jwt(forged, jwks)


def test_hs256_with_the_public_key_as_secret_is_refused(key, kid, jwks):
    """The classic algorithm-confusion forgery: an HMAC keyed with the published key."""
    payload_b64 = sign_vc_jwt(credential(), key, kid).split(".")[1]
    header = encode_part({"alg": "HS256", "typ": "JWT", "kid": kid})
    public = key.public_key()
    secrets = [
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        json.dumps(jwks[0]).encode(),
        jwks[0]["x"].encode(),
    ]
    for secret in secrets:
        mac = hmac.new(secret, f"{header}.{payload_b64}".encode(), hashlib.sha256).digest()
        with pytest.raises(CredentialInvalid, match="algorithm 'HS256' is not accepted"):
            verify_vc_jwt(f"{header}.{payload_b64}.{b64url_encode(mac)}", jwks)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "EdDSA", "typ": "JWT"},  # no kid
        {"alg": "EdDSA", "typ": "vc+jwt", "kid": "KID"},
        {"alg": "EdDSA", "typ": "JWT", "kid": "KID", "crit": ["exp"]},
        {"alg": "RS256", "typ": "JWT", "kid": "KID"},
        {"alg": "ES256", "typ": "JWT", "kid": "KID"},
        {"typ": "JWT", "kid": "KID"},
    ],
    ids=["no-kid", "other-typ", "crit", "rs256", "es256", "no-alg"],
)
def test_other_headers_are_refused(key, kid, jwks, header):
    """Each token is genuinely signed with our key over the header shown: only the header
    is wrong, and that is enough to refuse it."""
    header = {name: (kid if value == "KID" else value) for name, value in header.items()}
    payload_b64 = sign_vc_jwt(credential(), key, kid).split(".")[1]
    signing_input = f"{encode_part(header)}.{payload_b64}"
    token = f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"
    with pytest.raises(CredentialInvalid):
        verify_vc_jwt(token, jwks)


def test_embedded_jwk_is_not_trusted(kid, jwks):
    """An attacker's own key in the header must not be used, even with a valid signature."""
    attacker = Ed25519PrivateKey.generate()
    forged = build_credential(
        snapshot(learner_name="Mallory"),
        credential_id=CREDENTIAL_ID,
        issuer=ISSUER,
        achievement_id=ACHIEVEMENT_ID,
        subject_email=None,
        salt=SALT,
        status_url=STATUS_URL,
        valid_from=ISSUED,
    )
    payload = {**forged, **openbadges.jwt_claims(forged)}
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid, "jwk": public_jwk(attacker)}
    token = sign_compact_jws(header, json.dumps(payload).encode(), attacker)
    with pytest.raises(CredentialInvalid, match="not accepted: jwk"):
        verify_vc_jwt(token, jwks)


def test_wrong_or_unknown_kid_is_refused(key, kid, jwks):
    other = Ed25519PrivateKey.generate()
    # Signed with another key but naming ours: the signature fails with our key.
    with pytest.raises(CredentialInvalid, match="signature does not verify"):
        verify_vc_jwt(sign_vc_jwt(credential(), other, kid), jwks)
    # Signed with another key under its own kid, which we do not know.
    with pytest.raises(CredentialInvalid, match="unknown key"):
        verify_vc_jwt(sign_vc_jwt(credential(), other, kid_for(other)), jwks)
    # Signed with our key but naming another kid that is in the set.
    both = [*jwks, public_jwk(other)]
    with pytest.raises(CredentialInvalid, match="signature does not verify"):
        verify_vc_jwt(sign_vc_jwt(credential(), key, kid_for(other)), both)
    # With both keys published, each token verifies with its own.
    assert verify_vc_jwt(sign_vc_jwt(credential(), other, kid_for(other)), both)


def test_a_key_set_entry_that_is_not_ed25519_is_refused(key, kid):
    token = sign_vc_jwt(credential(), key, kid)
    rsa_like = {"kty": "RSA", "kid": kid, "n": "AQAB", "e": "AQAB"}
    with pytest.raises(CredentialInvalid, match="cannot verify"):
        verify_vc_jwt(token, [rsa_like])
    private = {**public_jwk(key, kid), "d": b64url_encode(b"\0" * 32)}
    with pytest.raises(CredentialInvalid, match="private"):
        verify_vc_jwt(token, [private])


def test_expired_credential_is_refused(key, kid, jwks):
    until = ISSUED + timedelta(days=1)  # 2025-03-15: long gone by the real clock
    token = sign_vc_jwt(credential(valid_until=until), key, kid)
    assert verify_vc_jwt(token, jwks, now=until - timedelta(seconds=1))
    with pytest.raises(CredentialInvalid, match="expired"):
        verify_vc_jwt(token, jwks, now=until)
    with pytest.raises(CredentialInvalid, match="expired"):
        verify_vc_jwt(token, jwks)
    assert verify_vc_jwt(token, jwks, now=until + timedelta(seconds=30), leeway=timedelta(60))


def test_not_yet_valid_credential_is_refused(key, kid, jwks):
    start = datetime.now(UTC) + timedelta(days=2)
    token = sign_vc_jwt(credential(valid_from=start), key, kid)
    with pytest.raises(CredentialInvalid, match="not yet valid"):
        verify_vc_jwt(token, jwks)
    assert verify_vc_jwt(token, jwks, now=start + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": "https://evil.example/issuer"}, "iss"),
        ({"jti": "urn:uuid:someone-else"}, "jti"),
        ({"sub": "urn:uuid:someone-else"}, "sub"),
        ({"nbf": 0}, "nbf"),
        ({"nbf": "1741944615"}, "nbf"),
        ({"exp": 4_000_000_000}, "exp"),
        ({"iat": 1.5}, "iat"),
    ],
)
def test_claims_that_contradict_the_credential_are_refused(key, kid, jwks, claims, message):
    """Validly signed, but the JWT claims disagree with the credential (spec 8.2.6.1)."""
    built = credential()
    payload = {**built, **openbadges.jwt_claims(built), **claims}
    token = sign_compact_jws(
        {"alg": "EdDSA", "typ": "JWT", "kid": kid}, json.dumps(payload).encode(), key
    )
    with pytest.raises(CredentialInvalid, match=message):
        verify_vc_jwt(token, jwks, now=ISSUED + timedelta(days=1))


def test_malformed_tokens_are_refused(key, kid, jwks):
    token = sign_vc_jwt(credential(), key, kid)
    header_b64, payload_b64, signature_b64 = token.split(".")
    duplicate = b'{"alg":"EdDSA","alg":"none","kid":"' + kid.encode() + b'"}'
    for bad in (
        "",
        "abc",
        token + ".extra",
        f"{header_b64}.{payload_b64}",
        f"{header_b64}=.{payload_b64}.{signature_b64}",
        f"{header_b64}.{payload_b64}.{signature_b64}==",
        f"{b64url_encode(b'[1, 2]')}.{payload_b64}.{signature_b64}",
        f"{b64url_encode(duplicate)}.{payload_b64}.{signature_b64}",
        f"{b64url_encode(b'not json')}.{payload_b64}.{signature_b64}",
    ):
        with pytest.raises(CredentialInvalid):
            verify_vc_jwt(bad, jwks)
    with pytest.raises(CredentialInvalid):
        verify_vc_jwt(None, jwks)  # type: ignore[arg-type]


def test_duplicate_members_in_a_signed_payload_are_refused(key, kid, jwks):
    built = credential()
    claims = openbadges.jwt_claims(built)
    body = json.dumps({**built, **claims})[:-1] + ', "jti": "urn:uuid:other"}'
    token = sign_compact_jws({"alg": "EdDSA", "typ": "JWT", "kid": kid}, body.encode(), key)
    with pytest.raises(CredentialInvalid, match="duplicate"):
        verify_vc_jwt(token, jwks)


def test_signing_refuses_clashing_members_and_bad_keys(key, kid):
    built = credential()
    with pytest.raises(ValueError, match="JWT claim names"):
        sign_vc_jwt({**built, "exp": 1}, key, kid)
    with pytest.raises(ValueError, match="EdDSA"):
        sign_compact_jws({"alg": "HS256"}, b"{}", key)
    with pytest.raises(TypeError):
        sign_compact_jws({"alg": "EdDSA"}, b"{}", ec.generate_private_key(ec.SECP256R1()))


# --- the signing key ------------------------------------------------------------------------


def test_key_file_is_created_once_with_mode_0600_and_reused(tmp_path):
    path = tmp_path / "instance" / "keys" / "openbadges-ed25519.pem"
    first = load_or_create_key(path)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    written = path.read_bytes()
    mtime = path.stat().st_mtime_ns

    second = load_or_create_key(path)
    assert kid_for(second) == kid_for(first)
    assert path.read_bytes() == written
    assert path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary files


def test_concurrent_first_starts_agree_on_one_key(tmp_path):
    path = tmp_path / "openbadges-ed25519.pem"
    barrier = threading.Barrier(8)
    kids: list[str] = []

    def start():
        barrier.wait()
        kids.append(kid_for(load_or_create_key(path)))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kids) == 8
    assert set(kids) == {kid_for(key_from_pem(path.read_bytes()))}
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_lost_creation_race_uses_the_winners_key(tmp_path, monkeypatch):
    path = tmp_path / "openbadges-ed25519.pem"
    winner = Ed25519PrivateKey.generate()
    real_link = keys.os.link

    def link_after_another_worker(src, dst):
        Path(dst).write_bytes(key_to_pem(winner))  # the other worker got there first
        return real_link(src, dst)

    monkeypatch.setattr(keys.os, "link", link_after_another_worker)
    assert kid_for(load_or_create_key(path)) == kid_for(winner)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_configured_pem_takes_precedence(tmp_path):
    path = tmp_path / "openbadges-ed25519.pem"
    configured = Ed25519PrivateKey.generate()
    pem = key_to_pem(configured).decode()
    assert kid_for(load_signing_key(path, pem)) == kid_for(configured)
    assert not path.exists()  # no file is created when a key is configured
    # One-line form, as environment variables often hold it.
    assert kid_for(load_signing_key(path, pem.replace("\n", "\\n"))) == kid_for(configured)
    # Without a configured key the file is used (and created).
    assert kid_for(load_signing_key(path, "  ")) == kid_for(load_or_create_key(path))


def test_key_from_pem_refuses_other_keys_and_garbage():
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValueError, match="not an Ed25519"):
        key_from_pem(ec_pem)
    with pytest.raises(ValueError, match="PEM"):
        key_from_pem("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ValueError):
        key_from_pem("")


def test_jwk_and_thumbprint(key):
    jwk = public_jwk(key)
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert "d" not in jwk
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert jwk["kid"] == kid_for(key)
    assert (
        public_jwk(key, "https://lms.example.org/keys#1")["kid"] == "https://lms.example.org/keys#1"
    )
    # Stable: same key (private, public, or reloaded from PEM) -> same kid; other key -> other.
    assert kid_for(key) == kid_for(key.public_key()) == kid_for(key_from_pem(key_to_pem(key)))
    assert kid_for(Ed25519PrivateKey.generate()) != kid_for(key)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", kid_for(key))
    # The thumbprint is the SHA-256 of the canonical required members (RFC 7638 section 3).
    canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + jwk["x"] + '"}'
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=")
    assert kid_for(key) == expected.decode()
    # And the JWK turns back into the same public key.
    restored = public_key_from_jwk(jwk)
    assert restored.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_strict_base64url():
    assert b64url_decode(b64url_encode(b"\xff\xfe\xfd")) == b"\xff\xfe\xfd"
    for bad in ("a", "ab==", "ab+/", "a b", "AB"):  # "AB" has non-zero trailing bits
        with pytest.raises(ValueError):
            b64url_decode(bad)
