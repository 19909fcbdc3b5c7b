"""Learners' surveys: the course's before/after skills self-assessment and the satisfaction
survey after an attended event. Each is answered once per person and phase; a second answer
gets 409 and changes nothing; ratings outside 1 to 5 get 400 and store nothing."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from courses import services, surveys
from courses.models import Course, CourseStatus
from courses.views import bp
from courses.views.events import _event_or_404
from lms.extensions import db
from lms.forms import Form, choices

RATINGS = [
    ("1", _l("1 – very basic")),
    ("2", _l("2 – basic")),
    ("3", _l("3 – intermediate")),
    ("4", _l("4 – good")),
    ("5", _l("5 – very good")),
]


class SkillsForm(Form):
    phase = HiddenField(validators=[InputRequired(), AnyOf(list(surveys.PHASES))])


class FeedbackForm(Form):
    satisfaction = RadioField(
        _l("How satisfied are you with this event?"),
        choices=choices(
            [
                ("1", _l("1 – not at all")),
                ("2", _l("2 – a little")),
                ("3", _l("3 – fairly")),
                ("4", _l("4 – very")),
                ("5", _l("5 – extremely")),
            ]
        ),
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("What should we keep or change? (optional)"),
        validators=[Optional(), Length(max=surveys.MAX_COMMENT)],
    )


# --- skills self-assessment ---------------------------------------------------------------


def _course_for_survey(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None or course.status == CourseStatus.DRAFT:
        abort(404)
    return course


def _skills_page(course: Course, phase: str | None, status: int = 200, error=None, values=None):  # noqa: ANN001, ANN202
    return render_template(
        "courses/surveys/skills.html",
        course=course,
        phase=phase,
        questions=surveys.questions(course),
        ratings=RATINGS,
        values=values or {},
        form=SkillsForm(formdata=None, data={"phase": phase or ""}),
        error=error,
    ), status


@bp.route("/<slug>/skills", methods=["GET", "POST"])
@login_required
def skills_assessment(slug: str):
    course = _course_for_survey(slug)
    enrolment = services.find_enrolment(current_user.id, course.id)
    if enrolment is None:
        flash(_("Enrol in the course to assess your skills."), "error")
        return redirect(url_for("courses.course", slug=course.slug))
    phase = surveys.next_phase(current_user, course, enrolment)
    if request.method == "GET":
        return _skills_page(course, phase)
    form = SkillsForm()
    if not form.validate_on_submit():
        return _skills_page(course, phase, 400, _("The form expired. Please try again."))
    count = len(surveys.questions(course))
    ratings = [request.form.get(f"q{i}", "") for i in range(count)]
    try:
        surveys.submit_assessment(current_user, course, form.phase.data, ratings)
    except surveys.AlreadyAnswered as error:
        db.session.rollback()
        return _skills_page(course, phase, 409, error.message)
    except surveys.ServiceError as error:
        db.session.rollback()
        values = {f"q{i}": r for i, r in enumerate(ratings)}
        return _skills_page(course, phase, 400, error.message, values)
    db.session.commit()
    flash(_("Thank you! Your self-assessment is saved."), "success")
    return redirect(url_for("courses.course", slug=course.slug))


def skills_prompt_hook(
    sender: str, course: Course, progress=None, enrolment=None, **kwargs: object
) -> str:  # noqa: ANN001, E501
    """`course-outline-end` and `course-completed`: invite the learner to the self-assessment
    phase that is open for them."""
    if not current_user.is_authenticated:
        return ""
    enrolment = enrolment or (progress.enrolment if progress is not None else None)
    phase = surveys.next_phase(current_user, course, enrolment)
    if phase is None:
        return ""
    completed = enrolment is not None and enrolment.completed_at is not None
    if sender == "course-outline-end" and (phase == "after" or completed):
        return ""  # shown once, with the completion message, when the course is complete
    return render_template("courses/surveys/_prompt.html", course=course, phase=phase)


# --- satisfaction after an event ----------------------------------------------------------


def _feedback_page(event, form: FeedbackForm, status: int = 200, error=None):  # noqa: ANN001, ANN202
    return render_template(
        "courses/surveys/feedback.html",
        event=event,
        form=form,
        answered=surveys.find_feedback(event, current_user),
        open=surveys.feedback_open(event, current_user),
        error=error,
    ), status


@bp.route("/events/<int:event_id>/feedback", methods=["GET", "POST"])
@login_required
def event_feedback(event_id: int):
    event = _event_or_404(event_id)
    if request.method == "GET":
        return _feedback_page(event, FeedbackForm(formdata=None))
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _feedback_page(event, form, 400)
    try:
        surveys.submit_feedback(
            event, current_user._get_current_object(), form.satisfaction.data, form.comment.data
        )
    except surveys.AlreadyAnswered as error:
        db.session.rollback()
        return _feedback_page(_event_or_404(event_id), form, 409, error.message)
    except surveys.ServiceError as error:
        db.session.rollback()
        return _feedback_page(_event_or_404(event_id), form, 400, error.message)
    db.session.commit()
    flash(_("Thank you for your feedback!"), "success")
    return redirect(url_for("courses.event", event_id=event_id))
