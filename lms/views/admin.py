"""Cluster administration: companies, users, roles, deactivation and staff CSV import."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from lms import services
from lms.extensions import db
from lms.forms import ActionForm, CompanyForm, FiguresForm, UserForm, UserImportForm, choices
from lms.models import Company, Membership, User, UserRole
from lms.security import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50


@bp.before_request
@roles_required("admin")
def _admins_only() -> None:
    """Every admin route: cluster admins only (403 for other roles)."""


def _get_or_404(model: type, object_id: int):  # noqa: ANN202
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _search_term() -> str:
    return (request.args.get("q") or "").strip()[:100]


@bp.route("/")
def index():
    counts = {
        "companies": db.session.scalar(select(func.count(Company.id))),
        "users": db.session.scalar(select(func.count(User.id))),
        "active_users": db.session.scalar(select(func.count(User.id)).where(User.active)),
    }
    return render_template("admin/index.html", counts=counts)


# --- companies ----------------------------------------------------------------------------


@bp.route("/companies")
def companies():
    q = _search_term()
    query = select(Company).order_by(Company.name)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Company.name.ilike(like), Company.uic.ilike(like)))
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    staff_counts = dict(
        db.session.execute(
            select(Membership.company_id, func.count(Membership.id))
            .where(Membership.company_id.in_([c.id for c in page.items]))
            .group_by(Membership.company_id)
        ).all()
    )
    return render_template("admin/companies.html", page=page, q=q, staff_counts=staff_counts)


def _company_data(form: CompanyForm) -> services.CompanyData:
    return services.CompanyData(
        name=form.name.data,
        uic=form.uic.data,
        registered_on=form.registered_on.data,
        is_listed=form.is_listed.data,
        nace_code=form.nace_code.data,
        nuts3=form.nuts3.data or "BG341",
    )


def _field_error(form, error: services.ServiceError, default: str) -> None:  # noqa: ANN001
    field = getattr(form, error.field or default, None) or getattr(form, default)
    field.errors = [*field.errors, error.message]


@bp.route("/companies/new", methods=["GET", "POST"])
def company_new():
    form = CompanyForm()
    figures = FiguresForm(prefix="fig")
    if form.validate_on_submit() and figures.validate():
        data = services.FiguresData(
            reference_year=figures.reference_year.data,
            headcount=figures.headcount.data,
            turnover_eur=figures.turnover_eur.data,
            balance_sheet_eur=figures.balance_sheet_eur.data,
        )
        try:
            company = services.create_company(_company_data(form), data)
        except services.ServiceError as error:
            db.session.rollback()
            _field_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("Company “%(name)s” is registered.", name=company.name), "success")
            return redirect(url_for("admin.company_edit", company_id=company.id))
    return render_template("admin/company_form.html", form=form, figures=figures, company=None)


@bp.route("/companies/<int:company_id>", methods=["GET", "POST"])
def company_edit(company_id: int):
    company = _get_or_404(Company, company_id)
    form = CompanyForm(obj=company)
    if form.validate_on_submit():
        try:
            services.update_company(company, _company_data(form))
        except services.ServiceError as error:
            db.session.rollback()
            _field_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("admin.company_edit", company_id=company.id))
    latest = company.latest_figures
    figures = FiguresForm(prefix="fig", obj=latest, formdata=None)
    return render_template(
        "admin/company_form.html",
        form=form,
        figures=figures,
        company=company,
        action_form=ActionForm(),
    )


@bp.route("/companies/<int:company_id>/figures", methods=["POST"])
def company_figures(company_id: int):
    company = _get_or_404(Company, company_id)
    figures = FiguresForm(prefix="fig")
    if figures.validate_on_submit():
        data = services.FiguresData(
            reference_year=figures.reference_year.data,
            headcount=figures.headcount.data,
            turnover_eur=figures.turnover_eur.data,
            balance_sheet_eur=figures.balance_sheet_eur.data,
        )
        try:
            services.set_company_figures(company, data)
        except services.ServiceError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("The figures for %(year)s are saved.", year=data.reference_year), "success")
            return redirect(url_for("admin.company_edit", company_id=company.id))
    form = CompanyForm(obj=company, formdata=None)
    return render_template(
        "admin/company_form.html",
        form=form,
        figures=figures,
        company=company,
        action_form=ActionForm(),
    ), 400


@bp.route("/companies/<int:company_id>/import", methods=["GET", "POST"])
def company_import(company_id: int):
    company = _get_or_404(Company, company_id)
    form = UserImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        raw = form.file.data.read(2 * 1024 * 1024 + 1)
        if len(raw) > 2 * 1024 * 1024:
            form.file.errors.append(_("The file is larger than 2 MB."))
            status = 400
        else:
            report = services.parse_user_csv(raw)
            services.import_users(company, report, only_valid=form.only_valid.data)
            if report.imported:
                db.session.commit()
                flash(_("%(count)s accounts created.", count=report.imported), "success")
            else:
                db.session.rollback()
                status = 200 if report.ok else 400
    elif request.method == "POST":
        status = 400
    return render_template(
        "admin/company_import.html", company=company, form=form, report=report
    ), status


# --- users --------------------------------------------------------------------------------


@bp.route("/users")
def users():
    q = _search_term()
    role = request.args.get("role", "")
    # Erased accounts are restricted (lms/privacy.py): listed only on the privacy page.
    query = select(User).where(User.erased_at.is_(None)).order_by(User.name)
    if q:
        like = f"%{q}%"
        query = query.where(or_(User.name.ilike(like), User.email.ilike(like)))
    if role in ("learner", "trainer", "admin"):
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    elif role == "coordinator":
        query = query.where(
            User.id.in_(select(Membership.user_id).where(Membership.is_coordinator))
        )
    else:
        role = ""
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", page=page, q=q, role=role)


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    companies = db.session.execute(select(Company.id, Company.name).order_by(Company.name)).all()
    form.company_id.choices = choices(
        [(0, _("— no company —")), *[(c.id, c.name) for c in companies]]
    )
    if user is not None and request.method == "GET":
        form.roles.data = sorted(r.role for r in user.role_rows)
        membership = user.memberships[0] if user.memberships else None
        form.company_id.data = membership.company_id if membership else 0
        form.coordinator.data = bool(membership and membership.is_coordinator)
    elif request.method == "GET":
        form.roles.data = ["learner"]
    return form


def _user_data(form: UserForm) -> services.UserData:
    return services.UserData(
        email=form.email.data,
        name=form.name.data,
        language=form.language.data,
        gender=form.gender.data,
        age_band=form.age_band.data,
        job_role=form.job_role.data,
        roles=tuple(form.roles.data or ()),
    )


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = _user_form(None)
    if form.validate_on_submit():
        company = db.session.get(Company, form.company_id.data) if form.company_id.data else None
        try:
            user = services.create_user(
                _user_data(form), company=company, coordinator=form.coordinator.data
            )
        except services.ServiceError as error:
            db.session.rollback()
            _field_error(form, error, "email")
        else:
            db.session.commit()
            flash(
                _("Account created. The person sets a password with “Forgot password”."),
                "success",
            )
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = _get_or_404(User, user_id)
    if user.erased_at is not None:  # restricted data: not shown, not editable (lms/privacy.py)
        abort(404)
    form = _user_form(user)
    if form.validate_on_submit():
        company = db.session.get(Company, form.company_id.data) if form.company_id.data else None
        try:
            if user.id == current_user.id and "admin" not in (form.roles.data or ()):
                raise services.ServiceError(_("You cannot remove your own admin role."), "roles")
            services.update_user(user, _user_data(form))
            services.set_membership(user, company, coordinator=form.coordinator.data)
        except services.ServiceError as error:
            db.session.rollback()
            _field_error(form, error, "email")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user, action_form=ActionForm())


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def user_set_active(user_id: int):
    user = _get_or_404(User, user_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        services.set_user_active(user, active, by=current_user)
    except services.ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Account reactivated.") if active else _("Account deactivated."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))
