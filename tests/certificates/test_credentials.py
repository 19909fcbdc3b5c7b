"""Open Badges 3.0 endpoints: the signing key, the issuer profile and JWKS, the credential
downloads (who may, what they hold), the status URL following revocation, and the check of a
pasted credential on the verify page."""

from __future__ import annotations

import io
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft201909Validator
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from certificates import credentials, keys, openbadges, services
from certificates.models import Certificate, Status
from lms.extensions import db
from lms.models import ThrottleEvent, utcnow
from tests.conftest import csrf_token, login, post_form

SCHEMA_PATH = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "openbadges"
    / "ob_v3p0_achievementcredential_schema.json"
)
BASE_URL = "https://lms.example.org"


@pytest.fixture
def key_file(tmp_path) -> Path:
    return tmp_path / "keys" / "certificates.pem"


@pytest.fixture
def app_config(key_file):
    return {"CERTIFICATES_KEY_FILE": str(key_file), "BASE_URL": BASE_URL}


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_errors(validator, document) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.fixture
def certificate(users, create_course, complete_course) -> Certificate:
    learner = users["learner"]
    learner.name = "Мария Иванова"
    course = create_course(
        "green-it",
        modules=1,
        lessons=1,
        title="Green IT basics",
        learning_outcomes=["Measure the energy use of a service."],
        greencomp=["2.1", "4.3"],
        validity_months=24,
    )
    complete_course(learner, course)
    return db.session.scalar(select(Certificate))


def jwt_parts(token: str) -> tuple[dict, dict]:
    header, payload, _signature = token.split(".")
    return json.loads(keys.b64url_decode(header)), json.loads(keys.b64url_decode(payload))


def download(client, certificate: Certificate, kind: str = "jwt"):
    return client.get(f"/certificates/{certificate.id}/credential.{kind}")


# --- the key ----------------------------------------------------------------------------------


def test_key_file_is_created_0600_at_first_use_and_published(app, client, key_file):
    assert not key_file.exists()
    response = client.get("/certificates/issuer/jwks.json")
    assert response.status_code == 200
    assert response.mimetype == "application/jwk-set+json"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = keys.key_from_pem(key_file.read_bytes())
    [jwk] = response.get_json()["keys"]
    assert "d" not in jwk
    assert jwk["x"] == keys.public_jwk(key)["x"]
    assert jwk["kid"] == f"{BASE_URL}/certificates/issuer/jwks.json#{keys.kid_for(key)}"
    # Loaded once: the same key on the next request, and the file is not rewritten.
    before = key_file.read_bytes()
    assert client.get("/certificates/issuer/jwks.json").get_json()["keys"] == [jwk]
    assert key_file.read_bytes() == before


def test_default_key_file_is_in_the_instance_folder(app):
    app.config["CERTIFICATES_KEY_FILE"] = ""
    assert credentials.key_path(app) == Path(app.instance_path) / "certificates-ed25519.pem"


@pytest.mark.parametrize("one_line", [False, True])
def test_configured_pem_is_used_instead_of_the_file(app, client, key_file, one_line):
    key = Ed25519PrivateKey.generate()
    pem = keys.key_to_pem(key).decode()
    app.config["CERTIFICATES_SIGNING_KEY"] = pem.replace("\n", "\\n") if one_line else pem
    [jwk] = client.get("/certificates/issuer/jwks.json").get_json()["keys"]
    assert jwk["x"] == keys.public_jwk(key)["x"]
    assert not key_file.exists()


def test_issuer_profile(client):
    response = client.get("/certificates/issuer")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    profile = json.loads(response.get_data())
    assert profile["id"] == f"{BASE_URL}/certificates/issuer"
    assert profile["type"] == ["Profile"] and profile["name"] == "ICT Cluster Burgas"
    assert profile["url"] == f"{BASE_URL}/"
    assert profile["address"]["addressCountryCode"] == "BG"
    assert profile["address"]["addressLocality"] == "Burgas"
    assert profile["publicKey"] == f"{BASE_URL}/certificates/issuer/jwks.json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# --- downloads --------------------------------------------------------------------------------


