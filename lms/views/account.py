"""A person's own account: profile, language and password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from lms import services
from lms.extensions import db
from lms.forms import ChangePasswordForm, LanguageForm, ProfileForm
from lms.security import is_safe_redirect

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        data = services.UserData(
            email=current_user.email,
            name=form.name.data,
            language=form.language.data,
            gender=form.gender.data,
            age_band=form.age_band.data,
            job_role=form.job_role.data,
        )
        try:
            services.update_profile(current_user, data)
        except services.ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "name", form.name).errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is not right."))
        else:
            try:
                services.change_password(current_user, form.password.data)
            except services.ServiceError as error:
                db.session.rollback()
                form.password.errors.append(error.message)
            else:
                db.session.commit()
                # Other sessions end; this one goes on with a cookie of the new version.
                session.clear()
                login_user(current_user._get_current_object())
                flash(_("Your password is changed. Other sessions are logged out."), "success")
                return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form)


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language; remembered on the account when logged in."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["language"] = form.language.data
        if current_user.is_authenticated:
            services.set_language(current_user, form.language.data)
            db.session.commit()
    target = form.next.data or request.referrer
    return redirect(target if is_safe_redirect(target) else url_for("main.home"))
