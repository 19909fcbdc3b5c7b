"""`flask certificates issue-pending | verify | revoke`, run through the app's CLI runner;
every outcome is checked in the database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select

from certificates import services
from certificates.models import Certificate, CertificateDocument
from lms.extensions import db


def count(model) -> int:  # noqa: ANN001
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def run(app, *args: str):  # noqa: ANN001, ANN201
    db.session.rollback()  # the command has its own session; ours must not hold a transaction
    result = app.test_cli_runner().invoke(args=["certificates", *args])
    db.session.expire_all()
    return result


def forget_certificates() -> None:
    """Completions recorded while the plugin was off: no certificate rows."""
    db.session.execute(delete(CertificateDocument))
    db.session.execute(delete(Certificate))
    db.session.commit()


@pytest.fixture
def certificate(users, create_course, complete_course) -> Certificate:
    learner = users["learner"]
    learner.name = "Мария Иванова"
    course = create_course("c1", modules=1, lessons=1, title="Circular design")
    complete_course(learner, course)
    return db.session.scalar(select(Certificate))


def test_issue_pending_issues_what_is_missing_and_is_idempotent(
    app, users, create_course, complete_course
):
    course = create_course("c1", modules=1, lessons=2)
    first = complete_course(users["learner"], course)
    second = complete_course(users["other_learner"], course)
    forget_certificates()
    assert [e.id for e in services.pending_enrolments()] == [first.id, second.id]

    result = run(app, "issue-pending")
    assert result.exit_code == 0, result.output + result.stderr
    assert "2 certificate(s) issued, 0 already present, 0 failed." in result.output
    assert count(Certificate) == 2 and count(CertificateDocument) == 2
    rows = db.session.scalars(select(Certificate).order_by(Certificate.user_id)).all()
    assert {c.user_id for c in rows} == {users["learner"].id, users["other_learner"].id}
    assert all(c.course_version == course.version and c.sequence == 0 for c in rows)
    assert all(c.pdf_sha256 and c.document.size > 1000 for c in rows)
    assert services.pending_enrolments() == []

    again = run(app, "issue-pending")
    assert again.exit_code == 0
    assert "0 certificate(s) issued, 2 already present, 0 failed." in again.output
    assert count(Certificate) == 2 and {c.code for c in rows} == set(
        db.session.scalars(select(Certificate.code))
    )


def test_issue_pending_for_one_course(app, users, create_course, complete_course):
    c1 = create_course("c1", modules=1, lessons=1)
    c2 = create_course("c2", modules=1, lessons=1)
    complete_course(users["learner"], c1)
    complete_course(users["learner"], c2)
    forget_certificates()

    result = run(app, "issue-pending", "--course", "c2")
    assert result.exit_code == 0, result.output + result.stderr
    assert "1 certificate(s) issued, 0 already present, 0 failed in c2." in result.output
    assert list(db.session.scalars(select(Certificate.course_id))) == [c2.id]

    unknown = run(app, "issue-pending", "--course", "no-such-course")
    assert unknown.exit_code == 1 and "No course no-such-course." in unknown.stderr
    assert count(Certificate) == 1


def test_issue_pending_reports_failures_and_goes_on(
    app, users, create_course, complete_course, monkeypatch
):
    course = create_course("c1", modules=1, lessons=1)
    complete_course(users["learner"], course)
    complete_course(users["other_learner"], course)
    forget_certificates()
    real = services.build_snapshot
    refused = users["learner"].id

    def build_snapshot(enrolment, code, issued_at):  # noqa: ANN001, ANN202
        if enrolment.user_id == refused:
            raise services.CertificateError("The learner's name is missing.")
        return real(enrolment, code, issued_at)

    monkeypatch.setattr(services, "build_snapshot", build_snapshot)
    result = run(app, "issue-pending")
    assert result.exit_code == 1
    assert "1 certificate(s) issued, 0 already present, 1 failed." in result.output
    assert "(learner@example.org in c1): The learner's name is missing." in result.stderr
    assert list(db.session.scalars(select(Certificate.user_id))) == [users["other_learner"].id]
    assert count(CertificateDocument) == 1

    monkeypatch.setattr(services, "build_snapshot", real)
    retry = run(app, "issue-pending")
    assert retry.exit_code == 0
    assert "1 certificate(s) issued, 1 already present, 0 failed." in retry.output
    assert count(Certificate) == 2


def test_verify_valid_with_any_spelling_of_the_code(app, certificate):
    code = certificate.code
    grouped = "-".join(code[i : i + 4] for i in range(0, 26, 4)).lower()
    for spelling in (code, grouped):
        result = run(app, "verify", spelling)
        assert result.exit_code == 0, result.output + result.stderr
        assert "Status:      VALID" in result.output
        assert "Мария Иванова" in result.output and "Circular design (version 1)" in result.output
        assert f"Issued on:   {certificate.issued_at.date().isoformat()}" in result.output
        assert f"/verify/{code}" in result.output and certificate.pdf_sha256 in result.output


def test_verify_revoked_and_expired_exit_1(app, certificate):
    certificate.valid_until = date(2001, 1, 1)
    db.session.commit()
    expired = run(app, "verify", certificate.code)
    assert expired.exit_code == 1 and "Status:      EXPIRED" in expired.output
    assert "Valid until: 2001-01-01" in expired.output

    services.revoke(db.session.get(Certificate, certificate.id), "Issued by mistake", None)
    db.session.commit()
    revoked = run(app, "verify", certificate.code)
    assert revoked.exit_code == 1 and "Status:      REVOKED" in revoked.output
    assert "Reason:      Issued by mistake" in revoked.output


@pytest.mark.parametrize("code", ["A" * 26, "not-a-code", "<script>", "1" * 26])
def test_verify_unknown_or_malformed_exit_2(app, certificate, code):
    result = run(app, "verify", code)
    assert result.exit_code == 2
    assert "No certificate has the code" in result.stderr or "is not a certificate code" in (
        result.stderr
    )
    assert "Status" not in result.output


def test_revoke_records_reason_once(app, certificate):
    result = run(app, "revoke", certificate.code.lower(), "--reason", "  Duplicate account  ")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"Revoked {certificate.code}" in result.output
    stored = db.session.get(Certificate, certificate.id)
    assert stored.revoked_at is not None and stored.revoked_by_id is None
    assert stored.revoked_reason == "Duplicate account"
    revoked_at = stored.revoked_at

    again = run(app, "revoke", certificate.code, "--reason", "Another reason")
    assert again.exit_code == 1 and "already revoked" in again.stderr
    stored = db.session.get(Certificate, certificate.id)
    assert stored.revoked_reason == "Duplicate account" and stored.revoked_at == revoked_at


def test_revoke_refuses_empty_reason_and_unknown_code(app, certificate):
    empty = run(app, "revoke", certificate.code, "--reason", "   ")
    assert empty.exit_code == 1 and "Give the reason" in empty.stderr
    missing = run(app, "revoke", certificate.code)
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    unknown = run(app, "revoke", "B" * 26, "--reason", "Fraud")
    assert unknown.exit_code == 2 and "No certificate has the code" in unknown.stderr
    too_long = run(app, "revoke", certificate.code, "--reason", "x" * 501)
    assert too_long.exit_code == 1 and "at most 500 characters" in too_long.stderr
    stored = db.session.get(Certificate, certificate.id)
    assert stored.revoked_at is None and stored.revoked_reason is None
    assert count(Certificate) == 1
