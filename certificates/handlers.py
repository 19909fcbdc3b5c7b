"""Signal receivers of the certificates plugin: thin, no commits."""

from __future__ import annotations

from flask import g, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import bindparam, func, select

from certificates import access, services
from certificates.models import Certificate
from lms.extensions import db
from lms.models import utcnow
from lms.ui import MenuItem, remembered_url

HOME_RECENT = 3


def issue_on_completion(enrolment, user, course, **kwargs) -> None:  # noqa: ANN001
    """`course-completed`: the certificate is issued in the same transaction, at once."""
    services.issue_certificate(enrolment)


def menu_items(sender: object, user, **kwargs: object) -> list[MenuItem]:  # noqa: ANN001
    items = []
    if not user.is_authenticated:
        # Visitors come to verify; signed-in people find the page in the footer, which keeps
        # their (longer) menu on one line.
        items.append(MenuItem(_l("Verify a certificate"), "certificates.verify_form", order=80))
    else:
        # Staff accounts seldom hold certificates: their page stays reachable, unlisted,
        # which keeps their longer menu shorter.
        if user.has_role("learner") or not user.has_role("admin", "trainer"):
            items.append(MenuItem(_l("My certificates"), "certificates.mine", order=25))
        if user.has_role("admin", "coordinator", "trainer"):
            items.append(MenuItem(_l("Certificates"), "certificates.register", order=45))
    return items


# --- template hooks -----------------------------------------------------------------------


def footer_link(sender: str, **kwargs: object) -> str:
    """The public verification page, linked from every page's footer."""
    href = remembered_url("certificates.verify_form")
    return f' · <a href="{href}">{escape(_("Verify a certificate"))}</a>'


def stylesheet(sender: str, **kwargs: object) -> str:
    """The plugin's stylesheet on every page: its panels appear on other plugins' pages."""
    href = remembered_url("certificates.static", filename="certificates.css")
    return f'<link rel="stylesheet" href="{href}">'


def _own_certificates_by_course() -> dict[int, Certificate]:
    """The current user's newest certificate per course, loaded once per request (the hook
    runs once per completed course on the dashboard)."""
    cached = g.get("_certificates_by_course")
    if cached is None:
        cached = {}
        rows = db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == current_user.id)
            .order_by(Certificate.issued_at, Certificate.id)
        )
        for certificate in rows:
            if certificate.course_id is not None:
                cached[certificate.course_id] = certificate  # the newest wins
        g._certificates_by_course = cached
    return cached


def course_completed(sender: str, course, enrolment, **kwargs: object) -> str | None:  # noqa: ANN001
    """`course-completed` hook (course page and dashboard): the learner's certificate."""
    if not current_user.is_authenticated or enrolment is None:
        return None
    if enrolment.user_id == current_user.id:
        certificate = _own_certificates_by_course().get(course.id)
    else:
        certificate = services.current_certificate(enrolment.user_id, course.id)
        if certificate is not None and not access.can_view(current_user, certificate):
            return None
    return render_template("certificates/_course_certificate.html", certificate=certificate)


# Built once (the home page runs it on every visit); the user is a bound parameter.
_RECENT_CERTIFICATES = (
    select(Certificate)
    .where(Certificate.user_id == bindparam("user_id"))
    .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    .limit(HOME_RECENT + 1)
)


def learner_home(sender: str, user, **kwargs: object) -> str | None:  # noqa: ANN001
    """`home-learner` hook: the newest certificates, when there are any."""
    recent = db.session.scalars(_RECENT_CERTIFICATES, {"user_id": user.id}).all()
    if not recent:
        return None
    return render_template(
        "certificates/_home_certificates.html",
        certificates=recent[:HOME_RECENT],
        more=len(recent) > HOME_RECENT,
    )


def company_certificates(sender: str, company, **kwargs: object) -> str | None:  # noqa: ANN001
    """`company-detail` hook: the company's certificates in the register."""
    if not current_user.is_authenticated or not (
        current_user.is_admin or company.id in current_user.coordinated_company_ids
    ):
        return None
    today = utcnow().date()
    total, valid = db.session.execute(
        select(
            func.count(Certificate.id),
            func.count(Certificate.id).filter(
                Certificate.revoked_at.is_(None),
                (Certificate.valid_until.is_(None)) | (Certificate.valid_until >= today),
            ),
        ).where(Certificate.company_id == company.id)
    ).one()
    return render_template(
        "certificates/_company_certificates.html", company=company, total=total, valid=valid
    )


def admin_overview(sender: str, **kwargs: object) -> str:
    today = utcnow().date()
    total, revoked, valid = db.session.execute(
        select(
            func.count(Certificate.id),
            func.count(Certificate.id).filter(Certificate.revoked_at.is_not(None)),
            func.count(Certificate.id).filter(
                Certificate.revoked_at.is_(None),
                (Certificate.valid_until.is_(None)) | (Certificate.valid_until >= today),
            ),
        )
    ).one()
    return render_template(
        "certificates/_admin_overview.html", total=total, revoked=revoked, valid=valid
    )


def admin_nav(sender: str, **kwargs: object) -> str:
    return render_template("certificates/_admin_nav.html")
