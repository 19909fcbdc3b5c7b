"""Who may see, download, revoke and reissue a certificate, and which certificates a person's
register holds.

Seeing (and downloading) a certificate: its learner, a coordinator of the company the learner
belonged to when it was issued (``Certificate.company_id``), a trainer owning the course, and
the cluster admin. Revoking and reissuing: the admin, and a trainer for the courses they own.
Anyone else is answered 404, exactly as for a certificate that does not exist.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, false, or_, select, true

from certificates.models import Certificate
from courses.models import CourseOwner
from lms.extensions import db
from lms.models import User


def _owns_course(user: User, certificate: Certificate) -> bool:
    return certificate.course is not None and certificate.course.is_owned_by(user)


def can_view(user: User, certificate: Certificate) -> bool:
    """May `user` see and download `certificate`?"""
    if not user.is_authenticated:
        return False
    if user.is_admin or (certificate.user_id is not None and certificate.user_id == user.id):
        return True
    if certificate.company_id is not None and (
        certificate.company_id in user.coordinated_company_ids
    ):
        return True
    return _owns_course(user, certificate)


def can_manage(user: User, certificate: Certificate) -> bool:
    """May `user` revoke and reissue `certificate`?"""
    if not user.is_authenticated:
        return False
    return user.is_admin or _owns_course(user, certificate)


def viewable_or_404(certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not can_view(current_user, certificate):
        abort(404)
    return certificate


def manageable_or_404(certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not can_manage(current_user, certificate):
        abort(404)
    return certificate


def register_scope(user: User) -> ColumnElement[bool]:
    """The SQL condition selecting the certificates in `user`'s register: all for the admin,
    the coordinated companies' for a coordinator, the owned courses' for a trainer (a person
    with several roles gets the union). A learner's own certificates are in "My certificates",
    not here."""
    if not user.is_authenticated:
        return false()
    if user.is_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    companies = sorted(user.coordinated_company_ids)
    if companies:
        conditions.append(Certificate.company_id.in_(companies))
    if user.has_role("trainer"):
        owned = select(CourseOwner.course_id).where(CourseOwner.user_id == user.id)
        conditions.append(Certificate.course_id.in_(owned))
    return or_(*conditions) if conditions else false()