def test_owner_downloads_a_signed_credential_that_verifies_with_the_published_key(
    client, certificate, validator
):
    login(client, "learner@example.org")
    response = download(client, certificate, "jwt")
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="certificate-{certificate.code}.jwt"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    token = response.get_data(as_text=True)
    header, payload = jwt_parts(token)

    jwks = client.get("/certificates/issuer/jwks.json").get_json()
    assert header["kid"] == jwks["keys"][0]["kid"] and header["alg"] == "EdDSA"
    credential = openbadges.verify_vc_jwt(token, jwks)
    assert schema_errors(validator, credential) == []
    assert schema_errors(validator, payload) == []

    assert credential["issuer"]["id"] == f"{BASE_URL}/certificates/issuer"
    assert credential["issuer"]["address"]["addressCountryCode"] == "BG"
    assert credential["credentialStatus"]["id"] == (
        f"{BASE_URL}/certificates/status/{certificate.code}"
    )
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["name"] == "Green IT basics" and achievement["version"] == "1"
    assert [a["targetCode"] for a in achievement["alignment"]] == ["2.1", "4.3"]
    assert "Notional workload: 5 hours." in achievement["description"]
    assert credential["validUntil"] == (
        f"{certificate.valid_until + timedelta(days=1):%Y-%m-%d}T00:00:00Z"
    )
    names = [
        i for i in credential["credentialSubject"]["identifier"] if i["identityType"] == "name"
    ]
    assert names[0]["identityHash"] == "Мария Иванова"
    # The email is there only hashed, and it matches the learner's.
    assert "learner@example.org" not in token and "learner@example.org" not in json.dumps(payload)
    assert openbadges.recipient_matches(credential, "learner@example.org")
    assert not openbadges.recipient_matches(credential, "other.learner@example.org")

    # Stable: the same credential (and, Ed25519 being deterministic, token) every time.
    assert download(client, certificate, "jwt").get_data(as_text=True) == token


def test_json_download_is_the_credential_with_its_jwt_as_proof(client, certificate, validator):
    login(client, "learner@example.org")
    response = download(client, certificate, "json")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert response.headers["Content-Disposition"].endswith('.json"')
    document = json.loads(response.get_data())
    assert schema_errors(validator, document) == []
    [proof] = document["proof"]
    assert proof["type"] == "JwtProof2020"
    jwks = credentials.jwks()
    signed = openbadges.verify_vc_jwt(proof["jwt"], jwks)
    assert {k: v for k, v in document.items() if k != "proof"} == signed


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("learner@example.org", 200),
        ("admin@example.org", 200),
        ("other.learner@example.org", 404),
        ("coordinator@example.org", 404),
        ("other.coordinator@example.org", 404),
        ("trainer@example.org", 404),
    ],
)
def test_who_may_download_the_credential(client, certificate, email, expected):
    login(client, email)
    for kind in ("jwt", "json"):
        assert download(client, certificate, kind).status_code == expected
    assert client.get("/certificates/999999/credential.jwt").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, certificate):
    for kind in ("jwt", "json"):
        response = download(client, certificate, kind)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_revoked_certificate_credential_is_not_offered(client, users, certificate):
    services.revoke(certificate, "Issued by mistake.", users["admin"])
    db.session.commit()
    login(client, "learner@example.org")
    for kind in ("jwt", "json"):
        response = download(client, certificate, kind)
        assert response.status_code == 410
        html = response.get_data(as_text=True)
        assert "Revoked certificate" in html and "no longer offered" in html
        assert "Issued by mistake." in html and "eyJ" not in html


def test_anonymised_certificate_offers_no_credential(app, client, certificate):
    certificate.anonymised_at = utcnow()
    db.session.commit()
    login(client, "admin@example.org")
    # A credential must name its holder: after erasure none is offered (410, with a reason).
    for extension in ("jwt", "json"):
        response = client.get(f"/certificates/{certificate.id}/credential.{extension}")
        assert response.status_code == 410
        assert "Мария Иванова" not in response.get_data(as_text=True)


# --- status -----------------------------------------------------------------------------------


def test_status_url_follows_revocation(client, users, certificate):
    login(client, "learner@example.org")
    token = download(client, certificate).get_data(as_text=True)
    _header, payload = jwt_parts(token)
    status_path = payload["credentialStatus"]["id"].removeprefix(BASE_URL)
    anonymous = client.application.test_client()

    response = anonymous.get(status_path)
    assert response.status_code == 200 and response.mimetype == "application/json"
    status = response.get_json()
    assert status["revoked"] is False and status["status"] == "valid"
    assert status["revokedCredentials"] == [] and status["credential"] == payload["id"]

    services.revoke(certificate, "Assessment annulled.", users["admin"])
    db.session.commit()
    status = anonymous.get(status_path).get_json()
    assert status["revoked"] is True and status["status"] == "revoked"
    assert status["revocationReason"] == "Assessment annulled."
    assert status["revokedOn"] == utcnow().date().isoformat()
    assert status["revokedCredentials"] == [
        {"id": payload["id"], "revoked": True, "revocationReason": "Assessment annulled."}
    ]


