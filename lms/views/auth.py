"""Registration, login, logout and password reset."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lms import privacy, services
from lms.extensions import db
from lms.forms import ActionForm, ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from lms.mail import send_mail
from lms.models import User
from lms.security import authenticate, client_address, is_safe_redirect

bp = Blueprint("auth", __name__)


def _start_session(user: User) -> None:
    """Log in with a fresh session: nothing a visitor's cookie carried survives (fixation)."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    login_user(user)
    services.record_login(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user, reason = authenticate(form.email.data, form.password.data, client_address())
        if user is None:
            db.session.commit()  # keep the throttling count
            if reason == "throttled":
                message = _("Too many failed attempts. Wait 15 minutes and try again.")
                return render_template("auth/login.html", form=form, error=message), 429
            error = _("The email or the password is not right.")
            return render_template("auth/login.html", form=form, error=error), 200
        _start_session(user)
        db.session.commit()
        target = form.next.data
        return redirect(target if is_safe_redirect(target) else url_for("main.home"))
    return render_template("auth/login.html", form=form, error=None)


@bp.route("/logout", methods=["POST"])
def logout():
    form = ActionForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        services.end_all_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if request.method == "GET":
        form.company_code.data = request.args.get("code", "")
        form.language.data = request.args.get("lang") or session.get("language") or "bg"
    company = services.find_company_by_invitation(form.company_code.data or "")
    if form.validate_on_submit():
        data = services.UserData(
            email=form.email.data,
            name=form.name.data,
            password=form.password.data,
            language=form.language.data,
            gender=form.gender.data,
            age_band=form.age_band.data,
            job_role=form.job_role.data,
        )
        try:
            user = services.register_user(data, form.company_code.data)
            consents = {
                "photos": form.consent_photos.data,
                "publication": form.consent_publication.data,
                "newsletter": form.consent_newsletter.data,
            }
            privacy.set_consents(user, consents, source="registration")
        except services.ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "email", form.email).errors.append(error.message)
        else:
            _start_session(user)
            db.session.commit()
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/register.html", form=form, company=company)


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    # The session version makes the token single-use: a reset bumps it.
    return _reset_serializer().dumps({"uid": user.id, "v": user.session_version})


def user_from_reset_token(token: str) -> User | None:
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]
    try:
        payload = _reset_serializer().loads(token, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    user = db.session.get(User, payload.get("uid")) if isinstance(payload.get("uid"), int) else None
    if user is None or not user.active or user.session_version != payload.get("v"):
        return None
    return user


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if user is not None and user.active:
            link = url_for("auth.reset_password", token=make_reset_token(user), _external=True)
            with force_locale(user.language):
                _send_reset_mail(user, link)
        # The same answer whether or not the account exists.
        flash(_("If an account exists for that address, we have sent it a reset link."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


def _send_reset_mail(user: User, link: str) -> None:
    """In the account's own language, whatever the language of the page that asked."""
    send_mail(
        user.email,
        _("Reset your password"),
        _(
            "Someone asked to reset the password of your account. If it was you, open "
            "this link within an hour:\n\n%(link)s\n\nIf it was not you, ignore this "
            "message; your password stays as it is.",
            link=link,
        ),
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = user_from_reset_token(token)
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(user, form.password.data)
        except services.ServiceError as error:
            db.session.rollback()
            form.password.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Your password is changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)
