"""The register of certificates: scoping per role (tenant isolation in the page, CSV, XLSX and
ZIP), filters, exports, the ZIP of PDFs, one certificate's page, revocation and reissue."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from certificates import services
from certificates.models import Certificate
from lms.extensions import db
from lms.models import utcnow
from tests.conftest import csrf_token, login
from tests.support.measure import read_csv


def count_certificates() -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate))


def certificate_of(user, course) -> Certificate:  # noqa: ANN001
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user.id,
            Certificate.course_id == course.id,
            Certificate.replaced_by_id.is_(None),
        )
    )


@pytest.fixture()
def world(users, create_user, create_course, complete_course) -> SimpleNamespace:
    """Two companies, two trainers, two courses; both learners complete both courses.
    `ours` (trainer's course) and `theirs` (other trainer's course)."""
    other_trainer = create_user("other.trainer@example.org", roles=("trainer",))
    ours = create_course(
        "ours", title="Green Software", modules=1, lessons=1, owner=users["trainer"]
    )
    theirs = create_course(
        "theirs", title="Circular Economy", modules=1, lessons=1, owner=other_trainer
    )
    for learner in (users["learner"], users["other_learner"]):
        for course in (ours, theirs):
            complete_course(learner, course)
    assert count_certificates() == 4
    c = {
        (who, course.slug): certificate_of(users[who], course)
        for who in ("learner", "other_learner")
        for course in (ours, theirs)
    }
    return SimpleNamespace(ours=ours, theirs=theirs, c=c, other_trainer=other_trainer)


def post_form(client, path, data, **kwargs):  # noqa: ANN001, ANN003, ANN201
    """POST like a browser, with the CSRF token read from a page of this plugin."""
    token = csrf_token(client, "/certificates/my")
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def zip_post(client, data):  # noqa: ANN001, ANN201
    """POST to the ZIP route; `buffered` reads the streamed file and closes it."""
    return post_form(client, "/certificates/register/zip", data, buffered=True)


def codes_in(text: str, world: SimpleNamespace) -> set[tuple[str, str]]:
    return {key for key, certificate in world.c.items() if certificate.code in text}


ALL = {
    ("learner", "ours"),
    ("learner", "theirs"),
    ("other_learner", "ours"),
    ("other_learner", "theirs"),
}
SCOPES = {
    "admin@example.org": ALL,
    "coordinator@example.org": {("learner", "ours"), ("learner", "theirs")},
    "other.coordinator@example.org": {("other_learner", "ours"), ("other_learner", "theirs")},
    "trainer@example.org": {("learner", "ours"), ("other_learner", "ours")},
    "other.trainer@example.org": {("learner", "theirs"), ("other_learner", "theirs")},
}


# --- scoping ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["learner@example.org", "other.learner@example.org"])
def test_learners_have_no_register(client, world, email):
    login(client, email)
    assert client.get("/certificates/register").status_code == 403
    assert client.get("/certificates/register.csv").status_code == 403
    ids = [str(c.id) for c in world.c.values()]
    response = zip_post(client, {"ids": ids})
    assert response.status_code == 403 and b"PK" not in response.get_data()[:2]


def test_register_needs_login(client, world):
    for path in ("/certificates/register", "/certificates/register.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- filters ------------------------------------------------------------------------------


def test_filters(client, users, world):
    acme = users["learner"].memberships[0].company_id
    login(client, "admin@example.org")

    def found(query: str) -> set[tuple[str, str]]:
        response = client.get(f"/certificates/register?{query}")
        assert response.status_code == 200
        csv_rows = read_csv(client.get(f"/certificates/register.csv?{query}"))
        in_page = codes_in(response.get_data(as_text=True), world)
        in_csv = {k for k, c in world.c.items() if c.code in {r[0] for r in csv_rows[1:]}}
        assert in_page == in_csv, query
        return in_page

    assert found(f"course={world.ours.id}") == {("learner", "ours"), ("other_learner", "ours")}
    assert found(f"company={acme}") == {("learner", "ours"), ("learner", "theirs")}
    assert found("q=other.learner") == {("other_learner", "ours"), ("other_learner", "theirs")}
    assert found(f"q=other.learner&course={world.theirs.id}") == {("other_learner", "theirs")}

    # Status: revoke one, expire another.
    services.revoke(world.c[("learner", "ours")], "Mistake", users["admin"])
    world.c[("learner", "theirs")].valid_until = utcnow().date() - timedelta(days=1)
    db.session.commit()
    assert found("status=revoked") == {("learner", "ours")}
    assert found("status=expired") == {("learner", "theirs")}
    assert found("status=valid") == {("other_learner", "ours"), ("other_learner", "theirs")}

    # Period (UTC dates of issue).
    today = utcnow().date()
    assert found(f"issued_from={today}&issued_to={today}") == ALL
    assert found(f"issued_to={today - timedelta(days=1)}") == set()
    assert found(f"issued_from={today + timedelta(days=1)}") == set()


def test_bad_filter_values_are_ignored_with_a_message(client, world):
    login(client, "admin@example.org")
    response = client.get(
        "/certificates/register?course=abc&company=-1&status=bogus&issued_from=31.02.2025"
        "&page=zz&q=" + "x" * 5000
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "was not understood" in html


def test_register_pages(client, users, world, monkeypatch):
    from certificates.views import register as register_views

    monkeypatch.setattr(register_views, "PER_PAGE", 3)
    login(client, "admin@example.org")
    first = client.get("/certificates/register").get_data(as_text=True)
    second = client.get("/certificates/register?page=2").get_data(as_text=True)
    assert len(codes_in(first, world)) == 3 and len(codes_in(second, world)) == 1
    assert "Page 1 of 2" in first and 'href="/certificates/register?page=2"' in first
    filtered = client.get(f"/certificates/register?course={world.ours.id}").get_data(as_text=True)
    assert "Page 1 of" not in filtered


# --- exports ------------------------------------------------------------------------------


def test_export_downloads_are_attachments(client, world):
    login(client, "coordinator@example.org")
    for ext in ("csv", "xlsx"):
        response = client.get(f"/certificates/register.{ext}")
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and f".{ext}" in disposition


# --- ZIP ----------------------------------------------------------------------------------


def test_zip_contains_exactly_the_selected_pdfs(client, world):
    chosen = [world.c[("learner", "ours")], world.c[("other_learner", "theirs")]]
    login(client, "admin@example.org")
    response = zip_post(client, {"ids": [str(c.id) for c in chosen] * 2})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert len(pdfs) == 2 and all(name.isascii() for name in pdfs)
    assert {hashlib.sha256(archive.read(n)).hexdigest() for n in pdfs} == {
        c.pdf_sha256 for c in chosen
    }


def test_zip_of_everything_matching_the_filters(client, users, world):
    login(client, "coordinator@example.org")
    response = zip_post(client, {"scope": "matching", "course": str(world.theirs.id)})
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    digests = {hashlib.sha256(archive.read(n)).hexdigest() for n in archive.namelist() if n.endswith(".pdf")}  # fmt: skip
    assert digests == {world.c[("learner", "theirs")].pdf_sha256}


def test_zip_leaves_out_revoked_certificates_except_for_the_admin(client, users, world):
    revoked = world.c[("learner", "ours")]
    kept = world.c[("learner", "theirs")]
    services.revoke(revoked, "Mistake", users["admin"])
    db.session.commit()
    ids = [str(revoked.id), str(kept.id)]
    login(client, "coordinator@example.org")
    archive = zipfile.ZipFile(io.BytesIO(zip_post(client, {"ids": ids}).get_data()))  # fmt: skip
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert [hashlib.sha256(archive.read(n)).hexdigest() for n in pdfs] == [kept.pdf_sha256]
    assert "not included: revoked" in archive.read("certificates.csv").decode("utf-8-sig")
    login(client, "admin@example.org")
    archive = zipfile.ZipFile(io.BytesIO(zip_post(client, {"ids": ids}).get_data()))  # fmt: skip
    assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 2


def test_zip_refusals(client, users, world, monkeypatch):
    from certificates.views import register as register_views

    login(client, "coordinator@example.org")
    foreign = [str(world.c[("other_learner", "ours")].id)]
    response = zip_post(client, {"ids": foreign})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "None of the selected certificates" in response.get_data(as_text=True)

    response = zip_post(client, {})
    assert response.status_code == 400
    assert "Select at least one certificate" in response.get_data(as_text=True)

    too_many = [str(n) for n in range(1, register_views.ZIP_LIMIT + 2)]
    response = zip_post(client, {"ids": too_many})
    assert response.status_code == 400
    assert "at most 500" in response.get_data(as_text=True)

    monkeypatch.setattr(register_views, "ZIP_LIMIT", 1)
    response = zip_post(client, {"scope": "matching"})
    assert response.status_code == 400
    assert "2 certificates match" in response.get_data(as_text=True)

    # Without the CSRF token: refused.
    response = client.post("/certificates/register/zip", data={"ids": foreign}, buffered=True)
    assert response.status_code == 400 and response.mimetype == "text/html"


# --- one certificate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "status", "manage"),
    [
        ("admin@example.org", 200, True),
        ("trainer@example.org", 200, True),
        ("coordinator@example.org", 200, False),
        ("other.coordinator@example.org", 404, False),
        ("other.trainer@example.org", 404, False),
        ("learner@example.org", 403, False),
    ],
)
def test_detail_page(client, world, email, status, manage):
    certificate = world.c[("learner", "ours")]
    login(client, email)
    response = client.get(f"/certificates/{certificate.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert (certificate.code in html) == (status == 200)
    assert (f"/certificates/{certificate.id}/revoke" in html) == manage
    assert (f"/certificates/{certificate.id}/reissue" in html) == manage


def revoke(client, certificate, reason):  # noqa: ANN001, ANN201
    return post_form(client, f"/certificates/{certificate.id}/revoke", {"revoke-reason": reason})


def reissue(client, certificate, reason):  # noqa: ANN001, ANN201
    return post_form(client, f"/certificates/{certificate.id}/reissue", {"reissue-reason": reason})


@pytest.mark.parametrize("email", ["admin@example.org", "trainer@example.org"])
def test_revoke_by_admin_and_owning_trainer(client, users, world, email):
    certificate = world.c[("learner", "ours")]
    login(client, email)
    response = revoke(client, certificate, "   ")
    assert response.status_code == 400
    assert "Give the reason for revoking" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).revoked_at is None

    response = revoke(client, certificate, "Assessment taken by someone else")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/certificates/{certificate.id}")
    db.session.expire_all()
    stored = db.session.get(Certificate, certificate.id)
    assert stored.revoked_at is not None
    assert stored.revoked_reason == "Assessment taken by someone else"
    assert stored.revoked_by_id == users[email.split("@")[0]].id
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The certificate is revoked" in html and "Assessment taken by someone else" in html

    # Revoking again: a readable 400, nothing changed.
    response = revoke(client, stored, "Again")
    assert response.status_code == 400
    assert "already revoked" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).revoked_reason == (
        "Assessment taken by someone else"
    )


@pytest.mark.parametrize(
    "email",
    [
        "other.trainer@example.org",
        "coordinator@example.org",
        "other.coordinator@example.org",
        "learner@example.org",
        "other.learner@example.org",
    ],
)
def test_revoke_and_reissue_refused_to_others(client, world, email):
    certificate = world.c[("learner", "ours")]
    login(client, email)
    assert revoke(client, certificate, "Not yours").status_code == 404
    assert reissue(client, certificate, "Not yours").status_code == 404
    db.session.expire_all()
    stored = db.session.get(Certificate, certificate.id)
    assert stored.revoked_at is None and stored.replaced_by_id is None
    assert count_certificates() == 4


def test_revoke_and_reissue_need_the_csrf_token(client, world):
    certificate = world.c[("learner", "ours")]
    login(client, "admin@example.org")
    csrf_token(client, "/certificates/my")
    for action in ("revoke", "reissue"):
        response = client.post(
            f"/certificates/{certificate.id}/{action}", data={f"{action}-reason": "No token"}
        )
        assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).revoked_at is None
    assert count_certificates() == 4


@pytest.mark.parametrize("email", ["admin@example.org", "trainer@example.org"])
def test_reissue_by_admin_and_owning_trainer(client, users, world, email):
    old = world.c[("learner", "ours")]
    login(client, email)
    response = reissue(client, old, "")
    assert response.status_code == 400
    assert "Give the reason for reissuing" in response.get_data(as_text=True)
    assert count_certificates() == 4

    response = reissue(client, old, "Name corrected")
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Certificate, old.id)
    new = db.session.get(Certificate, stored.replaced_by_id)
    assert count_certificates() == 5
    assert stored.revoked_at is not None and stored.revoked_reason == "Name corrected"
    assert new.code != stored.code and new.revoked_at is None and new.sequence == 1
    assert response.headers["Location"].endswith(f"/certificates/{new.id}")

    html = client.get(f"/certificates/{new.id}").get_data(as_text=True)
    assert "A new certificate with a new code is issued" in html
    assert stored.code in html and new.code in html and "Name corrected" in html
    old_page = client.get(f"/certificates/{old.id}").get_data(as_text=True)
    assert f'href="/certificates/{new.id}"' in old_page
    # The old one cannot be reissued twice: a readable 400, nothing added.
    response = reissue(client, stored, "Again")
    assert response.status_code == 400
    assert "already been replaced" in response.get_data(as_text=True)
    assert count_certificates() == 5


def test_coordinator_of_a_company_sees_no_management_forms_and_can_download(client, world):
    certificate = world.c[("learner", "theirs")]
    login(client, "coordinator@example.org")
    html = client.get(f"/certificates/{certificate.id}").get_data(as_text=True)
    assert f'href="/certificates/{certificate.id}.pdf"' in html
    assert "Revoke the certificate" not in html
    pdf = client.get(f"/certificates/{certificate.id}.pdf")
    assert hashlib.sha256(pdf.get_data()).hexdigest() == certificate.pdf_sha256
