"""Privacy services (GDPR): consents, the personal-data download, erasure and the purge after
the retention period. Services flush, never commit: the view or command owns the transaction.

What happens to a person's data (DOMAIN.md "Privacy"; the privacy notice says the same):

1. **Erasure** (`erase_user`, by a cluster admin on the person's request), at once: the name
   becomes "Erased user #<id>", the email an unusable placeholder under the reserved `.invalid`
   domain, the password unusable, every session ends (session version) and the account is
   deactivated for good; the job role and the last login time are cleared; every consent still
   given is withdrawn (the consent history itself stays as proof of what was consented to);
   login throttling rows of the old address are deleted. The `user-erased` signal lets the
   plugins react in the same transaction (certificates become nameless and their stored PDF,
   which prints the name, is deleted).
2. **Restriction** until `PRIVACY_RETENTION_UNTIL`: what the grant audit needs stays, tied to
   the now nameless account: gender, age band, company membership, enrolments and
   completions, attendance, quiz results and certificates. Pages show the account only under
   its placeholder name; the account can never log in or be reactivated, and it is left out
   of the admin's user list. Audit exports (the grant report) keep counting it.
3. **Anonymisation** (`purge_expired`, `flask --app wsgi lms purge-expired`) once the retention
   date has passed: the company membership is deleted and the `user-anonymised` signal lets
   the plugins delete the fine-grained trail (lesson progress, free-text quiz answers and
   comments). What is kept is one anonymous unit per person: the nameless account row with its
   gender and age band, and the counted facts (enrolments with their company, completions,
   certificates). So live indicator totals and their splits by gender, age band and company do
   not change, and frozen report snapshots are separate rows that nothing here touches.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from lms.extensions import db
from lms.models import (
    CONSENT_KINDS,
    ConsentRecord,
    ErasureRequest,
    Membership,
    ThrottleEvent,
    User,
    UserRole,
    normalise_email,
    utcnow,
)
from lms.services import ServiceError
from lms.signals import collect, get_personal_data, user_anonymised, user_erased

#: What each consent means; the same wording on the registration form and the account page.
CONSENT_LABELS = {
    "photos": _l(
        "Photos and video in which I can be recognised, taken at the initiative's events, may "
        "be published on the cluster's website, social media and project reports."
    ),
    "publication": _l(
        "My name and company may be published as a participant or graduate of the "
        "initiative's courses (for example in news about the initiative)."
    ),
    "newsletter": _l(
        "Send me ICT Cluster Burgas's newsletter about upcoming courses and events. I can "
        "unsubscribe at any time."
    ),
}
ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: .invalid never resolves, so never delivers
# Not a Werkzeug hash: check_password_hash always fails on it.
UNUSABLE_PASSWORD = "!erased"  # noqa: S105


def notice_version() -> str:
    return str(current_app.config["PRIVACY_NOTICE_VERSION"])


def retention_until() -> date:
    """The last day restricted data is kept (`PRIVACY_RETENTION_UNTIL`, an ISO date)."""
    value = current_app.config["PRIVACY_RETENTION_UNTIL"]
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- consents -----------------------------------------------------------------------------


def current_consents(user: User) -> dict[str, ConsentRecord | None]:
    """The newest record of each consent kind (None: never answered, so not given)."""
    current: dict[str, ConsentRecord | None] = dict.fromkeys(CONSENT_KINDS)
    for record in db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.user_id == user.id)
        .order_by(ConsentRecord.at, ConsentRecord.id)
    ):
        current[record.kind] = record
    return current


def consent_given(user: User, kind: str) -> bool:
    record = current_consents(user).get(kind)
    return bool(record and record.granted)


def set_consents(user: User, wanted: dict[str, bool], source: str = "account") -> int:
    """Record the consents as answered now, with the current notice version. At registration
    every answer is recorded (a "no" too); later only the changes. Returns the records added."""
    if user.erased_at is not None:
        raise ServiceError(_l("This account has been erased."))
    unknown = set(wanted) - set(CONSENT_KINDS)
    if unknown:
        raise ServiceError(_l("Unknown consent: %(kinds)s.", kinds=", ".join(sorted(unknown))))
    current = current_consents(user)
    now = utcnow()
    added = 0
    for kind in CONSENT_KINDS:
        if kind not in wanted:
            continue
        granted = bool(wanted[kind])
        record = current[kind]
        if source != "registration" and bool(record and record.granted) == granted:
            continue
        db.session.add(
            ConsentRecord(
                user_id=user.id,
                kind=kind,
                granted=granted,
                version=notice_version(),
                source=source,
                at=now,
            )
        )
        added += 1
    db.session.flush()
    return added


# --- the data download --------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def personal_data(user: User) -> dict[str, Any]:
    """Everything the platform keeps about `user`, JSON-ready (GDPR art. 15 and 20): the core's
    sections, then one section per plugin through the `get-personal-data` collector."""
    data: dict[str, Any] = {
        "generated_at": utcnow(),
        "privacy_notice_version": notice_version(),
        "profile": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "language": user.language,
            "gender": user.gender,
            "age_band": user.age_band,
            "job_role": user.job_role,
            "roles": sorted(user.roles),
            "active": user.active,
            "created_at": user.created_at,
            "last_login_at": user.last_login_at,
        },
        "memberships": [
            {
                "company": m.company.name,
                "company_uic": m.company.uic,
                "coordinator": m.is_coordinator,
                "joined_at": m.joined_at,
            }
            for m in user.memberships
        ],
        "consents": {
            "current": {
                kind: bool(record and record.granted)
                for kind, record in current_consents(user).items()
            },
            "history": [
                {
                    "kind": r.kind,
                    "granted": r.granted,
                    "notice_version": r.version,
                    "source": r.source,
                    "at": r.at,
                }
                for r in db.session.scalars(
                    select(ConsentRecord)
                    .where(ConsentRecord.user_id == user.id)
                    .order_by(ConsentRecord.at, ConsentRecord.id)
                )
            ],
        },
        "erasure_requests": [
            {"status": r.status, "requested_at": r.requested_at, "processed_at": r.processed_at}
            for r in db.session.scalars(
                select(ErasureRequest)
                .where(ErasureRequest.user_id == user.id)
                .order_by(ErasureRequest.id)
            )
        ],
    }
    for answer in collect(get_personal_data, user):
        if isinstance(answer, dict):
            for section, value in answer.items():
                data[str(section)] = value
    return _jsonable(data)


# --- erasure requests ---------------------------------------------------------------------


def pending_request(user: User) -> ErasureRequest | None:
    return db.session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.user_id == user.id, ErasureRequest.status == "pending"
        )
    )


def request_erasure(user: User) -> ErasureRequest:
    if user.erased_at is not None:
        raise ServiceError(_l("This account has already been erased."))
    if pending_request(user) is not None:
        raise ServiceError(_l("You have already asked for erasure; the cluster will process it."))
    request = ErasureRequest(user_id=user.id, status="pending", requested_at=utcnow())
    db.session.add(request)
    db.session.flush()
    return request


def withdraw_request(user: User) -> None:
    """The person changed their mind before the admin processed the request."""
    request = pending_request(user)
    if request is None:
        raise ServiceError(_l("There is no pending erasure request."))
    request.status = "cancelled"
    request.processed_at = utcnow()
    db.session.flush()


def pending_requests() -> list[ErasureRequest]:
    return list(
        db.session.scalars(
            select(ErasureRequest)
            .where(ErasureRequest.status == "pending")
            .order_by(ErasureRequest.requested_at, ErasureRequest.id)
        )
    )


def processed_requests(limit: int = 50) -> list[ErasureRequest]:
    return list(
        db.session.scalars(
            select(ErasureRequest)
            .where(ErasureRequest.status != "pending")
            .order_by(ErasureRequest.processed_at.desc(), ErasureRequest.id.desc())
            .limit(limit)
        )
    )


def cancel_request(request: ErasureRequest, by: User) -> None:
    """The admin closes a request without erasing (e.g. the person withdrew it by phone)."""
    if request.status != "pending":
        raise ServiceError(_l("This request has already been processed."))
    request.status = "cancelled"
    request.processed_at = utcnow()
    request.processed_by_id = by.id
    db.session.flush()


def _active_admin_count() -> int:
    return (
        db.session.scalar(
            select(func.count(User.id))
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "admin", User.active.is_(True), User.erased_at.is_(None))
        )
        or 0
    )


def erase_user(user: User, by: User | None) -> None:
    """Carry out an erasure (see the module docstring). Everything happens in the caller's
    transaction: if anything fails, the caller rolls back and nothing is half-done."""
    if user.erased_at is not None:
        raise ServiceError(_l("This account has already been erased."))
    if by is not None and by.id == user.id:
        raise ServiceError(_l("You cannot erase your own account; ask another cluster admin."))
    if user.is_admin and user.active and _active_admin_count() <= 1:
        raise ServiceError(_l("This is the last cluster admin; it cannot be erased."))
    old_email = user.email
    now = utcnow()
    # Withdraw every consent still given (kept as history: proof of past consent).
    for kind, record in current_consents(user).items():
        if record is not None and record.granted:
            db.session.add(
                ConsentRecord(
                    user_id=user.id,
                    kind=kind,
                    granted=False,
                    version=notice_version(),
                    source="erasure",
                    at=now,
                )
            )
    user.name = f"Erased user #{user.id}"
    user.email = f"erased-{user.id}@{ERASED_EMAIL_DOMAIN}"
    user.password_hash = UNUSABLE_PASSWORD
    user.job_role = None
    user.last_login_at = None
    user.active = False
    user.session_version += 1
    user.erased_at = now
    db.session.execute(
        delete(ThrottleEvent).where(ThrottleEvent.key == normalise_email(old_email)[:254])
    )
    for request in db.session.scalars(
        select(ErasureRequest).where(
            ErasureRequest.user_id == user.id, ErasureRequest.status == "pending"
        )
    ):
        request.status = "done"
        request.processed_at = now
        request.processed_by_id = by.id if by is not None else None
    db.session.flush()
    user_erased.send(user, by=by, email=old_email)
    db.session.flush()


def process_request(request: ErasureRequest, by: User) -> None:
    if request.status != "pending":
        raise ServiceError(_l("This request has already been processed."))
    erase_user(request.user, by)


# --- after the retention period -----------------------------------------------------------


def expired_users(today: date | None = None) -> list[User]:
    """Erased users whose restricted data must now be anonymised (none before the date)."""
    today = today or utcnow().date()
    if today <= retention_until():
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(User.erased_at.is_not(None), User.anonymised_at.is_(None))
            .order_by(User.id)
        )
    )


def anonymise_user(user: User) -> None:
    """Cut the remaining link to the person, keeping one anonymous counted unit."""
    if user.erased_at is None:
        raise ServiceError(_l("Only an erased account can be anonymised."))
    if user.anonymised_at is not None:
        return
    db.session.execute(delete(Membership).where(Membership.user_id == user.id))
    db.session.expire(user, ["memberships"])
    user.anonymised_at = utcnow()
    db.session.flush()
    user_anonymised.send(user)
    db.session.flush()


def is_restricted(user: User | None) -> bool:
    """True for an erased account: show it only under its placeholder name, in audit exports."""
    return user is not None and user.erased_at is not None
