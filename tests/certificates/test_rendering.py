"""The certificate PDF is rendered after the issuing transaction commits: other writers do not
wait behind the renderer, and a rolled-back issuance renders nothing."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, make_url, select

from certificates import pdf
from certificates.models import Certificate, CertificateDocument
from courses import services as course_services
from lms.extensions import db


def _count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.sqlite_only
def test_rendering_does_not_hold_the_write_lock(
    app, database_url, users, create_course, monkeypatch
):
    """While the PDF renders, another connection can take SQLite's write lock at once."""
    path = make_url(database_url).database
    real_render = pdf.render_certificate_pdf
    could_write: list[bool] = []

    def render_and_probe(*args, **kwargs):  # noqa: ANN002, ANN003
        outside = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            outside.execute("BEGIN IMMEDIATE")
            outside.execute("ROLLBACK")
            could_write.append(True)
        except sqlite3.OperationalError:
            could_write.append(False)
        finally:
            outside.close()
        return real_render(*args, **kwargs)

    monkeypatch.setattr(pdf, "render_certificate_pdf", render_and_probe)
    course = create_course("rendered-later", modules=1, lessons=1)
    other = create_course("same-transaction", modules=1, lessons=2)  # commits: made first
    course_services.enrol(users["learner"], course)
    course_services.complete_lesson(
        users["learner"], course.published_modules[0].published_lessons[0]
    )
    # More work in the same transaction after the issuance, with a savepoint of its own: its
    # release is not the commit, and nothing may render while the transaction holds the lock.
    course_services.enrol(users["learner"], other)
    course_services.complete_lesson(
        users["learner"], other.published_modules[0].published_lessons[0]
    )
    assert could_write == []
    db.session.commit()

    assert could_write == [True]
    certificate = db.session.scalar(select(Certificate))
    assert certificate.document is not None and certificate.document.size > 1000
    assert certificate.pdf_sha256 and len(certificate.pdf_sha256) == 64


def test_a_rolled_back_issuance_renders_nothing(app, users, create_course, monkeypatch):
    rendered: list[object] = []
    monkeypatch.setattr(
        pdf, "render_certificate_pdf", lambda *a, **k: rendered.append(a) or b"%PDF-1.4"
    )
    course = create_course("rolled-back", modules=1, lessons=1)
    course_services.enrol(users["learner"], course)
    course_services.complete_lesson(
        users["learner"], course.published_modules[0].published_lessons[0]
    )
    db.session.flush()
    assert _count(Certificate) == 1  # issued inside the transaction
    db.session.rollback()
    db.session.commit()  # a later, unrelated commit must not render the forgotten one

    assert rendered == []
    assert _count(Certificate) == 0 and _count(CertificateDocument) == 0


def test_a_failed_render_leaves_the_certificate_and_the_first_download_renders_it(
    app, users, create_course, complete_course, monkeypatch
):
    from certificates import services

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("renderer down")

    real_render = pdf.render_certificate_pdf
    monkeypatch.setattr(pdf, "render_certificate_pdf", broken)
    complete_course(users["learner"], create_course("render-fails", modules=1, lessons=1))
    certificate = db.session.scalar(select(Certificate))
    assert certificate is not None and certificate.document is None

    monkeypatch.setattr(pdf, "render_certificate_pdf", real_render)
    data = services.document_bytes(certificate)
    db.session.commit()
    assert data.startswith(b"%PDF") and _count(CertificateDocument) == 1
