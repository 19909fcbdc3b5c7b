"""What the cluster admin configures (indicator definitions) and what they submitted (frozen
report snapshots). The figures themselves are never stored except in snapshots."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.models import utcnow
from lms.reports import MEASURES
from lms.types import UTCDateTime

_MEASURES_SQL = ", ".join(f"'{m}'" for m in MEASURES)


class IndicatorDefinition(db.Model):
    """One line of the contract's indicator table. Until the admin saves the definitions the
    defaults of `lms.reports.definitions` apply (nothing is written on a GET)."""

    __tablename__ = "report_indicator"
    __table_args__ = (
        CheckConstraint(f"measure IN ({_MEASURES_SQL})", name="measure"),
        CheckConstraint("target IS NULL OR target >= 0", name="target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_en: Mapped[str] = mapped_column(String(200))
    name_bg: Mapped[str] = mapped_column(String(200))
    # Comma-separated source keys (their facts are added up), e.g. "courses.completions".
    sources: Mapped[str] = mapped_column(String(300))
    measure: Mapped[str] = mapped_column(String(20))
    target: Mapped[Decimal | None] = mapped_column(Numeric(12, 1))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Only these courses / events count (empty: all of them).
    course_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    event_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Facts with fewer hours do not count (e.g. 8 for "more than one day"); None: no limit.
    min_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ReportSnapshot(db.Model):
    """A report as submitted to the grant operator: figures, splits and rows frozen as JSON.
    Nothing reads live data to show it, so later completions or erasures never change it."""

    __tablename__ = "report_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    cumulative: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    frozen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Kept as text too: the snapshot says who froze it even after that account is gone.
    frozen_by_name: Mapped[str] = mapped_column(String(200), default="")
