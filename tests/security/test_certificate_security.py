"""SECURITY.md 5 and "Certificates": the renderer is confined (no network, no file outside its
assets folder, every value escaped: a learner named `<img src="http://127.0.0.1:PORT/x">` gets
a PDF showing that text and the listener gets nothing), very long names, issuing before
eligibility or for another user, revoked certificates refused for download and shown as revoked
on the public page, codes of at least 128 bits, unknown and malformed codes answered alike, and
throttling. (Twenty concurrent issuances: test_certificate_concurrency.py.)"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from PIL import Image
from sqlalchemy import func, select

from certificates import pdf, services
from certificates.models import Certificate
from courses import services as course_services
from lms.extensions import db
from lms.models import ThrottleEvent, utcnow
from lms.pdf import FONTS_DIR
from tests.certificates.test_pdf import VERIFY_URL, flat, make_snapshot, pdf_to_text, render, solid
from tests.certificates.test_verify import (  # noqa: F401 - the verification settings
    MISSES,
    app_config,
    fresh,
    misses,
    page,
    without_volatile,
)
from tests.conftest import login, post_form


def count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


# --- the confined renderer --------------------------------------------------------------------


def test_hostile_snapshot_is_shown_literally_and_fetches_nothing(listener) -> None:
    port = listener.port
    name = f'<img src="http://127.0.0.1:{port}/x">'
    company = f'<link href="http://127.0.0.1:{port}/y">'
    outcome = '<a href="file:///etc/passwd">x</a>'
    style = f'<style>@import url("http://127.0.0.1:{port}/z");</style>'
    svg = '"><svg onload=alert(1)>'
    snapshot = make_snapshot(
        learner_name=name,
        company_name=company,
        course_title="{{7*7}}",
        learning_outcomes=[outcome, "{% raw %}{{ config }}{% endraw %}"],
        quality_assurance=style,
        assessment_type=svg,
        code="ABCD-EFGH",
    )
    html = pdf.render_html(
        pdf.certificate_context(snapshot, language="en", verify_url=VERIFY_URL), qr="data:,"
    )
    assert name not in html
    assert "&lt;img src=&#34;http://127.0.0.1" in html

    data = render(snapshot)
    assert listener.received() == []

    text = flat(pdf_to_text(data))
    for literal in (name, company, "{{7*7}}", outcome, style, svg, "{{ config }}"):
        assert literal in text, literal
    assert "49" not in text.replace(str(port), "")
    assert "root:" not in text
    # Only the project's own images: the logo, the seal and the QR code.
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages[0].images) == 3


def test_markup_reaching_xhtml2pdf_cannot_fetch_or_read(listener, tmp_path: Path) -> None:
    """The second wall: even markup that asked for them (it cannot, everything is escaped) gets
    no network resource and no file outside the assets folder."""
    port = listener.port
    outside = tmp_path / "outside.png"
    Image.new("RGB", (8, 8), "red").save(outside)
    base = f"http://127.0.0.1:{port}"
    html = f"""<html><head>
    <style>
      @import url("{base}/import.css");
      @font-face {{ font-family: Remote; src: url("{base}/font.ttf"); }}
      @page {{ background-image: url("{base}/page.png"); }}
      body {{ background-image: url("{base}/body.png"); }}
    </style>
    <link rel="stylesheet" href="{base}/link.css">
    </head><body>
    <img src="{base}/img.png">
    <img src="https://127.0.0.1:{port}/tls.png">
    <img src="file://{outside}">
    <img src="{outside}">
    <img src="../../../../../../../../{outside}">
    <img src="../pdf.py">
    <img src="{pdf.ASSETS_DIR / "seal.png"}">
    <img src="data:image/png;base64,iVBORw0KGgo=">
    <p style="font-family: Remote">confined</p>
    </body></html>"""
    data = pdf.html_to_pdf(html)
    assert listener.received() == []
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    assert "confined" in page.extract_text()
    assert list(page.images) == []


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1/x",
        "https://example.org/logo.png",
        "//example.org/logo.png",
        "file:///etc/passwd",
        "/etc/passwd",
        "../pdf.py",
        "../../templates/certificates/pdf/certificate.html",
        "fonts/../../pdf.py",
        "C:\\Windows\\win.ini",
        "seal.png?x=1",
        "data:image/png;base64,iVBORw0KGgo=",
        "missing.png",
        "",
        None,
    ],
)
def test_link_callback_refuses_anything_but_its_own_assets(uri: str | None) -> None:
    resolve = pdf.link_callback(frozenset({"data:image/png;base64,AAAA"}))
    answer = resolve(uri, "")
    assert answer == pdf.REFUSED
    assert answer  # an empty answer would make xhtml2pdf use the URI as written
    assert not Path(answer).exists()


def test_link_callback_resolves_its_assets_and_data_uris() -> None:
    resolve = pdf.link_callback(frozenset({"data:image/png;base64,AAAA"}))
    assert resolve("seal.png", "") == str(pdf.ASSETS_DIR / "seal.png")
    assert resolve("DejaVuSans.ttf", "") == str(FONTS_DIR / "DejaVuSans.ttf")
    assert resolve("data:image/png;base64,AAAA", "") == "data:image/png;base64,AAAA"


def test_templates_come_from_the_pdf_folder_only() -> None:
    import jinja2

    environment = pdf._environment()
    assert environment.autoescape is True
    assert isinstance(environment.loader, jinja2.FileSystemLoader)
    assert [Path(p) for p in environment.loader.searchpath] == [pdf.TEMPLATE_DIR]
    with pytest.raises(jinja2.TemplateNotFound):
        environment.get_template("../../../templates/base.html")


@pytest.mark.parametrize("unit", ["Я", "Радостина "])
def test_a_ten_thousand_character_name_is_cut_with_an_ellipsis(unit: str) -> None:
    name = (unit * 10_000)[:10_000]
    data = render(make_snapshot(learner_name=name, company_name="W" * 10_000))
    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert 1 <= len(reader.pages) <= 2
    text = solid(pdf_to_text(data))
    kept = pdf.certificate_context(make_snapshot(learner_name=name), language="en", verify_url="")[
        "name"
    ]
    assert len(kept) == pdf.MAX_NAME_LENGTH == 200
    assert kept.endswith("…")
    assert solid(kept) in text
    assert solid(name[:400]) not in text


def test_a_two_hundred_character_name_is_printed_whole() -> None:
    name = ("Радостина Петрова-Иванова " * 10)[:200].strip()
    name = name + "я" * (200 - len(name))
    assert len(name) == 200
    kept = pdf.certificate_context(make_snapshot(learner_name=name), language="en", verify_url="")[
        "name"
    ]
    assert kept == name
    text = solid(pdf_to_text(render(make_snapshot(learner_name=name))))
    assert solid(name) in text
    assert "…" not in text


# --- eligibility and codes --------------------------------------------------------------


def test_not_completed_is_refused(users, create_course):
    learner = users["learner"]
    course = create_course("c1", modules=1, lessons=2)
    enrolment = course_services.enrol(learner, course)
    with pytest.raises(services.CertificateError):
        services.issue_certificate(enrolment)
    assert count(Certificate) == 0


@pytest.mark.parametrize(
    "text", ["", "x" * 81, "ABC", "A" * 25, "A" * 27, "1" * 26, "<script>", "../../etc/passwd"]
)
def test_malformed_codes_are_none(text):
    assert services.normalise_code(text) is None


def test_codes_are_128_bits_and_normalised():
    codes = {services.new_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c) == 26 for c in codes)  # 26 * 5 = 130 bits >= 128
    code = next(iter(codes))
    grouped = "-".join(code[i : i + 4] for i in range(0, 26, 4)).lower()
    assert services.normalise_code(grouped) == code


# --- downloads and revocation -----------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "status"),
    [
        ("learner@example.org", 200),
        ("other.learner@example.org", 404),
        ("coordinator@example.org", 200),
        ("other.coordinator@example.org", 404),
        ("trainer@example.org", 200),
        ("other.trainer@example.org", 404),
        ("admin@example.org", 200),
    ],
)
def test_who_may_download(client, users, create_user, certified, email, status):
    create_user("other.trainer@example.org", roles=("trainer",))
    login(client, email)
    response = client.get(f"/certificates/{certified.id}.pdf")
    assert response.status_code == status
    if status == 200:
        assert hashlib.sha256(response.get_data()).hexdigest() == certified.pdf_sha256
    else:
        assert b"%PDF" not in response.get_data()


def test_revoked_certificate_is_listed_with_its_reason_but_no_download(client, users, certified):
    services.revoke(certified, "Issued by mistake", users["admin"])
    db.session.commit()
    login(client, "learner@example.org")
    html = client.get("/certificates/my").get_data(as_text=True)
    assert "Revoked" in html and "Issued by mistake" in html
    assert f"/certificates/{certified.id}.pdf" not in html
    assert f"/certificates/{certified.id}/credential.jwt" not in html


def test_revoked_certificate_is_refused_for_download_except_to_the_admin(client, users, certified):
    services.revoke(certified, "Assessment was found invalid", users["admin"])
    db.session.commit()
    for email in ("learner@example.org", "coordinator@example.org", "trainer@example.org"):
        login(client, email)
        response = client.get(f"/certificates/{certified.id}.pdf")
        html = response.get_data(as_text=True)
        assert response.status_code == 410, email
        assert "Certificate revoked" in html and "Assessment was found invalid" in html
        assert b"%PDF" not in response.get_data()
    login(client, "admin@example.org")
    response = client.get(f"/certificates/{certified.id}.pdf")
    assert response.status_code == 200
    assert hashlib.sha256(response.get_data()).hexdigest() == certified.pdf_sha256


# --- public verification ------------------------------------------------------------------


def test_revoked_certificate_shows_date_and_reason(client, users, certificate):
    services.revoke(certificate, "Issued by mistake <b>twice</b>.", users["admin"])
    db.session.commit()
    html = page(client.get(f"/verify/{certificate.code}"))
    revoked_on = fresh(certificate.id).revoked_at.date()
    assert "Revoked certificate" in html and "Valid certificate" not in html
    assert revoked_on.strftime("%d.%m.%Y") in html
    assert "Issued by mistake &lt;b&gt;twice&lt;/b&gt;." in html
    assert "replaced" not in html

    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert data["status"] == "revoked" and data["revoked_on"] == revoked_on.isoformat()
    assert data["revocation_reason"] == "Issued by mistake <b>twice</b>."


def test_unknown_and_malformed_codes_get_the_same_answer(app, client, certificate):
    app.config["CERTIFICATES_VERIFY_MISSES"] = 100
    unknown = services.new_code()
    malformed = ["not-a-code", "A" * 200, "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "0O1IL" * 5 + "8"]
    html_answers = []
    json_answers = []
    for code in [unknown, *malformed]:
        response = client.get(f"/verify/{code}")
        assert response.status_code == 404
        assert response.headers["Cache-Control"] == "no-store"
        html_answers.append(without_volatile(page(response)))
        response = client.get(f"/verify/{code}.json")
        assert response.status_code == 404
        json_answers.append(response.get_data())
    assert len(set(html_answers)) == 1
    assert len(set(json_answers)) == 1
    assert "No certificate found" in html_answers[0]
    assert "<script>" not in html_answers[0] and "AAAAAAAA" not in html_answers[0]
    # The form on /verify answers a miss the same way.
    response = client.get("/verify", query_string={"code": "not-a-code"})
    assert response.status_code == 404
    assert without_volatile(page(response)) == html_answers[0]


def test_misses_are_throttled_per_address_and_hits_too(client, certificate):
    for n in range(MISSES):
        # A new X-Forwarded-For each time: not trusted (no proxy configured), so no reset.
        headers = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert client.get(f"/verify/{services.new_code()}", headers=headers).status_code == 404
    assert misses() == MISSES

    response = client.get(
        f"/verify/{certificate.code}", headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 600
    html = page(response)
    assert "Too many codes that match no certificate" in html
    assert "Мария Иванова" not in html

    response = client.get(f"/verify/{certificate.code}.json")
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "Too many codes" in response.get_json()["message"]
    assert client.get(f"/certificates/status/{certificate.code}").status_code == 429
    assert client.get("/verify", query_string={"code": certificate.code}).status_code == 429
    assert misses() == MISSES  # refused requests are not counted again

    # Another client address is not affected.
    other = client.get(f"/verify/{certificate.code}", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 200

    # Once the misses fall out of the window, the client may verify again.
    for event in db.session.scalars(select(ThrottleEvent)):
        event.at = utcnow() - timedelta(seconds=601)
    db.session.commit()
    assert client.get(f"/verify/{certificate.code}").status_code == 200


def test_hits_are_not_counted(client, certificate):
    for _ in range(MISSES + 2):
        assert client.get(f"/verify/{certificate.code}").status_code == 200
        assert client.get(f"/verify/{certificate.code}.json").status_code == 200
    assert misses() == 0


# --- new cases --------------------------------------------------------------------------------


def test_a_learner_named_like_markup_gets_a_pdf_showing_it_and_nothing_is_fetched(
    client, users, create_course, create_company, create_user, listener
):
    """SECURITY.md 5 end to end: the name reaches the certificate through a real completion
    (a POST of the last lesson), the download shows it as text, the only images are the
    project's own, and the loopback listener the name points at receives nothing."""
    name = f'<img src="http://127.0.0.1:{listener.port}/x">'
    company = create_company(f'<link rel="stylesheet" href="http://127.0.0.1:{listener.port}/c">')
    create_user("marked@example.org", company=company, name=name)
    course = create_course(
        "ssrf",
        modules=1,
        lessons=1,
        title='<img src="file:///etc/passwd"> {{7*7}}',
        learning_outcomes=[f'<img src="{Path(FONTS_DIR) / "DejaVuSans.ttf"}">'],
    )
    lesson = course.published_modules[0].published_lessons[0]
    login(client, "marked@example.org")
    post_form(client, "/courses/ssrf/enrol")
    assert post_form(client, f"/courses/ssrf/lessons/{lesson.id}/done").status_code == 302
    certificate = db.session.scalar(select(Certificate))
    assert certificate is not None and certificate.learner_name == name
    response = client.get(f"/certificates/{certificate.id}.pdf")
    assert response.status_code == 200
    text = flat(pdf_to_text(response.get_data()))
    assert name in text and '<img src="file:///etc/passwd"> {{7*7}}' in text
    assert "root:" not in text
    reader = pypdf.PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages[0].images) == 3  # the logo, the seal and the QR code only
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "&lt;img src=&#34;http://127.0.0.1" in html and name not in html
    assert listener.received() == []


