"""Indicator definitions: the defaults of DOMAIN.md and the admin's saved ones."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache

from sqlalchemy import select
from sqlalchemy.sql import Select

from lms.extensions import db
from lms.reports.models import IndicatorDefinition


@dataclass(frozen=True)
class Definition:
    key: str
    name_en: str
    name_bg: str
    sources: tuple[str, ...]
    measure: str
    target: Decimal | None = None
    enabled: bool = True
    course_ids: tuple[int, ...] = ()
    event_ids: tuple[int, ...] = ()
    min_hours: Decimal | None = None
    position: int = 0
    notes: tuple[str, ...] = field(default=(), compare=False)

    def name(self, language: str) -> str:
        return self.name_bg if language == "bg" and self.name_bg else self.name_en


#: The indicators of DOMAIN.md (EEA and Norway Grants core indicator counting rules).
DEFAULTS: tuple[Definition, ...] = (
    Definition(
        "courses_delivered",
        "Training courses delivered",
        "Проведени обучителни курсове",
        ("courses.completions",),
        "courses",
        position=1,
    ),
    Definition(
        "participants_completed",
        "Participants who completed a training course",
        "Участници, завършили обучителен курс",
        ("courses.completions",),
        "people",
        position=2,
    ),
    Definition(
        "awareness_participants",
        "Participants in awareness events",
        "Участници в информационни събития",
        ("courses.event_attendance",),
        "people",
        position=3,
    ),
    Definition(
        "enterprises_supported",
        "Enterprises supported",
        "Подкрепени предприятия",
        ("courses.completions",),
        "companies",
        position=4,
    ),
    Definition(
        "certificates_issued",
        "Certificates issued",
        "Издадени сертификати",
        ("certificates.issued",),
        "count",
        position=5,
    ),
    Definition(
        "improved_skills",
        "Employees with improved skills",
        "Служители с подобрени умения",
        ("courses.improved_skills",),
        "people",
        position=6,
    ),
    Definition(
        "training_hours",
        "Training hours delivered",
        "Проведени обучителни часове",
        ("courses.completions",),
        "hours",
        position=7,
    ),
    Definition(
        "certificates_revoked",
        "Certificates revoked (for information)",
        "Отменени сертификати (за информация)",
        ("certificates.revoked",),
        "count",
        position=8,
    ),
)
DEFAULT_KEYS = tuple(d.key for d in DEFAULTS)


def from_row(row: IndicatorDefinition) -> Definition:
    return Definition(
        key=row.key,
        name_en=row.name_en,
        name_bg=row.name_bg,
        sources=tuple(s.strip() for s in row.sources.split(",") if s.strip()),
        measure=row.measure,
        target=row.target,
        enabled=row.enabled,
        course_ids=tuple(int(i) for i in row.course_ids or ()),
        event_ids=tuple(int(i) for i in row.event_ids or ()),
        min_hours=row.min_hours,
        position=row.position,
    )


@cache
def _saved_query() -> Select:
    table = IndicatorDefinition.__table__
    return select(table).order_by(table.c.position, table.c.id)


def load_definitions(include_disabled: bool = False) -> list[Definition]:
    """The saved definitions in order, or the defaults while none are saved (read with a
    plain Core query built once: every report starts with it, ORM objects are not needed)."""
    rows = db.session.execute(_saved_query()).all()
    definitions = [from_row(r) for r in rows] if rows else list(DEFAULTS)  # type: ignore[arg-type]
    return [d for d in definitions if include_disabled or d.enabled]


def ensure_saved() -> list[IndicatorDefinition]:
    """Write the defaults as rows when none exist (before the first edit). Flushes only."""
    rows = list(
        db.session.scalars(
            select(IndicatorDefinition).order_by(
                IndicatorDefinition.position, IndicatorDefinition.id
            )
        )
    )
    if rows:
        return rows
    for d in DEFAULTS:
        row = IndicatorDefinition(
            key=d.key,
            position=d.position,
            name_en=d.name_en,
            name_bg=d.name_bg,
            sources=",".join(d.sources),
            measure=d.measure,
            target=d.target,
            enabled=d.enabled,
            course_ids=list(d.course_ids),
            event_ids=list(d.event_ids),
            min_hours=d.min_hours,
        )
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


__all__ = ["DEFAULTS", "Definition", "ensure_saved", "load_definitions", "replace"]
