"""Core models: people, companies, their membership and roles, and throttling events.

Models own their invariants (constraints, normalisation, derived values); they send no signals
and know nothing of HTTP. Writes go through `lms.services`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from lms import sme
from lms.extensions import db
from lms.types import UTCDateTime


def utcnow() -> datetime:
    """Timezone-aware now; stored as UTC everywhere, shown in the viewer's time zone."""
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


LANGUAGES = ("bg", "en")
# The grant operator's wording for self-reported gender.
GENDERS = ("female", "male", "other", "prefer_not_to_say")
AGE_BANDS = ("under_25", "25_34", "35_44", "45_54", "55_64", "65_plus")
GLOBAL_ROLES = ("learner", "trainer", "admin")
#: Every role the UI and the access rules know; "coordinator" comes from a membership.
ROLES = ("learner", "trainer", "coordinator", "admin")


class User(UserMixin, db.Model):
    """A person with an account. Only what reporting needs is kept (see DOMAIN.md)."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(_in("language", LANGUAGES), name="language"),
        CheckConstraint(f"gender IS NULL OR {_in('gender', GENDERS)}", name="gender"),
        CheckConstraint(f"age_band IS NULL OR {_in('age_band', AGE_BANDS)}", name="age_band"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(2), default="bg")
    gender: Mapped[str | None] = mapped_column(String(20))
    age_band: Mapped[str | None] = mapped_column(String(10))
    job_role: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by logout, password change and deactivation: every cookie carrying an older
    # version stops working on its next request, on every app server.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Privacy (see lms/privacy.py): `erased_at` is set when an erasure request is carried out
    # (identifying data erased, the rest restricted to audit exports); `anonymised_at` when
    # `lms purge-expired` cut the remaining link after the retention date.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @validates("email")
    def _normalise_email(self, key: str, value: str) -> str:
        return normalise_email(value)

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Flask-Login: the id in the cookie carries the session version (see load_user).
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def roles(self) -> frozenset[str]:
        names = {row.role for row in self.role_rows}
        if any(m.is_coordinator for m in self.memberships):
            names.add("coordinator")
        return frozenset(names)

    def has_role(self, *names: str) -> bool:
        return bool(self.roles.intersection(names))

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")

    @property
    def company_ids(self) -> frozenset[int]:
        return frozenset(m.company_id for m in self.memberships)

    @property
    def coordinated_company_ids(self) -> frozenset[int]:
        return frozenset(m.company_id for m in self.memberships if m.is_coordinator)

    @property
    def primary_company(self) -> Company | None:
        return self.memberships[0].company if self.memberships else None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def normalise_email(value: str) -> str:
    return value.strip().lower()


class UserRole(db.Model):
    """A global role of a user (learner, trainer, admin). Coordinators are memberships."""

    __tablename__ = "user_role"
    __table_args__ = (CheckConstraint(_in("role", GLOBAL_ROLES), name="role"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class Company(db.Model):
    """An enterprise whose staff take part; identified by its UIC so it is counted once."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uic: Mapped[str] = mapped_column(String(13), unique=True)
    registered_on: Mapped[date | None] = mapped_column(Date)
    is_listed: Mapped[bool] = mapped_column(Boolean, default=False)
    nace_code: Mapped[str | None] = mapped_column(String(10))
    nuts3: Mapped[str] = mapped_column(String(5), default="BG341")
    # Staff join the company by entering this code or following the invitation link.
    invitation_code: Mapped[str] = mapped_column(
        String(32), unique=True, default=lambda: secrets.token_urlsafe(12)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    figures: Mapped[list[CompanyFigures]] = relationship(
        back_populates="company",
        cascade="all, delete-orphan",
        order_by="desc(CompanyFigures.reference_year)",
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="company", cascade="all, delete-orphan"
    )

    @validates("uic")
    def _normalise_uic(self, key: str, value: str) -> str:
        return sme.normalise_uic(value)

    @property
    def latest_figures(self) -> CompanyFigures | None:
        return self.figures[0] if self.figures else None

    def figures_for(self, year: int) -> CompanyFigures | None:
        """The declared figures that apply in `year`: that year's, else the latest before it."""
        for row in self.figures:  # newest first
            if row.reference_year <= year:
                return row
        return self.figures[-1] if self.figures else None

    @property
    def size_class(self) -> sme.SizeClass | None:
        latest = self.latest_figures
        return latest.size_class if latest else None

    def is_startup_on(self, on: date, min_months: int, max_months: int) -> bool:
        figures = self.figures_for(on.year)
        if figures is None:
            return False
        return sme.is_startup(
            self.registered_on, figures.size_class, self.is_listed, on, min_months, max_months
        )

    @property
    def uic_is_valid(self) -> bool:
        return sme.is_valid_uic(self.uic)

    def __repr__(self) -> str:
        return f"<Company {self.id} {self.uic}>"


class CompanyFigures(db.Model):
    """Declared headcount and finances for one reference year; the size class follows."""

    __tablename__ = "company_figures"
    __table_args__ = (
        UniqueConstraint("company_id", "reference_year"),
        CheckConstraint("headcount >= 0", name="headcount"),
        CheckConstraint("turnover_eur IS NULL OR turnover_eur >= 0", name="turnover"),
        CheckConstraint("balance_sheet_eur IS NULL OR balance_sheet_eur >= 0", name="balance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    reference_year: Mapped[int] = mapped_column(Integer)
    headcount: Mapped[int] = mapped_column(Integer)
    turnover_eur: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    balance_sheet_eur: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))

    company: Mapped[Company] = relationship(back_populates="figures")

    @property
    def size_class(self) -> sme.SizeClass:
        return sme.size_class(self.headcount, self.turnover_eur, self.balance_sheet_eur)


class Membership(db.Model):
    """A user working for a company; a coordinator follows and enrols that company's staff."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    company: Mapped[Company] = relationship(back_populates="memberships", lazy="joined")


class ThrottleEvent(db.Model):
    """One counted event (a failed login, a missed verification) for a throttling key.

    Kept in the database, not in process memory, so every app worker and server sees the same
    counts and a restart or a new X-Forwarded-For value does not reset them."""

    __tablename__ = "throttle_event"
    __table_args__ = (Index("ix_throttle_event_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


#: Optional consents asked at registration and on the account's privacy page (DOMAIN.md).
CONSENT_KINDS = ("photos", "publication", "newsletter")
CONSENT_SOURCES = ("registration", "account", "erasure")
ERASURE_STATUSES = ("pending", "done", "cancelled")


class ConsentRecord(db.Model):
    """One given or withdrawn consent, with the version of the consent text the person saw.

    An append-only history: the current state of a consent is its newest record (no record:
    not given). Kept after erasure as proof of what was consented to, and when."""

    __tablename__ = "consent_record"
    __table_args__ = (
        CheckConstraint(_in("kind", CONSENT_KINDS), name="kind"),
        CheckConstraint(_in("source", CONSENT_SOURCES), name="source"),
        Index("ix_consent_record_user_kind_at", "user_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default="account")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ErasureRequest(db.Model):
    """A person's request to erase their data, carried out (or cancelled) by a cluster admin."""

    __tablename__ = "erasure_request"
    __table_args__ = (CheckConstraint(_in("status", ERASURE_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
