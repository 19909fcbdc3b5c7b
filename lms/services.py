"""Every write to core data goes through here: validate, change, flush, send the signal.

Services never commit: the view or CLI command that calls them owns the transaction. Arguments
are plain values or small dataclasses, never forms or requests, so the same function serves the
web, the CLI, the CSV import and the tests.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from lms import sme
from lms.extensions import db
from lms.models import (
    AGE_BANDS,
    GENDERS,
    GLOBAL_ROLES,
    LANGUAGES,
    Company,
    CompanyFigures,
    Membership,
    ThrottleEvent,
    User,
    UserRole,
    normalise_email,
    utcnow,
)
from lms.signals import user_deactivated, user_registered


class ServiceError(ValueError):
    """A rejected change, with a message fit to show the person who asked for it."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


# --- people -------------------------------------------------------------------------------


@dataclass
class UserData:
    email: str
    name: str
    password: str | None = None
    language: str = "bg"
    gender: str | None = None
    age_band: str | None = None
    job_role: str | None = None
    roles: tuple[str, ...] = ("learner",)
    is_demo: bool = False

    def __post_init__(self) -> None:
        # Forms send "" for "not answered"; the database stores NULL.
        self.gender = self.gender or None
        self.age_band = self.age_band or None


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def profile_errors(data: UserData) -> list[tuple[str, object]]:
    """Every problem with a profile, as (field, message) pairs."""
    errors: list[tuple[str, object]] = []
    if not data.name.strip():
        errors.append(("name", _l("A name is required.")))
    elif len(data.name) > 200:
        errors.append(("name", _l("The name is longer than 200 characters.")))
    if data.language not in LANGUAGES:
        errors.append(("language", _l("Unknown language.")))
    if data.gender not in (None, *GENDERS):
        errors.append(("gender", _l("Unknown gender value.")))
    if data.age_band not in (None, *AGE_BANDS):
        errors.append(("age_band", _l("Unknown age band.")))
    unknown = set(data.roles) - set(GLOBAL_ROLES)
    if unknown:
        errors.append(("roles", _l("Unknown role: %(roles)s.", roles=", ".join(sorted(unknown)))))
    return errors


def _validate_profile(data: UserData) -> None:
    errors = profile_errors(data)
    if errors:
        field, message = errors[0]
        raise ServiceError(message, field)


def validate_password(password: str) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ServiceError(
            _l("The password needs at least %(count)s characters.", count=minimum), "password"
        )
    if len(password) > 1000:
        raise ServiceError(_l("The password is too long."), "password")


def create_user(data: UserData, company: Company | None = None, coordinator: bool = False) -> User:
    """Create an account; without a password the person sets one through a reset link."""
    _validate_profile(data)
    if find_user_by_email(data.email) is not None:
        raise ServiceError(_l("An account with this email address already exists."), "email")
    user = User(
        email=data.email,
        name=data.name.strip(),
        language=data.language,
        gender=data.gender,
        age_band=data.age_band,
        job_role=(data.job_role or "").strip() or None,
        is_demo=data.is_demo,
        active=True,
        session_version=1,
    )
    if data.password is not None:
        validate_password(data.password)
        user.set_password(data.password)
    else:
        user.set_password(secrets.token_urlsafe(32))  # unusable until reset
    user.role_rows = [UserRole(role=r) for r in dict.fromkeys(data.roles)]
    db.session.add(user)
    if company is not None:
        user.memberships.append(Membership(company=company, is_coordinator=coordinator))
    db.session.flush()
    return user


def register_user(data: UserData, invitation_code: str | None) -> User:
    """Self-registration: a learner, joining the company whose invitation code they give."""
    company = None
    if invitation_code:
        company = find_company_by_invitation(invitation_code)
        if company is None:
            raise ServiceError(_l("This company invitation code is not valid."), "company_code")
    data.roles = ("learner",)
    user = create_user(data, company=company)
    user_registered.send(user, company=company)
    return user


def update_profile(user: User, data: UserData) -> None:
    data.roles = tuple(r.role for r in user.role_rows)
    _validate_profile(data)
    user.name = data.name.strip()
    user.language = data.language
    user.gender = data.gender
    user.age_band = data.age_band
    user.job_role = (data.job_role or "").strip() or None
    db.session.flush()


def set_language(user: User, language: str) -> None:
    if language not in LANGUAGES:
        raise ServiceError(_l("Unknown language."), "language")
    user.language = language
    db.session.flush()


def update_user(user: User, data: UserData) -> None:
    """Admin edit: profile, email and global roles."""
    _validate_profile(data)
    other = find_user_by_email(data.email)
    if other is not None and other.id != user.id:
        raise ServiceError(_l("An account with this email address already exists."), "email")
    user.email = data.email
    update_profile(user, UserData(**{**data.__dict__}))
    set_roles(user, data.roles)


