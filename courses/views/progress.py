"""Following progress: coordinators follow their company's staff, trainers the learners of
their courses, admins everyone; each table also downloads as CSV or XLSX.

Tenant isolation: a coordinator reaches only the companies they coordinate and only members of
those companies; anything else answers 404, the same as an id that does not exist. Trainers
reach only the courses they own (404 otherwise)."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from courses import completion, reports, services
from courses.access import can_edit, course_or_404
from courses.models import Course, Enrolment, Module, ModuleCompletion
from courses.views import bp
from lms.exports import tabular_response
from lms.extensions import db
from lms.forms import Form
from lms.models import Company, User
from lms.security import roles_required
from lms.services import ServiceError


class EnrolStaffForm(Form):
    """A coordinator enrols chosen members of their company (or all of them) in a course."""

    course_id = SelectField(
        _l("Course"), coerce=int, validators=[InputRequired(_l("Choose a course."))]
    )
    everyone = BooleanField(_l("Everyone in the company with an active account"))
    user_ids = SelectMultipleField(
        _l("Staff to enrol"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def __init__(self, company_id: int, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.course_id.choices = reports.open_courses()
        self.user_ids.choices = reports.member_choices(company_id)

    def chosen_ids(self) -> list[int]:
        if self.everyone.data:
            return [value for value, _label in self.user_ids.choices]
        return list(self.user_ids.data or [])


# --- access -------------------------------------------------------------------------------


def _company_or_404(company_id: int) -> Company:
    """A company the current user may follow: one they coordinate, or any for an admin."""
    if company_id not in current_user.coordinated_company_ids and not current_user.is_admin:
        abort(404)
    company = db.session.get(Company, company_id)
    if company is None:
        abort(404)
    return company


def _followed_course_or_404(slug: str) -> Course:
    """A course whose learners the current user may follow: one they own, or any for an
    admin. Coordinators follow people through their company, not through courses."""
    course = course_or_404(slug)
    if not can_edit(current_user, course):
        abort(404)
    return course


# --- pages --------------------------------------------------------------------------------


@bp.route("/progress")
@roles_required("coordinator", "trainer", "admin")
def progress_index():
    """Where to follow progress: the companies one coordinates, the courses one teaches;
    admins get every company and every course."""
    is_admin = current_user.is_admin
    is_trainer = current_user.has_role("trainer")
    coordinated = sorted(current_user.coordinated_company_ids)
    if not is_admin and not is_trainer and len(coordinated) == 1:
        return redirect(url_for("courses.progress_company", company_id=coordinated[0]))
    companies = (
        reports.company_summaries(None if is_admin else coordinated)
        if is_admin or coordinated
        else []
    )
    courses = (
        reports.course_summaries(None if is_admin else current_user)
        if is_admin or is_trainer
        else []
    )
    return render_template(
        "courses/progress/index.html",
        companies=companies,
        courses=courses,
        show_companies=is_admin or bool(coordinated),
        show_courses=is_admin or is_trainer,
    )


def _render_company(company: Company, form: EnrolStaffForm, status: int = 200):
    matrix = reports.company_matrix(company)
    return (
        render_template("courses/progress/company.html", matrix=matrix, company=company, form=form),
        status,
    )


@bp.route("/progress/company/<int:company_id>")
@roles_required("coordinator", "admin")
def progress_company(company_id: int):
    company = _company_or_404(company_id)
    return _render_company(company, EnrolStaffForm(company.id, formdata=None))


@bp.route("/progress/company/<int:company_id>/enrol", methods=["POST"])
@roles_required("coordinator", "admin")
def progress_enrol(company_id: int):
    """Enrol chosen members of the company in a published course. Only the company's active
    members are choices, so an id from anywhere else fails validation (400, nothing stored).
    Enrolling someone already enrolled changes nothing."""
    company = _company_or_404(company_id)
    form = EnrolStaffForm(company.id)
    if not form.validate_on_submit():
        return _render_company(company, form, 400)
    chosen = form.chosen_ids()
    if not chosen:
        form.user_ids.errors = [_("Choose at least one person, or everyone.")]
        return _render_company(company, form, 400)
    course = db.session.get(Course, form.course_id.data)
    users = db.session.scalars(select(User).where(User.id.in_(chosen))).all()
    already = reports.enrolled_user_ids(course.id, chosen)
    try:
        for user in users:
            services.enrol(user, course, by=current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("courses.progress_company", company_id=company.id))
    db.session.commit()
    added = len(users) - len(already)
    if added:
        message = ngettext(
            "%(num)s person is now enrolled in “%(course)s”.",
            "%(num)s people are now enrolled in “%(course)s”.",
            added,
            course=course.title,
        )
        flash(message, "success")
    if already:
        message = ngettext(
            "%(num)s person you chose was already enrolled; nothing changed for them.",
            "%(num)s people you chose were already enrolled; nothing changed for them.",
            len(already),
        )
        flash(message, "info")
    return redirect(url_for("courses.progress_company", company_id=company.id))


@bp.route("/progress/company/<int:company_id>/learners/<int:user_id>")
@roles_required("coordinator", "admin")
def progress_learner(company_id: int, user_id: int):
    """One member of the company: every enrolment, what is missing, module completions."""
    company = _company_or_404(company_id)
    if not reports.is_member(company.id, user_id):
        abort(404)
    learner = db.session.get(User, user_id)
    if learner is None:  # deleted between the two reads
        abort(404)
    enrolments = db.session.scalars(
        select(Enrolment)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.user_id == learner.id, Course.status.in_(reports.FOLLOWED_STATUSES))
        .options(
            selectinload(Enrolment.course).selectinload(Course.modules).selectinload(Module.lessons)
        )
        .order_by(Enrolment.completed_at.is_not(None), Enrolment.enrolled_at.desc())
    ).all()
    module_done_at = dict(
        db.session.execute(
            select(ModuleCompletion.module_id, ModuleCompletion.completed_at).where(
                ModuleCompletion.user_id == learner.id
            )
        ).all()
    )
    items = [(e, completion.course_progress(e.course, learner, e)) for e in enrolments]
    return render_template(
        "courses/progress/learner.html",
        company=company,
        learner=learner,
        items=items,
        module_done_at=module_done_at,
    )


@bp.route("/progress/course/<slug>")
@roles_required("trainer", "coordinator", "admin")
def progress_course(slug: str):
    """A course's learners across companies, for its trainers and admins."""
    course = _followed_course_or_404(slug)
    rows = reports.course_learners(course)
    completed = sum(1 for r in rows if r.cell.completed)
    average = round(sum(r.cell.percent for r in rows) / len(rows)) if rows else 0
    return render_template(
        "courses/progress/course.html",
        course=course,
        rows=rows,
        completed=completed,
        average=average,
    )


