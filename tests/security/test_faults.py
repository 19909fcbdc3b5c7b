"""A failure injected in the middle of a quiz submission or a certificate issuance leaves
nothing half-written; the retry then succeeds exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from certificates.models import Certificate, CertificateDocument
from certificates.signals import certificate_issued
from courses.models import Enrolment, LessonProgress, ModuleCompletion
from lms.extensions import db
from quizzes.models import Answer, Attempt
from tests.conftest import login, post_form
from tests.quizzes.conftest import quiz_course  # noqa: F401 - fixture
from tests.quizzes.test_attempts import answers_form, qids, start


def count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


@contextmanager
def failing_issuance() -> Iterator[list]:
    """Make issuance fail after the certificate and its PDF are written, before the end of
    the transaction (a receiver of `certificate-issued` that raises)."""
    calls: list = []

    def explode(sender, **kwargs) -> None:  # noqa: ANN001
        calls.append(sender.code)
        raise RuntimeError("injected failure")

    certificate_issued.connect(explode)
    try:
        yield calls
    finally:
        certificate_issued.disconnect(explode)


def test_failure_during_quiz_submit_leaves_nothing_half_written(client, users, quiz_course):  # noqa: F811
    course, quiz = quiz_course
    login(client, "learner@example.org")
    lesson = course.published_modules[0].published_lessons[0]
    post_form(client, f"/courses/{course.slug}/lessons/{lesson.id}/done")
    attempt_id = start(client, quiz)
    form = answers_form(quiz, right=True)
    form.pop(f"q-{qids(quiz)['essay']}")

    with failing_issuance() as calls:
        response = post_form(
            client, f"/quizzes/attempts/{attempt_id}", {**form, "action": "submit"}
        )
    assert response.status_code == 500 and calls  # the fault struck after scoring and issuing
    assert "injected" not in response.get_data(as_text=True)
    attempt = db.session.get(Attempt, attempt_id)
    assert (
        attempt.submitted_at is None and attempt.status == "in_progress" and attempt.score is None
    )
    assert count(Answer) == 0 and count(ModuleCompletion) == 0
    assert count(Certificate) == 0 and count(CertificateDocument) == 0
    assert db.session.scalar(select(Enrolment.completed_at)) is None

    response = post_form(client, f"/quizzes/attempts/{attempt_id}", {**form, "action": "submit"})
    assert response.status_code == 302
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "finished" and attempt.passed
    assert count(Answer) == len(quiz.slots) and count(Certificate) == 1
    again = post_form(client, f"/quizzes/attempts/{attempt_id}", {**form, "action": "submit"})
    assert again.status_code == 409 and count(Certificate) == 1


def test_failure_during_issuance_leaves_nothing_half_written(client, users, create_course):
    course = create_course("faulty", modules=1, lessons=2)
    first, last = course.published_modules[0].published_lessons
    login(client, "learner@example.org")
    post_form(client, f"/courses/{course.slug}/enrol")
    assert post_form(client, f"/courses/{course.slug}/lessons/{first.id}/done").status_code == 302

    with failing_issuance():
        response = post_form(client, f"/courses/{course.slug}/lessons/{last.id}/done")
    assert response.status_code == 500
    assert (
        count(LessonProgress) == 1 and count(Certificate) == 0 and count(CertificateDocument) == 0
    )
    assert count(ModuleCompletion) == 0
    assert db.session.scalar(select(Enrolment.completed_at)) is None

    assert post_form(client, f"/courses/{course.slug}/lessons/{last.id}/done").status_code == 302
    assert (
        count(LessonProgress) == 2 and count(Certificate) == 1 and count(CertificateDocument) == 1
    )
    assert db.session.scalar(select(Enrolment.completed_at)) is not None
