"""A coordinator's view of their own company: its staff and its invitation link.

Tenant isolation: a coordinator reaches only the companies they coordinate; any other company
id answers 404, as if it did not exist."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms import services
from lms.extensions import db
from lms.forms import ActionForm
from lms.models import Company, Membership, User
from lms.security import roles_required

bp = Blueprint("company", __name__, url_prefix="/company")


def _own_company(company_id: int) -> Company:
    if company_id not in current_user.coordinated_company_ids and not current_user.is_admin:
        abort(404)
    company = db.session.get(Company, company_id)
    if company is None:
        abort(404)
    return company


@bp.route("/")
@roles_required("coordinator")
def index():
    ids = sorted(current_user.coordinated_company_ids)
    if len(ids) == 1:
        return redirect(url_for("company.detail", company_id=ids[0]))
    companies = db.session.scalars(select(Company).where(Company.id.in_(ids))).all()
    return render_template("company/index.html", companies=companies)


@bp.route("/<int:company_id>")
@roles_required("coordinator", "admin")
def detail(company_id: int):
    company = _own_company(company_id)
    staff = db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        # People whose data was erased are restricted: hidden here (kept for audit only).
        .where(Membership.company_id == company.id, User.erased_at.is_(None))
        .order_by(User.name)
    ).all()
    return render_template(
        "company/detail.html", company=company, staff=staff, action_form=ActionForm()
    )


@bp.route("/<int:company_id>/invitation", methods=["POST"])
@roles_required("coordinator", "admin")
def renew_invitation(company_id: int):
    company = _own_company(company_id)
    if ActionForm().validate_on_submit():
        services.renew_invitation_code(company)
        db.session.commit()
        flash(_("A new invitation link is ready; the old one no longer works."), "success")
    return redirect(url_for("company.detail", company_id=company.id))
