"""Learners: a quiz's page, taking an attempt (save, submit) and its review."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select
from werkzeug.datastructures import MultiDict

from courses.models import Course
from courses.outline import outline_for
from lms.extensions import db
from lms.forms import ActionForm
from lms.models import utcnow
from quizzes import questions, services
from quizzes.models import Attempt, AttemptStatus, Quiz
from quizzes.review import review_rights
from quizzes.views import bp


def _quiz_or_404(quiz_id: int) -> tuple[Quiz, Course]:
    quiz = db.session.get(Quiz, quiz_id)
    course = db.session.get(Course, quiz.course_id) if quiz else None
    return _check_quiz(quiz, course)


def _check_quiz(quiz: Quiz | None, course: Course | None) -> tuple[Quiz, Course]:
    if quiz is None or course is None or course.version == 0:
        abort(404)
    if quiz.module_id is not None and quiz.module_id not in {
        m.id for m in outline_for(course).modules
    }:
        abort(404)  # the module is not (or no longer) published
    return quiz, course


# An attempt with its quiz and course in one statement (attempt pages, the submit POST).
_ATTEMPT_QUIZ_COURSE = (
    select(Attempt, Quiz, Course)
    .join(Quiz, Quiz.id == Attempt.quiz_id)
    .join(Course, Course.id == Quiz.course_id)
    .where(Attempt.id == bindparam("attempt_id"))
)


def _own_attempt_or_404(attempt_id: int) -> tuple[Attempt, Quiz, Course]:
    """Only the learner who made it reaches an attempt (anyone else: 404), and only while its
    quiz is visible (as `_quiz_or_404`)."""
    found = db.session.execute(_ATTEMPT_QUIZ_COURSE, {"attempt_id": attempt_id}).first()
    if found is None or found[0].user_id != current_user.id:
        abort(404)
    attempt, quiz, course = found
    return (attempt, *_check_quiz(quiz, course))


@bp.route("/<int:quiz_id>")
@login_required
def quiz(quiz_id: int):
    quiz, course = _quiz_or_404(quiz_id)
    state = services.quiz_state(quiz, current_user)
    if state.in_progress is not None and services.close_if_expired(state.in_progress):
        db.session.commit()
        state = services.quiz_state(quiz, current_user)
    rights = {a.id: review_rights(quiz, a, state) for a in state.attempts}
    from courses.services import find_enrolment

    return render_template(
        "quizzes/quiz.html",
        quiz=quiz,
        course=course,
        state=state,
        rights=rights,
        enrolled=find_enrolment(current_user.id, course.id) is not None,
        action_form=ActionForm(),
        question_count=len(quiz.slots) or quiz.draw_count or 0,
    )


@bp.route("/<int:quiz_id>/start", methods=["POST"])
@login_required
def start(quiz_id: int):
    quiz, course = _quiz_or_404(quiz_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        attempt = services.start_attempt(quiz, current_user)
    except services.ServiceError as error:
        db.session.commit()  # an expired attempt may have been closed meanwhile
        flash(str(error.message), "error")
        return redirect(url_for("quizzes.quiz", quiz_id=quiz.id))
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


def responses_from_form(attempt: Attempt, form: MultiDict) -> dict[int, Any]:
    """Turn the attempt form into response dicts. Fields are named q-<question id> (and
    q-<question id>-<part id> for matching and ordering); ids are checked by validation."""
    responses: dict[int, Any] = {}
    for qid, question, _seed in services.attempt_questions(attempt):
        key = f"q-{qid}"
        kind = question.type
        if kind == "single":
            if form.get(key):
                responses[qid] = {"option": form.get(key)}
        elif kind == "multiple":
            if key in form or f"{key}-present" in form:
                responses[qid] = {"options": form.getlist(key)}
        elif kind == "truefalse":
            if form.get(key) in ("true", "false"):
                responses[qid] = {"value": form.get(key) == "true"}
            elif form.get(key):
                responses[qid] = {"value": form.get(key)}  # refused by validation
        elif kind in ("shortanswer", "numerical", "essay"):
            if key in form:
                responses[qid] = {"text": form.get(key, "")}
        elif kind == "matching":
            pairs = {k[len(key) + 1 :]: v for k, v in form.items() if k.startswith(key + "-") and v}
            if pairs:
                responses[qid] = {"pairs": pairs}
        elif kind == "ordering":
            positions = {k[len(key) + 1 :]: v for k, v in form.items() if k.startswith(key + "-")}
            if positions:
                try:
                    ranked = sorted(positions, key=lambda item: int(positions[item]))
                except ValueError:
                    ranked = ["not-a-position"]
                responses[qid] = {"order": ranked}
    # Fields for questions that are not in the attempt are refused, not ignored.
    known = {f"q-{qid}" for qid, _q, _s in services.attempt_questions(attempt)}
    for name in form:
        if name.startswith("q-") and not any(name == k or name.startswith(k + "-") for k in known):
            try:
                responses[int(name.split("-")[1])] = {"text": ""}
            except (ValueError, IndexError):
                responses[-1] = {}
    return responses


@bp.route("/attempts/<int:attempt_id>", methods=["GET", "POST"])
@login_required
def attempt(attempt_id: int):
    attempt, quiz, course = _own_attempt_or_404(attempt_id)
    if request.method == "POST":
        form = ActionForm()
        if not form.validate_on_submit():
            abort(400)
        responses = responses_from_form(attempt, request.form)
        try:
            if request.form.get("action") == "submit":
                services.submit_attempt(attempt, responses)
                # Built before the commit, which expires the attempt (no reload afterwards).
                review_url = url_for("quizzes.review", attempt_id=attempt.id)
                db.session.commit()
                return redirect(review_url)
            services.save_answers(attempt, responses)
        except services.InvalidAnswers as error:
            db.session.rollback()
            return render_template("quizzes/error.html", message=error.message, quiz=quiz), 400
        except services.AttemptClosed as error:
            db.session.commit()  # closing an expired attempt is kept
            flash(str(error.message), "error")
            return redirect(url_for("quizzes.quiz", quiz_id=quiz.id)), 409
        db.session.commit()
        flash(_("Your answers are saved."), "success")
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    if services.close_if_expired(attempt):
        db.session.commit()
        flash(_("The time was over: your saved answers were submitted."), "info")
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    saved = {a.question_id: a.response for a in attempt.answers}
    items = [
        {
            "id": qid,
            "view": questions.public_view(question, shuffle_seed=seed),
            "saved": saved.get(qid) or {},
        }
        for qid, question, seed in services.attempt_questions(attempt)
    ]
    seconds_left = None
    if attempt.deadline_at is not None:
        seconds_left = max(int((attempt.deadline_at - utcnow()).total_seconds()), 0)
    return render_template(
        "quizzes/attempt.html",
        attempt=attempt,
        quiz=quiz,
        course=course,
        items=items,
        action_form=ActionForm(),
        seconds_left=seconds_left,
    )


@bp.route("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    attempt, quiz, course = _own_attempt_or_404(attempt_id)
    if attempt.status == AttemptStatus.IN_PROGRESS and not services.close_if_expired(attempt):
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    db.session.commit()
    state = services.quiz_state(quiz, current_user)
    rights = review_rights(quiz, attempt, state)
    from quizzes.review import review_items

    return render_template(
        "quizzes/review.html",
        attempt=attempt,
        quiz=quiz,
        course=course,
        state=state,
        rights=rights,
        items=review_items(attempt, rights),
    )
