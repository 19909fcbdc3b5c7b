"""Public verification: /verify/<code> (HTML and JSON), the PDF hash check, unknown and
malformed codes answered alike, and throttling of misses per client address."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from certificates import services
from certificates.models import Certificate
from lms.extensions import db
from lms.models import ThrottleEvent, utcnow
from tests.conftest import csrf_token, login, post_form

MISSES = 4


@pytest.fixture
def app_config(tmp_path):
    return {
        "CERTIFICATES_KEY_FILE": str(tmp_path / "keys" / "signing.pem"),
        "CERTIFICATES_VERIFY_MISSES": MISSES,
        "CERTIFICATES_VERIFY_WINDOW_SECONDS": 600,
    }


@pytest.fixture
def certificate(users, create_course, complete_course) -> Certificate:
    learner = users["learner"]
    learner.name = "Мария Иванова"
    course = create_course(
        "green-it",
        modules=1,
        lessons=1,
        title="Green IT basics",
        learning_outcomes=["Measure the energy use of a service.", "Plan a greener release."],
        greencomp=["2.1", "4.3"],
    )
    complete_course(learner, course)
    return db.session.scalar(select(Certificate))


def fresh(certificate_id: int) -> Certificate:
    db.session.expire_all()
    return db.session.get(Certificate, certificate_id)


def misses() -> int:
    return db.session.scalar(select(func.count()).select_from(ThrottleEvent))


def page(response) -> str:
    return response.get_data(as_text=True)


def without_volatile(html: str) -> str:
    """The parts of a page that depend on the request, not on the answer: the CSRF token of
    the layout's language form, its "come back here" path and the menu's current page."""
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", html)
    html = html.replace(' aria-current="page"', "")
    return re.sub(r'name="next" value="[^"]*"', "", html)


# --- by code ----------------------------------------------------------------------------------


def test_valid_certificate_page_and_json(client, certificate):
    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 200
    html = page(response)
    assert "Valid certificate" in html
    assert "Мария Иванова" in html and "Green IT basics" in html
    assert "Measure the energy use of a service." in html and "Plan a greener release." in html
    assert "Systems thinking" in html and "4.3" in html
    assert "ICT Cluster Burgas" in html and certificate.pdf_sha256 in html
    issued = certificate.issued_at.date()
    assert issued.strftime("%d.%m.%Y") in html
    assert "5 hours" in html  # 2 contact + 3 self-study
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert 'name="robots" content="noindex' in html
    assert "verify.css" in html

    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert data["status"] == "valid" and data["code"] == certificate.code
    assert data["learner_name"] == "Мария Иванова"
    assert data["course_title"] == "Green IT basics" and data["workload_hours"] == 5
    assert data["issued_on"] == issued.isoformat() and data["revoked_on"] is None
    assert data["replaced"] is False
    assert [item["code"] for item in data["greencomp"]] == ["2.1", "4.3"]
    assert misses() == 0


def test_codes_are_accepted_as_people_type_them(client, certificate):
    code = certificate.code
    typed = "-".join(code[i : i + 4] for i in range(0, len(code), 4)).lower()
    assert client.get(f"/verify/{typed}").status_code == 200
    response = client.get("/verify", query_string={"code": f" {typed} "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{code}")
    assert misses() == 0


def test_reissued_certificate_says_it_was_replaced_without_pointing_to_the_new_one(
    client, users, certificate
):
    replacement = services.reissue(certificate, "Name corrected.", users["admin"])
    db.session.commit()
    html = page(client.get(f"/verify/{certificate.code}"))
    assert "Revoked certificate" in html
    assert "replaced by a newer certificate" in html
    assert replacement.code not in html
    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert data["replaced"] is True and data["status"] == "revoked"
    assert replacement.code not in str(data)
    # The replacement itself is valid.
    assert "Valid certificate" in page(client.get(f"/verify/{replacement.code}"))


def test_expired_certificate(client, users, create_course, complete_course):
    course = create_course("expiring", modules=1, lessons=1, validity_months=12)
    complete_course(users["learner"], course)
    certificate = db.session.scalar(select(Certificate))
    assert certificate.valid_until is not None
    ended = utcnow().date() - timedelta(days=3)
    certificate.valid_until = ended
    certificate.snapshot = {**certificate.snapshot, "valid_until": ended.isoformat()}
    db.session.commit()

    html = page(client.get(f"/verify/{certificate.code}"))
    assert "Expired certificate" in html and "Valid certificate" not in html
    assert ended.strftime("%d.%m.%Y") in html
    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert data["status"] == "expired" and data["valid_until"] == ended.isoformat()


def test_anonymised_certificate_shows_no_name(client, certificate):
    certificate.anonymised_at = utcnow()
    db.session.commit()
    html = page(client.get(f"/verify/{certificate.code}"))
    assert "Мария Иванова" not in html
    assert "personal data has been erased" in html and "Green IT basics" in html
    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert data["learner_name"] is None and data["status"] == "valid"


def test_verify_form_page(client):
    response = client.get("/verify")
    assert response.status_code == 200
    html = page(response)
    for text in (
        "Verify a certificate",
        'name="code"',
        'action="/verify/pdf"',
        "/verify/credential",
    ):
        assert text in html
    assert 'enctype="multipart/form-data"' in html
    response = client.get("/verify", query_string={"code": "  "})
    assert response.status_code == 200 and "Enter the code printed on the certificate." in page(
        response
    )
    assert misses() == 0


# --- the PDF check ----------------------------------------------------------------------------


def upload(client, data: bytes, name: str = "certificate.pdf"):
    """POST the file as a browser does. The body is encoded here, in memory: the test client
    would spool a large one to a temporary file that it never closes."""
    boundary, body = encode_multipart(
        MultiDict(
            {
                "csrf_token": csrf_token(client),
                "file": FileStorage(io.BytesIO(data), filename=name),
            }
        )
    )
    return client.post(
        "/verify/pdf", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_pdf_upload_matches_its_certificate(client, certificate):
    data = services.document_bytes(certificate)
    response = upload(client, data)
    assert response.status_code == 200
    html = page(response)
    assert "This file is exactly the PDF of a certificate we issued" in html
    assert "Valid certificate" in html and "Мария Иванова" in html
    assert f"/verify/{certificate.code}" in html
    assert misses() == 0


def test_pdf_upload_of_a_revoked_certificate_shows_its_status(client, users, certificate):
    data = services.document_bytes(certificate)
    services.revoke(certificate, "Wrong course.", users["admin"])
    db.session.commit()
    html = page(upload(client, data))
    assert "Revoked certificate" in html and "Wrong course." in html


def test_tampered_pdf_matches_nothing_and_counts_as_a_miss(client, certificate):
    data = bytearray(services.document_bytes(certificate))
    data[len(data) // 2] ^= 0x01
    response = upload(client, bytes(data))
    assert response.status_code == 200
    html = page(response)
    assert "No certificate matches this file" in html and "Мария Иванова" not in html
    assert misses() == 1


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"", 400, "The file is empty."),
        (b"hello, I am not a PDF", 400, "This file is not a PDF."),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 400, "This file is not a PDF."),
        (b"%PDF-1.4\n" + b"0" * (10 * 2**20), 413, "The file is larger than 10 MB"),
    ],
)
def test_bad_pdf_uploads_are_refused_clearly(client, certificate, data, status, message):
    response = upload(client, data)
    assert response.status_code == status
    assert message in page(response)
    assert misses() == 0


def test_pdf_upload_without_a_file_or_token(client, app):
    response = post_form(client, "/verify/pdf", {})
    assert response.status_code == 400
    assert "Choose the PDF file of the certificate." in page(response)
    # Without the CSRF token: refused, nothing counted.
    response = client.post(
        "/verify/pdf",
        data={"file": (io.BytesIO(b"%PDF-1.4"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert misses() == 0


def test_verification_needs_no_login_but_works_logged_in(client, users, certificate):
    login(client, "other.learner@example.org")
    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 200 and "Мария Иванова" in page(response)
