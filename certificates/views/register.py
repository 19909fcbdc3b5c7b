"""The register of certificates (admin: all; coordinator: their companies'; trainer: their
courses'), its CSV/XLSX and ZIP downloads, and one certificate's page with revocation and
reissue.

Tenant isolation: every query of the register goes through `access.register_scope`; a
certificate outside it answers 404 on its page and is silently left out of a ZIP (an id that
is foreign and an id that does not exist are answered alike).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from tempfile import SpooledTemporaryFile

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, and_, func, or_, select

from certificates import access, services
from certificates.forms import ReissueForm, RevokeForm, ZipForm
from certificates.models import Certificate, CertificateDocument, Status
from certificates.views import bp
from certificates.views.learner import certificate_status_label, download_name
from courses.models import Course
from lms.exports import csv_bytes, tabular_response
from lms.extensions import db
from lms.models import Company, User, utcnow
from lms.security import roles_required
from lms.services import ServiceError

PER_PAGE = 50
#: At most this many PDFs in one ZIP (memory and time of one request stay bounded).
ZIP_LIMIT = 500
_ZIP_BATCH = 50
_MAX_SEARCH = 200
STAFF_ROLES = ("admin", "coordinator", "trainer")


# --- filters ------------------------------------------------------------------------------


@dataclass
class RegisterFilters:
    """The register's filters, parsed leniently: a value that makes no sense is dropped and
    reported in `problems` (the page still answers)."""

    course_id: int | None = None
    company_id: int | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    status: str = ""
    q: str = ""
    problems: list[str] = field(default_factory=list)

    def as_args(self) -> dict[str, object]:
        """The filters as URL arguments (for the pager and the downloads)."""
        values = {
            "course": self.course_id,
            "company": self.company_id,
            "issued_from": self.issued_from.isoformat() if self.issued_from else None,
            "issued_to": self.issued_to.isoformat() if self.issued_to else None,
            "status": self.status,
            "q": self.q,
        }
        return {key: value for key, value in values.items() if value}


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


def _date(value: str | None, problems: list[str], label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        problems.append(
            _("The date “%(label)s” was not understood, so it is ignored.", label=label)
        )
        return None


def parse_filters(args) -> RegisterFilters:  # noqa: ANN001 - a MultiDict
    problems: list[str] = []
    filters = RegisterFilters(
        course_id=_int(args.get("course")),
        company_id=_int(args.get("company")),
        issued_from=_date(args.get("issued_from"), problems, _("Issued from")),
        issued_to=_date(args.get("issued_to"), problems, _("Issued until")),
        status=args.get("status", "") if args.get("status") in tuple(Status) else "",
        q=(args.get("q") or "").replace("\x00", "").strip()[:_MAX_SEARCH],  # a POST's too
        problems=problems,
    )
    if filters.issued_from and filters.issued_to and filters.issued_from > filters.issued_to:
        problems.append(_("The period ends before it starts, so no certificate matches it."))
    return filters


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def register_query(filters: RegisterFilters) -> Select:
    """The current user's certificates matching `filters`, newest first."""
    query = select(Certificate).where(access.register_scope(current_user))
    if filters.course_id:
        query = query.where(Certificate.course_id == filters.course_id)
    if filters.company_id:
        query = query.where(Certificate.company_id == filters.company_id)
    if filters.issued_from:
        query = query.where(Certificate.issued_at >= _midnight(filters.issued_from))
    if filters.issued_to and filters.issued_to < date.max:  # until the last day: no limit
        query = query.where(Certificate.issued_at < _midnight(filters.issued_to + timedelta(1)))
    today = utcnow().date()
    if filters.status == Status.REVOKED:
        query = query.where(Certificate.revoked_at.is_not(None))
    elif filters.status == Status.EXPIRED:
        query = query.where(Certificate.revoked_at.is_(None), Certificate.valid_until < today)
    elif filters.status == Status.VALID:
        query = query.where(
            Certificate.revoked_at.is_(None),
            or_(Certificate.valid_until.is_(None), Certificate.valid_until >= today),
        )
    if filters.q:
        like = f"%{filters.q}%"
        named = select(User.id).where(User.name.ilike(like))
        query = query.where(
            or_(
                Certificate.snapshot["learner_name"].as_string().ilike(like),
                and_(Certificate.anonymised_at.is_(None), Certificate.user_id.in_(named)),
            )
        )
    return query.order_by(Certificate.issued_at.desc(), Certificate.id.desc())