# --- exports ------------------------------------------------------------------------------


def _company_export(company_id: int, fmt: str):
    company = _company_or_404(company_id)
    matrix = reports.company_matrix(company)
    headers = [
        _("Learner"),
        _("Email"),
        _("Job role"),
        _("Course"),
        _("Course language"),
        _("Enrolled at (UTC)"),
        _("Progress (%)"),
        _("Completed at (UTC)"),
        _("Last activity (UTC)"),
    ]
    rows = (
        [
            learner.name,
            learner.email,
            learner.job_role,
            course.title,
            course.language,
            cell.enrolled_at,
            cell.percent,
            cell.completed_at,
            cell.last_activity_at,
        ]
        for learner, course, cell in matrix.export_rows()
    )
    stem = f"progress-{company.name}-{date.today().isoformat()}"
    return tabular_response(stem, headers, rows, fmt, sheet_title=_("Progress"))


@bp.route("/progress/company/<int:company_id>/export.csv")
@roles_required("coordinator", "admin")
def progress_company_csv(company_id: int):
    return _company_export(company_id, "csv")


@bp.route("/progress/company/<int:company_id>/export.xlsx")
@roles_required("coordinator", "admin")
def progress_company_xlsx(company_id: int):
    return _company_export(company_id, "xlsx")


def _course_export(slug: str, fmt: str):
    course = _followed_course_or_404(slug)
    headers = [
        _("Learner"),
        _("Email"),
        _("Company"),
        _("Job role"),
        _("Enrolled at (UTC)"),
        _("Progress (%)"),
        _("Completed at (UTC)"),
        _("Last activity (UTC)"),
    ]
    rows = (
        [
            row.learner.name,
            row.learner.email,
            row.company_name,
            row.learner.job_role,
            row.cell.enrolled_at,
            row.cell.percent,
            row.cell.completed_at,
            row.cell.last_activity_at,
        ]
        for row in reports.course_learners(course)
    )
    stem = f"progress-{course.slug}-{date.today().isoformat()}"
    return tabular_response(stem, headers, rows, fmt, sheet_title=_("Progress"))


@bp.route("/progress/course/<slug>/export.csv")
@roles_required("trainer", "coordinator", "admin")
def progress_course_csv(slug: str):
    return _course_export(slug, "csv")


@bp.route("/progress/course/<slug>/export.xlsx")
@roles_required("trainer", "coordinator", "admin")
def progress_course_xlsx(slug: str):
    return _course_export(slug, "xlsx")