def set_roles(user: User, roles: tuple[str, ...] | list[str]) -> None:
    unknown = set(roles) - set(GLOBAL_ROLES)
    if unknown:
        raise ServiceError(
            _l("Unknown role: %(roles)s.", roles=", ".join(sorted(unknown))), "roles"
        )
    wanted = set(roles)
    user.role_rows = [row for row in user.role_rows if row.role in wanted] + [
        UserRole(role=r) for r in sorted(wanted - {row.role for row in user.role_rows})
    ]
    # Role changes take effect on the next request: roles are read from the database each time.
    db.session.flush()


def set_membership(user: User, company: Company | None, coordinator: bool = False) -> None:
    """Put the user in `company` (only that one), as a coordinator or not; None removes it."""
    keep = [m for m in user.memberships if company is not None and m.company_id == company.id]
    user.memberships = keep
    if company is not None:
        if keep:
            keep[0].is_coordinator = coordinator
        else:
            user.memberships.append(Membership(company=company, is_coordinator=coordinator))
    db.session.flush()


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every other session of the user."""
    validate_password(new_password)
    user.set_password(new_password)
    user.session_version += 1
    db.session.flush()


def end_all_sessions(user: User) -> None:
    """Invalidate every cookie issued to the user so far (logout, compromise)."""
    user.session_version += 1
    db.session.flush()


def set_user_active(user: User, active: bool, by: User | None = None) -> None:
    if by is not None and by.id == user.id and not active:
        raise ServiceError(_l("You cannot deactivate your own account."))
    if active and user.erased_at is not None:
        raise ServiceError(_l("An erased account cannot be reactivated."))
    user.active = active
    if not active:
        user.session_version += 1
        user_deactivated.send(user, by=by)
    db.session.flush()


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    db.session.flush()


# --- companies ----------------------------------------------------------------------------


@dataclass
class CompanyData:
    name: str
    uic: str
    registered_on: object = None  # a date, or None
    is_listed: bool = False
    nace_code: str | None = None
    nuts3: str = "BG341"


@dataclass
class FiguresData:
    reference_year: int
    headcount: int
    turnover_eur: Decimal | None = None
    balance_sheet_eur: Decimal | None = None


def _validate_company(data: CompanyData, company: Company | None) -> None:
    if not data.name.strip():
        raise ServiceError(_l("A company name is required."), "name")
    if not sme.is_valid_uic(data.uic):
        raise ServiceError(
            _l("This UIC/EIK is not valid: it needs 9 or 13 digits with correct check digits."),
            "uic",
        )
    uic = sme.normalise_uic(data.uic)
    other = db.session.scalar(select(Company).where(Company.uic == uic))
    if other is not None and (company is None or other.id != company.id):
        raise ServiceError(_l("A company with this UIC/EIK is already registered."), "uic")


def create_company(data: CompanyData, figures: FiguresData | None = None) -> Company:
    _validate_company(data, None)
    company = Company()
    _apply_company(company, data)
    db.session.add(company)
    if figures is not None:
        set_company_figures(company, figures)
    db.session.flush()
    return company


def update_company(company: Company, data: CompanyData) -> None:
    _validate_company(data, company)
    _apply_company(company, data)
    db.session.flush()


def _apply_company(company: Company, data: CompanyData) -> None:
    company.name = data.name.strip()
    company.uic = data.uic
    company.registered_on = data.registered_on  # type: ignore[assignment]
    company.is_listed = data.is_listed
    company.nace_code = (data.nace_code or "").strip() or None
    company.nuts3 = (data.nuts3 or "BG341").strip().upper()


def set_company_figures(company: Company, data: FiguresData) -> CompanyFigures:
    """Record (or correct) the declared figures of one reference year."""
    if not 1990 <= data.reference_year <= utcnow().year + 1:
        raise ServiceError(_l("The reference year is out of range."), "reference_year")
    if data.headcount < 0 or data.headcount > 10_000_000:
        raise ServiceError(_l("The headcount is out of range."), "headcount")
    for value, name in ((data.turnover_eur, "turnover_eur"), (data.balance_sheet_eur, "balance")):
        if value is not None and not 0 <= value < Decimal("1e14"):
            raise ServiceError(_l("Amounts must be between 0 and 10^14 EUR."), name)
    row = next((f for f in company.figures if f.reference_year == data.reference_year), None)
    if row is None:
        row = CompanyFigures(reference_year=data.reference_year, headcount=data.headcount)
        company.figures.append(row)
    row.headcount = data.headcount
    row.turnover_eur = data.turnover_eur
    row.balance_sheet_eur = data.balance_sheet_eur
    company.figures.sort(key=lambda f: f.reference_year, reverse=True)
    db.session.flush()
    return row


def find_company_by_invitation(code: str) -> Company | None:
    code = code.strip()
    if not code or len(code) > 32:
        return None
    return db.session.scalar(select(Company).where(Company.invitation_code == code))


def renew_invitation_code(company: Company) -> str:
    company.invitation_code = secrets.token_urlsafe(12)
    db.session.flush()
    return company.invitation_code


# --- CSV import of a company's staff ------------------------------------------------------

CSV_COLUMNS = ("email", "name", "language", "gender", "age_band", "job_role", "coordinator")
MAX_IMPORT_ROWS = 5000


@dataclass
class ImportRow:
    line: int
    data: UserData | None
    coordinator: bool = False
    errors: list[object] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[ImportRow]
    file_errors: list[object] = field(default_factory=list)
    imported: int = 0

    @property
    def valid_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.errors]

    @property
    def invalid_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.invalid_rows


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "yes", "true", "y", "да"}


def parse_user_csv(raw: bytes) -> ImportReport:
    """Check every row of a staff CSV (UTF-8, comma or semicolon) and report errors per line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportReport([], [_l("The file is not UTF-8 text. Save it as CSV UTF-8.")])
    if "\x00" in text:
        return ImportReport([], [_l("The file contains NUL bytes; it is not a CSV file.")])
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("email", "name") if c not in header]
    if missing:
        message = _l(
            "Missing column(s): %(missing)s. Expected: %(expected)s.",
            missing=", ".join(missing),
            expected=", ".join(CSV_COLUMNS),
        )
        return ImportReport([], [message])
    reader.fieldnames = header
    report = ImportReport([])
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if len(report.rows) >= MAX_IMPORT_ROWS:
            report.file_errors.append(
                _l("More than %(count)s rows: split the file.", count=MAX_IMPORT_ROWS)
            )
            break
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        item = ImportRow(line=line, data=None, coordinator=_truthy(values.get("coordinator", "")))
        email = normalise_email(values.get("email", ""))
        data = UserData(
            email=email,
            name=values.get("name", ""),
            language=(values.get("language") or "bg").lower(),
            gender=(values.get("gender") or None),
            age_band=(values.get("age_band") or None),
            job_role=values.get("job_role") or None,
        )
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            item.errors.append(_l("“%(email)s” is not a valid email address.", email=email[:80]))
        item.errors.extend(message for _field, message in profile_errors(data))
        if email in seen:
            item.errors.append(_l("Duplicate of line %(line)s in this file.", line=seen[email]))
        else:
            seen[email] = line
        if not item.errors and find_user_by_email(email) is not None:
            item.errors.append(_l("An account with this email address already exists."))
        item.data = data
        report.rows.append(item)
    if not report.rows and not report.file_errors:
        report.file_errors.append(_l("The file has no data rows."))
    return report