def _filter_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Courses found in the user's register; companies the user may filter by (all for the
    admin, their own for a coordinator of several companies)."""
    courses = db.session.execute(
        select(Course.id, Course.title, Course.language)
        .join(Certificate, Certificate.course_id == Course.id)
        .where(access.register_scope(current_user))
        .distinct()
        .order_by(Course.title, Course.language)
    ).all()
    course_choices = [(row[0], f"{row[1]} ({row[2]})") for row in courses]
    companies_query = select(Company.id, Company.name).order_by(Company.name)
    if current_user.is_admin:
        companies = [(r.id, r.name) for r in db.session.execute(companies_query)]
    elif len(current_user.coordinated_company_ids) > 1:
        mine = Company.id.in_(sorted(current_user.coordinated_company_ids))
        companies = [(r.id, r.name) for r in db.session.execute(companies_query.where(mine))]
    else:
        companies = []
    return course_choices, companies


def _render_register(filters: RegisterFilters, message: str | None = None, status: int = 200):
    page = db.paginate(register_query(filters), per_page=PER_PAGE, error_out=False)
    course_choices, company_choices = _filter_choices()
    return (
        render_template(
            "certificates/register.html",
            page=page,
            filters=filters,
            args=filters.as_args(),
            course_choices=course_choices,
            company_choices=company_choices,
            zip_form=ZipForm(formdata=None),
            zip_limit=ZIP_LIMIT,
            zip_message=message,
            statuses=tuple(Status),
        ),
        status,
    )


# --- the register -------------------------------------------------------------------------


@bp.route("/certificates/register")
@roles_required(*STAFF_ROLES)
def register():
    return _render_register(parse_filters(request.args))


def _export(fmt: str):
    filters = parse_filters(request.args)
    headers = [
        _("Certificate code"),
        _("Learner"),
        _("Company"),
        _("Course"),
        _("Course version"),
        _("Certificate language"),
        _("Issued at (UTC)"),
        _("Valid until"),
        _("Status"),
        _("Revoked at (UTC)"),
        _("Reason for revoking"),
        _("Verification address"),
        _("PDF SHA-256"),
    ]
    today = utcnow().date()
    query = register_query(filters).execution_options(yield_per=500)

    def rows():  # noqa: ANN202
        for c in db.session.scalars(query):
            yield [
                c.code,
                "" if c.anonymised_at else c.learner_name,
                c.snapshot.get("company_name") or "",
                c.course_title,
                c.course_version,
                c.language,
                c.issued_at,
                c.valid_until,
                certificate_status_label(c.status(today)),
                c.revoked_at,
                c.revoked_reason,
                services.verify_url(c.code),
                c.pdf_sha256,
            ]

    stem = f"certificates-{date.today().isoformat()}"
    return tabular_response(stem, headers, rows(), fmt, sheet_title=_("Certificates"))


@bp.route("/certificates/register.csv")
@roles_required(*STAFF_ROLES)
def register_csv():
    return _export("csv")


@bp.route("/certificates/register.xlsx")
@roles_required(*STAFF_ROLES)
def register_xlsx():
    return _export("xlsx")


# --- ZIP of PDFs --------------------------------------------------------------------------


def _chosen_ids() -> list[int] | None:
    """The ids ticked in the form, in order and without repeats; None when more than the
    limit (then nothing is looked up)."""
    raw = request.form.getlist("ids")
    if len(raw) > ZIP_LIMIT * 4:
        return None
    ids = list(dict.fromkeys(n for n in (_int(v) for v in raw) if n is not None))
    return None if len(ids) > ZIP_LIMIT else ids


@bp.route("/certificates/register/zip", methods=["POST"])
@roles_required(*STAFF_ROLES)
def register_zip():
    """The selected certificates (or all matching the filters) as a ZIP of their PDFs.
    POST because a selection of hundreds of ids does not fit in a URL; nothing changes."""
    form = ZipForm()
    filters = parse_filters(request.form)
    if not form.validate_on_submit():
        return _render_register(filters, _("The form expired. Please try again."), 400)
    if request.form.get("scope") == "matching":
        query = register_query(filters)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        if total > ZIP_LIMIT:
            message = _(
                "%(total)s certificates match; a ZIP holds at most %(limit)s. Narrow the "
                "filters (for example the period) and download them in parts.",
                total=total,
                limit=ZIP_LIMIT,
            )
            return _render_register(filters, message, 400)
        certificates = db.session.scalars(query).all()
    else:
        ids = _chosen_ids()
        if ids is None:
            message = _(
                "A ZIP holds at most %(limit)s certificates. Select fewer and download them "
                "in parts.",
                limit=ZIP_LIMIT,
            )
            return _render_register(filters, message, 400)
        if not ids:
            return _render_register(filters, _("Select at least one certificate first."), 400)
        # Only certificates in the user's register count: foreign or unknown ids are ignored.
        certificates = db.session.scalars(
            register_query(RegisterFilters()).where(Certificate.id.in_(ids))
        ).all()
    if not certificates:
        return _render_register(filters, _("None of the selected certificates can be found."), 404)
    return _zip_response(certificates)


def _zip_response(certificates: list[Certificate]):
    """PDFs are already compressed: stored as they are. Revoked certificates are left out
    for everyone but the admin (as for single downloads); the manifest says so."""
    today = utcnow().date()
    include_revoked = current_user.is_admin
    wanted = [c for c in certificates if include_revoked or c.revoked_at is None]
    manifest = []
    buffer = SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        names = {c.id: download_name(c) for c in wanted}
        for start in range(0, len(wanted), _ZIP_BATCH):
            batch = wanted[start : start + _ZIP_BATCH]
            stored = dict(
                db.session.execute(
                    select(CertificateDocument.certificate_id, CertificateDocument.pdf).where(
                        CertificateDocument.certificate_id.in_([c.id for c in batch])
                    )
                ).all()
            )
            for c in batch:
                data = stored.get(c.id)
                if data is not None:
                    archive.writestr(names[c.id], data)
        written = set(archive.namelist())
        for c in certificates:
            name = names.get(c.id)
            if name in written:
                note = ""
            elif c.revoked_at is not None and not include_revoked:
                name, note = "", _("not included: revoked")
            else:
                name, note = "", _("not included: the PDF is not rendered yet")
            manifest.append(
                [
                    c.code,
                    "" if c.anonymised_at else c.learner_name,
                    c.snapshot.get("company_name") or "",
                    c.course_title,
                    c.course_version,
                    c.issued_at,
                    certificate_status_label(c.status(today)),
                    c.pdf_sha256,
                    name,
                    note,
                ]
            )
        headers = [
            _("Certificate code"),
            _("Learner"),
            _("Company"),
            _("Course"),
            _("Course version"),
            _("Issued at (UTC)"),
            _("Status"),
            _("PDF SHA-256"),
            _("File"),
            _("Note"),
        ]
        archive.writestr("certificates.csv", csv_bytes(headers, manifest))
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"certificates-{date.today().isoformat()}.zip",
        max_age=0,
    )


# --- one certificate ----------------------------------------------------------------------


def history(certificate: Certificate) -> list[Certificate]:
    """The certificate's chain of issues, oldest first: those it replaced and those that
    replaced it (each reissue points at its replacement)."""
    chain = [certificate]
    current = certificate
    for _step in range(100):  # a chain is short; the bound only guards against a cycle
        previous = db.session.scalar(
            select(Certificate).where(Certificate.replaced_by_id == current.id)
        )
        if previous is None or previous in chain:
            break
        chain.insert(0, previous)
        current = previous
    current = certificate
    for _step in range(100):
        following = current.replaced_by
        if following is None or following in chain:
            break
        chain.append(following)
        current = following
    return chain


def _render_detail(
    certificate: Certificate,
    revoke_form: RevokeForm | None = None,
    reissue_form: ReissueForm | None = None,
    status: int = 200,
    error: str | None = None,
):
    can_manage = access.can_manage(current_user, certificate)
    revoked_by = (
        db.session.get(User, certificate.revoked_by_id) if certificate.revoked_by_id else None
    )
    return (
        render_template(
            "certificates/detail.html",
            certificate=certificate,
            history=history(certificate),
            can_manage=can_manage,
            revoked_by=revoked_by,
            error=error,
            revoke_form=revoke_form or RevokeForm(prefix="revoke", formdata=None),
            reissue_form=reissue_form or ReissueForm(prefix="reissue", formdata=None),
        ),
        status,
    )


@bp.route("/certificates/<int:certificate_id>")
@roles_required(*STAFF_ROLES)
def detail(certificate_id: int):
    return _render_detail(access.viewable_or_404(certificate_id))


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["POST"])
@login_required
def revoke(certificate_id: int):
    certificate = access.manageable_or_404(certificate_id)
    form = RevokeForm(prefix="revoke")
    if not form.validate_on_submit():
        return _render_detail(certificate, revoke_form=form, status=400)
    try:
        services.revoke(certificate, form.reason.data, current_user)
    except ServiceError as error:
        db.session.rollback()
        return _render_detail(
            db.session.get(Certificate, certificate_id),
            revoke_form=form,
            status=400,
            error=str(error.message),
        )
    db.session.commit()
    flash(
        _("The certificate is revoked. Its public page now says so, with your reason."), "success"
    )
    return redirect(url_for("certificates.detail", certificate_id=certificate_id))


@bp.route("/certificates/<int:certificate_id>/reissue", methods=["POST"])
@login_required
def reissue(certificate_id: int):
    certificate = access.manageable_or_404(certificate_id)
    form = ReissueForm(prefix="reissue")
    if not form.validate_on_submit():
        return _render_detail(certificate, reissue_form=form, status=400)
    try:
        replacement = services.reissue(certificate, form.reason.data, current_user)
    except ServiceError as error:
        db.session.rollback()
        return _render_detail(
            db.session.get(Certificate, certificate_id),
            reissue_form=form,
            status=400,
            error=str(error.message),
        )
    db.session.commit()
    flash(
        _("A new certificate with a new code is issued; the old one is kept as revoked."),
        "success",
    )
    return redirect(url_for("certificates.detail", certificate_id=replacement.id))
