"""Privacy pages: a person's consents, data download and erasure request, and the cluster
admin's list of erasure requests. The rules are in `lms.privacy`."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from wtforms import BooleanField
from wtforms.validators import DataRequired

from lms import privacy
from lms.extensions import db
from lms.forms import ActionForm, Form
from lms.models import CONSENT_KINDS, ErasureRequest
from lms.security import roles_required
from lms.services import ServiceError
from lms.signals import get_template_hook

bp = Blueprint("privacy", __name__)


class ConsentForm(Form):
    photos = BooleanField(privacy.CONSENT_LABELS["photos"])
    publication = BooleanField(privacy.CONSENT_LABELS["publication"])
    newsletter = BooleanField(privacy.CONSENT_LABELS["newsletter"])


class ErasureForm(Form):
    confirm = BooleanField(
        _l(
            "I understand that my account will be closed for good and that I will no longer be "
            "able to log in or download my certificates."
        ),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class ProcessErasureForm(Form):
    confirm = BooleanField(
        _l("I have checked who asked, and I erase this person's data now."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


def _account_page(consent_form=None, erasure_form=None, status: int = 200):  # noqa: ANN001, ANN202
    current = privacy.current_consents(current_user)
    if consent_form is None:
        consent_form = ConsentForm(
            formdata=None, data={k: bool(r and r.granted) for k, r in current.items()}
        )
    return render_template(
        "privacy/account.html",
        consent_form=consent_form,
        erasure_form=erasure_form or ErasureForm(formdata=None),
        withdraw_form=ActionForm(formdata=None),
        consents=current,
        pending=privacy.pending_request(current_user),
        retention_until=privacy.retention_until(),
    ), status


@bp.route("/account/privacy")
@login_required
def account():
    return _account_page()


@bp.route("/account/privacy/consents", methods=["POST"])
@login_required
def consents():
    form = ConsentForm()
    if not form.validate_on_submit():
        return _account_page(consent_form=form, status=400)
    try:
        added = privacy.set_consents(
            current_user, {kind: getattr(form, kind).data for kind in CONSENT_KINDS}
        )
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _account_page(consent_form=form, status=400)
    db.session.commit()
    flash(
        _("Your choices are saved.") if added else _("Nothing changed in your choices."),
        "success",
    )
    return redirect(url_for("privacy.account"))


@bp.route("/account/data.json")
@login_required
def data_download():
    """Everything the platform keeps about the logged-in person (never anyone else's)."""
    data = privacy.personal_data(current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/privacy/erasure", methods=["POST"])
@login_required
def request_erasure():
    form = ErasureForm()
    if not form.validate_on_submit():
        return _account_page(erasure_form=form, status=400)
    try:
        privacy.request_erasure(current_user)
    except ServiceError as error:
        db.session.rollback()
        form.confirm.errors = [*form.confirm.errors, error.message]
        return _account_page(erasure_form=form, status=409)
    db.session.commit()
    flash(
        _(
            "Your erasure request is sent. A cluster admin will process it; until then you can withdraw it here."
        ),
        "success",
    )
    return redirect(url_for("privacy.account"))


@bp.route("/account/privacy/erasure/withdraw", methods=["POST"])
@login_required
def withdraw_erasure():
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        privacy.withdraw_request(current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("privacy.account"))
    db.session.commit()
    flash(_("Your erasure request is withdrawn."), "success")
    return redirect(url_for("privacy.account"))


# --- the cluster admin --------------------------------------------------------------------


def _pending_for(user_id: int) -> ErasureRequest:
    request = db.session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.user_id == user_id, ErasureRequest.status == "pending"
        )
    )
    if request is None:
        abort(404)
    return request


def _admin_page(form=None, status: int = 200, failed_user_id: int | None = None):  # noqa: ANN001, ANN202
    return render_template(
        "privacy/admin.html",
        pending=privacy.pending_requests(),
        processed=privacy.processed_requests(),
        form=form or ProcessErasureForm(formdata=None),
        failed_user_id=failed_user_id,
        cancel_form=ActionForm(formdata=None),
        retention_until=privacy.retention_until(),
    ), status


@bp.route("/admin/privacy")
@roles_required("admin")
def admin_requests():
    return _admin_page()


@bp.route("/admin/privacy/<int:user_id>/erase", methods=["POST"])
@roles_required("admin")
def admin_erase(user_id: int):
    request = _pending_for(user_id)
    form = ProcessErasureForm()
    if not form.validate_on_submit():
        return _admin_page(form=form, status=400, failed_user_id=user_id)
    try:
        privacy.process_request(request, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _admin_page(status=409)
    db.session.commit()
    flash(_("The data of account #%(id)s is erased.", id=user_id), "success")
    return redirect(url_for("privacy.admin_requests"))


@bp.route("/admin/privacy/<int:user_id>/cancel", methods=["POST"])
@roles_required("admin")
def admin_cancel(user_id: int):
    request = _pending_for(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        privacy.cancel_request(request, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("privacy.admin_requests"))
    db.session.commit()
    flash(_("The erasure request is closed without erasing."), "success")
    return redirect(url_for("privacy.admin_requests"))


# --- links in the core's pages ------------------------------------------------------------


def _admin_nav_link(sender: object, **kwargs: object) -> Markup:
    return Markup('<a href="{url}">{label}</a>').format(
        url=url_for("privacy.admin_requests"), label=_("Privacy requests")
    )


def _account_link(sender: object, **kwargs: object) -> Markup:
    return Markup('<p><a href="{url}">{label}</a></p>').format(
        url=url_for("privacy.account"), label=_("Your privacy: consents, data download, erasure")
    )


def connect_hooks() -> None:
    get_template_hook.connect(_admin_nav_link, sender="admin-nav", weak=False)
    get_template_hook.connect(_account_link, sender="account-links", weak=False)