def import_users(
    company: Company,
    report: ImportReport,
    only_valid: bool = False,
    progress=None,  # noqa: ANN001
) -> ImportReport:
    """Create the accounts of a checked file. Nothing is imported from a file with errors
    unless `only_valid` is set; then the valid rows are imported and the rest reported."""
    if report.file_errors or (report.invalid_rows and not only_valid):
        return report
    for item in report.valid_rows:
        assert item.data is not None
        create_user(item.data, company=company, coordinator=item.coordinator)
        report.imported += 1
        if progress is not None:
            progress(1)
    return report


# --- throttling ---------------------------------------------------------------------------


def throttle_count(scope: str, key: str, window_seconds: int) -> int:
    since = utcnow() - timedelta(seconds=window_seconds)
    return (
        db.session.scalar(
            select(func.count(ThrottleEvent.id)).where(
                ThrottleEvent.scope == scope, ThrottleEvent.key == key, ThrottleEvent.at >= since
            )
        )
        or 0
    )


def throttle_record(scope: str, key: str, window_seconds: int) -> None:
    """Count one event, and forget this key's events that fell out of the window."""
    since = utcnow() - timedelta(seconds=window_seconds)
    db.session.execute(
        delete(ThrottleEvent).where(
            ThrottleEvent.scope == scope, ThrottleEvent.key == key, ThrottleEvent.at < since
        )
    )
    db.session.add(ThrottleEvent(scope=scope, key=key[:300]))
    db.session.flush()


def throttle_reset(scope: str, key: str) -> None:
    db.session.execute(
        delete(ThrottleEvent).where(ThrottleEvent.scope == scope, ThrottleEvent.key == key)
    )
    db.session.flush()