def test_unknown_status_code_is_a_counted_miss(client, certificate):
    for code in (services.new_code(), "nonsense"):
        response = client.get(f"/certificates/status/{code}")
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"
    assert db.session.scalar(select(func.count()).select_from(ThrottleEvent)) == 2


# --- checking a pasted credential -------------------------------------------------------------


def check_page(client, text: str | None = None, file: bytes | None = None):
    fields = {"csrf_token": csrf_token(client), "credential": text or ""}
    if file is not None:
        fields["file"] = FileStorage(io.BytesIO(file), filename="credential.jwt")
    boundary, body = encode_multipart(MultiDict(fields))
    return client.post(
        "/verify/credential",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.fixture
def token(certificate) -> str:
    return credentials.signed_credential(certificate)


def test_a_genuine_credential_is_confirmed(client, certificate, token):
    for text in (token, json.dumps(credentials.credential_document(certificate)), f'"{token}"'):
        response = check_page(client, text)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "The signature is genuine" in html
        assert "Valid certificate" in html and "Мария Иванова" in html
    response = check_page(client, file=token.encode())
    assert "The signature is genuine" in response.get_data(as_text=True)


def test_a_genuine_credential_of_a_revoked_certificate_shows_the_revocation(
    client, users, certificate, token
):
    services.revoke(certificate, "Wrong learner.", users["admin"])
    db.session.commit()
    html = check_page(client, token).get_data(as_text=True)
    assert "The signature is genuine" in html
    assert "Revoked certificate" in html and "Wrong learner." in html


def tamper(token: str, change) -> str:  # noqa: ANN001
    header, payload, signature = token.split(".")
    data = json.loads(keys.b64url_decode(payload))
    change(data)
    forged = keys.b64url_encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{header}.{forged}.{signature}"


def test_tampered_and_foreign_credentials_are_refused(client, certificate, token):
    def rename(data):  # noqa: ANN001, ANN202
        data["credentialSubject"]["identifier"][-1]["identityHash"] = "Someone Else"

    html = check_page(client, tamper(token, rename)).get_data(as_text=True)
    assert "The signature is genuine" not in html
    assert "changed after it was issued" in html and "Someone Else" not in html

    # Signed with another key under our key id: the signature does not verify.
    credential = credentials.credential_for(certificate)
    kid = credentials.signing_key().kid
    forged = openbadges.sign_vc_jwt(credential, Ed25519PrivateKey.generate(), kid)
    assert "changed after it was issued" in check_page(client, forged).get_data(as_text=True)
    # Signed with a key of its own: not ours.
    other = openbadges.sign_vc_jwt(credential, Ed25519PrivateKey.generate(), "someone-else")
    assert "not signed with the key of ICT Cluster Burgas" in check_page(client, other).get_data(
        as_text=True
    )
    # A genuine JWT beside an altered JSON credential.
    document = credentials.credential_document(certificate)
    document["name"] = "Advanced cloud architecture"
    html = check_page(client, json.dumps(document)).get_data(as_text=True)
    assert "differs from the signed credential" in html


@pytest.mark.parametrize(
    "garbage",
    [
        "hello",
        "a.b.c",
        "{not json",
        "[1, 2, 3]",
        '{"type": ["VerifiableCredential"]}',
        "eyJhbGciOiJub25lIn0.e30.",
        "\x00\x01\x02",
        "x" * 50_000,
    ],
)
def test_garbage_is_answered_without_an_error(client, certificate, garbage):
    response = check_page(client, garbage)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "This credential cannot be confirmed" in html
    assert "The signature is genuine" not in html


def test_empty_and_oversized_credentials_are_refused(client):
    response = check_page(client, "   ")
    assert response.status_code == 400
    assert "Paste the credential or choose its file." in response.get_data(as_text=True)
    response = check_page(client, "x" * (credentials.MAX_CREDENTIAL_BYTES + 1))
    assert response.status_code == 400
    response = post_form(client, "/verify/credential", {})
    assert response.status_code == 400


def test_verify_credential_never_raises_and_reads_expired_credentials(app, certificate):
    certificate.valid_until = (utcnow() - timedelta(days=2)).date()
    certificate.issued_at = datetime.now(UTC) - timedelta(days=800)
    db.session.commit()
    token = credentials.signed_credential(certificate)
    check = credentials.verify_credential(token)
    assert check.signature_ok and check.issued_by_us and check.problem is None
    assert check.certificate.id == certificate.id and check.status is Status.EXPIRED
    assert not check.ok
    for bad in (None, b"\xff\xfe", "", "{}", '{"proof": [{"jwt": 5}]}', "[[[[[[" * 10_000):
        check = credentials.verify_credential(bad)
        assert check.problem is not None and not check.signature_ok