def test_no_certificate_before_eligibility_or_for_another_user(app, client, users, create_course):
    """Issuance follows the learner's own completion only: a partly done course, a lesson
    marked done without enrolment, and fields naming another person give no certificate to
    anyone else."""
    course = create_course("elig", modules=1, lessons=2)
    first, last = course.published_modules[0].published_lessons
    login(client, "learner@example.org")
    post_form(client, "/courses/elig/enrol")
    forged = {"user_id": str(users["other_learner"].id), "enrolment_id": "1", "force": "1"}
    assert post_form(client, f"/courses/elig/lessons/{first.id}/done", forged).status_code == 302
    assert count(Certificate) == 0  # one lesson of two: not eligible
    # Another learner, not enrolled, marks the last lesson done: nothing is recorded.
    other = app.test_client()
    login(other, "other.learner@example.org")
    response = post_form(other, f"/courses/elig/lessons/{last.id}/done", forged)
    assert response.status_code in (302, 403, 404)
    assert count(Certificate) == 0
    # The learner finishes: one certificate, theirs.
    assert post_form(client, f"/courses/elig/lessons/{last.id}/done", forged).status_code == 302
    holders = db.session.scalars(select(Certificate.user_id)).all()
    assert holders == [users["learner"].id]
    # Direct issuance for an enrolment that is not complete is refused by the service too.
    enrolment = course_services.enrol(users["other_learner"], course)
    with pytest.raises(services.CertificateError):
        services.issue_certificate(enrolment)
    db.session.rollback()
    assert count(Certificate) == 1
