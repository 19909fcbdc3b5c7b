"""Core forms. Every form is a FlaskForm, so every POST carries a CSRF token."""

from __future__ import annotations

import functools

from babel import support
from flask import has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from flask_wtf.form import _Auto
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.i18n import messages_path
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)
from wtforms.widgets import CheckboxInput, ListWidget

from lms.privacy import CONSENT_LABELS


def choices(pairs: list[tuple[object, object]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]


class OptionalSelectField(SelectField):
    """A select whose first choice "" means "not answered", also when the stored value is
    None or the field is missing from the request."""

    def process_data(self, value: object) -> None:
        self.data = "" if value is None else str(value)


LANGUAGE_CHOICES = [("bg", "Български"), ("en", "English")]
GENDER_CHOICES = [
    ("", _l("— not answered —")),
    ("female", _l("Female")),
    ("male", _l("Male")),
    ("other", _l("Other")),
    ("prefer_not_to_say", _l("Prefer not to say")),
]
AGE_BAND_CHOICES = [
    ("", _l("— not answered —")),
    ("under_25", _l("under 25")),
    ("25_34", "25–34"),
    ("35_44", "35–44"),
    ("45_54", "45–54"),
    ("55_64", "55–64"),
    ("65_plus", _l("65 or over")),
]
ROLE_CHOICES = [
    ("learner", _l("Learner")),
    ("trainer", _l("Trainer")),
    ("admin", _l("Cluster admin")),
]

# Generous but bounded lengths: a 100 kB string gets a form error, never a database error.
EMAIL = [DataRequired(), Length(max=254), Email(check_deliverability=False)]
NAME = [DataRequired(), Length(max=200)]


@functools.cache
def _wtforms_catalogue(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WTFormsMessages:
    """WTForms' own messages ("Not a valid choice") in the page's language, parsed once per
    language and process (Flask-WTF would parse the catalogue again on every request)."""

    def gettext(self, string: str) -> str:
        return _wtforms_catalogue(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(str(get_locale())).ungettext(singular, plural, n)


_MESSAGES = _WTFormsMessages()


class Form(FlaskForm):
    """Base of every form in the suite, plugins included: CSRF-protected, translated."""

    class Meta:
        def get_translations(self, form: FlaskForm) -> _WTFormsMessages:
            return _MESSAGES

        def wrap_formdata(self, form: FlaskForm, formdata: object) -> object:
            # A JSON body is not form data: Flask-WTF would make field values of any JSON
            # (null, lists, objects, numbers) that the fields cannot handle (a 500). It is
            # read as an empty form instead; a view that takes JSON parses it itself.
            if formdata is _Auto and has_request_context() and request.is_json:
                return None
            return super().wrap_formdata(form, formdata)  # type: ignore[misc]

        def bind_field(self, form: FlaskForm, unbound_field: object, options: dict) -> object:
            # Single-line text drops NUL characters (PostgreSQL refuses them in text), as if
            # they were not typed; multi-line text is left to its form, which may refuse it.
            kind = unbound_field.field_class  # type: ignore[attr-defined]
            if issubclass(kind, StringField) and not issubclass(
                kind, TextAreaField | PasswordField
            ):
                filters = unbound_field.kwargs.get("filters") or ()  # type: ignore[attr-defined]
                options = {**options, "filters": [drop_nul, *filters]}
            # Whole numbers beyond 64 bits are refused first: no column takes them, and
            # WTForms' NumberRange fails on one beyond a float (a 500).
            if issubclass(kind, IntegerField):
                checks = unbound_field.kwargs.get("validators") or ()  # type: ignore[attr-defined]
                options = {**options, "validators": [_within_64_bits, *checks]}
            return super().bind_field(form, unbound_field, options)  # type: ignore[misc]


def _within_64_bits(form: FlaskForm, field: IntegerField) -> None:
    """A field's NumberRange refuses a number beyond 64 bits with its own message once the
    number is replaced by the nearest one outside 64 bits; without one, it is refused here."""
    if isinstance(field.data, int) and not -(2**63) <= field.data < 2**63:
        if not any(isinstance(check, NumberRange) for check in field.validators):
            raise StopValidation(_l("This number is out of range."))
        field.data = 2**63 if field.data > 0 else -(2**63) - 1


def drop_nul(value: object) -> object:
    """A filter: text without NUL characters (for the multi-line fields that do not refuse
    them with a message of their own)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class ActionForm(Form):
    """A button that changes state: only the CSRF token (logout, deactivate, ...)."""


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    next = HiddenField()


class ProfileFields:
    name = StringField(_l("Full name"), validators=NAME)
    language = SelectField(_l("Preferred language"), choices=choices(LANGUAGE_CHOICES))
    gender = OptionalSelectField(
        _l("Gender (optional, for anonymous statistics)"),
        choices=choices(GENDER_CHOICES),
    )
    age_band = OptionalSelectField(_l("Age group (optional)"), choices=choices(AGE_BAND_CHOICES))
    job_role = StringField(_l("Job role (optional)"), validators=[Optional(), Length(max=120)])


class RegisterForm(ProfileFields, Form):
    email = EmailField(_l("Email"), validators=EMAIL)
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    password_confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    company_code = StringField(
        _l("Company invitation code (from your coordinator)"),
        validators=[Optional(), Length(max=32)],
    )
    accept_privacy = BooleanField(
        _l("I have read the privacy notice."),
        validators=[DataRequired(message=_l("Please confirm that you have read it."))],
    )
    # Optional consents, unticked by default; recorded with the notice version (lms.privacy).
    consent_photos = BooleanField(CONSENT_LABELS["photos"])
    consent_publication = BooleanField(CONSENT_LABELS["publication"])
    consent_newsletter = BooleanField(CONSENT_LABELS["newsletter"])


class ProfileForm(ProfileFields, Form):
    pass


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email"), validators=EMAIL)


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1000)])
    password_confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=1000)]
    )


class LanguageForm(Form):
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_CHOICES))
    next = HiddenField()


class CompanyForm(Form):
    name = StringField(_l("Company name"), validators=NAME)
    uic = StringField(_l("UIC/EIK"), validators=[DataRequired(), Length(max=20)])
    registered_on = DateField(_l("Registration date"), validators=[Optional()])
    is_listed = BooleanField(_l("Listed on a stock exchange"))
    nace_code = StringField(
        _l("NACE Rev.2 code (e.g. 62.01)"), validators=[Optional(), Length(max=10)]
    )
    nuts3 = StringField(_l("NUTS-3 region"), default="BG341", validators=[Length(max=5)])


class FiguresForm(Form):
    reference_year = IntegerField(
        _l("Reference year"), validators=[InputRequired(), NumberRange(1990, 2100)]
    )
    headcount = IntegerField(
        _l("Staff headcount (annual work units)"),
        validators=[InputRequired(), NumberRange(0, 10_000_000)],
    )
    turnover_eur = DecimalField(
        _l("Annual turnover (EUR)"), places=2, validators=[Optional(), NumberRange(0, 10**13)]
    )
    balance_sheet_eur = DecimalField(
        _l("Balance-sheet total (EUR)"), places=2, validators=[Optional(), NumberRange(0, 10**13)]
    )


class UserForm(ProfileFields, Form):
    email = EmailField(_l("Email"), validators=EMAIL)
    roles = SelectMultipleField(
        _l("Roles"),
        choices=choices(ROLE_CHOICES),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    company_id = SelectField(_l("Company"), coerce=int, validate_choice=True)
    coordinator = BooleanField(_l("Coordinator of this company"))


class UserImportForm(Form):
    file = FileField(_l("CSV file (UTF-8)"), validators=[FileRequired()])
    only_valid = BooleanField(_l("If some rows have errors, import the valid rows anyway"))
