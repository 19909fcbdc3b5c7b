"""Courses, modules, lessons, media, enrolments and progress.

Authors edit a *working copy* of modules and lessons; learners see the *published* copy, which
`services.publish_course` refreshes. A lesson whose published text changes gets a new
`published_revision`, so progress recorded against an older revision no longer counts while
progress on unchanged lessons is kept.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import User, utcnow
from lms.types import UTCDateTime


class Topic(enum.StrEnum):
    CIRCULAR_ECONOMY = "circular-economy"
    RESOURCE_ENERGY_EFFICIENCY = "resource-energy-efficiency"
    GREEN_INNOVATION = "green-innovation"
    SUSTAINABLE_BUSINESS_MODELS = "sustainable-business-models"
    CLIMATE_NEUTRALITY = "climate-neutrality"


class DeliveryMode(enum.StrEnum):
    ONLINE = "online"
    ON_SITE = "on-site"
    BLENDED = "blended"


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


#: GreenComp (JRC 2022): 4 areas x 3 competences.
GREENCOMP = {
    "1.1": "Valuing sustainability",
    "1.2": "Supporting fairness",
    "1.3": "Promoting nature",
    "2.1": "Systems thinking",
    "2.2": "Critical thinking",
    "2.3": "Problem framing",
    "3.1": "Futures literacy",
    "3.2": "Adaptability",
    "3.3": "Exploratory thinking",
    "4.1": "Political agency",
    "4.2": "Collective action",
    "4.3": "Individual initiative",
}


def _in(column: str, values: type[enum.StrEnum] | tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Course(db.Model):
    __tablename__ = "courses_course"
    __table_args__ = (
        CheckConstraint(_in("topic", Topic), name="topic"),
        CheckConstraint(_in("language", ("bg", "en")), name="language"),
        CheckConstraint(_in("delivery_mode", DeliveryMode), name="delivery_mode"),
        CheckConstraint(_in("status", CourseStatus), name="status"),
        CheckConstraint("required_sessions BETWEEN 0 AND 50", name="required_sessions"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    translation_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses_course.id", ondelete="SET NULL")
    )
    contact_hours: Mapped[Decimal] = mapped_column(Numeric(6, 1), default=Decimal(0))
    self_study_hours: Mapped[Decimal] = mapped_column(Numeric(6, 1), default=Decimal(0))
    assessment_hours: Mapped[Decimal] = mapped_column(Numeric(6, 1), default=Decimal(0))
    learning_outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)
    greencomp: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivery_mode: Mapped[str] = mapped_column(String(10), default=DeliveryMode.ONLINE)
    assessment: Mapped[str] = mapped_column(Text, default="")
    validity_months: Mapped[int | None] = mapped_column(Integer)
    # Mark a lesson done when the learner reaches its end (otherwise only the button does).
    complete_on_scroll: Mapped[bool] = mapped_column(Boolean, default=True)
    # Live sessions of this course a learner must attend to complete it (courses/events.py).
    required_sessions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(10), default=CourseStatus.DRAFT)
    version: Mapped[int] = mapped_column(Integer, default=0)  # 0: never published
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    owners: Mapped[list[User]] = relationship(secondary="courses_course_owner")
    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan"
    )
    translation_of: Mapped[Course | None] = relationship(remote_side=[id])

    @property
    def workload_hours(self) -> Decimal:
        return self.contact_hours + self.self_study_hours + self.assessment_hours

    @property
    def is_published(self) -> bool:
        return self.status == CourseStatus.PUBLISHED

    @property
    def published_modules(self) -> list[Module]:
        modules = [m for m in self.modules if m.is_published]
        return sorted(modules, key=lambda m: m.published_position)

    def is_owned_by(self, user: User) -> bool:
        return any(owner.id == user.id for owner in self.owners)

    def __repr__(self) -> str:
        return f"<Course {self.slug} v{self.version}>"


class CourseOwner(db.Model):
    """A trainer who may edit the course and follow its learners."""

    __tablename__ = "courses_course_owner"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )


class Module(db.Model):
    __tablename__ = "courses_module"
    __table_args__ = (Index("ix_courses_module_course_position", "course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    # Working copy (authors).
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The folder name in a course package without its number ("why-circular"), so that a
    # re-imported package updates this module instead of adding a new one.
    source_key: Mapped[str | None] = mapped_column(String(120))
    # Published copy (learners).
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_position: Mapped[int] = mapped_column(Integer, default=0)
    published_title: Mapped[str] = mapped_column(String(200), default="")
    published_summary: Mapped[str] = mapped_column(Text, default="")
    # Free-form settings other plugins keep with a module (e.g. the quiz settings of a package).
    settings: Mapped[dict] = mapped_column(JSON, default=dict)

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", order_by="Lesson.position", cascade="all, delete-orphan"
    )

    @property
    def published_lessons(self) -> list[Lesson]:
        lessons = [lesson for lesson in self.lessons if lesson.is_published]
        return sorted(lessons, key=lambda lesson: lesson.published_position)


class Lesson(db.Model):
    __tablename__ = "courses_lesson"
    __table_args__ = (Index("ix_courses_lesson_module_position", "module_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("courses_module.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    # Working copy: the Markdown source and its sanitised HTML, rendered once at save time.
    # The texts are deferred: outlines, dashboards and progress never load them.
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="", deferred=True)
    body_html: Mapped[str] = mapped_column(Text, default="", deferred=True)
    minutes: Mapped[int] = mapped_column(Integer, default=5)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    source_key: Mapped[str | None] = mapped_column(String(120))  # file name without number
    # Published copy.
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_position: Mapped[int] = mapped_column(Integer, default=0)
    published_title: Mapped[str] = mapped_column(String(200), default="")
    published_html: Mapped[str] = mapped_column(Text, default="", deferred=True)
    published_minutes: Mapped[int] = mapped_column(Integer, default=0)
    published_hash: Mapped[str] = mapped_column(String(64), default="")
    # Grows when a publication changes this lesson's text; progress on older revisions lapses.
    published_revision: Mapped[int] = mapped_column(Integer, default=0)

    module: Mapped[Module] = relationship(back_populates="lessons")


class Media(db.Model):
    """An image uploaded for a course, stored in the database so app servers share it."""

    __tablename__ = "courses_media"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Enrolment(db.Model):
    __tablename__ = "courses_enrolment"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    # The learner's company when they enrolled: reports count the company they worked for.
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id", ondelete="SET NULL"), index=True
    )
    enrolled_version: Mapped[int] = mapped_column(Integer)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Indexed for the grant report (completions in a period).
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    completed_version: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship()


class LessonProgress(db.Model):
    """A learner's reading of one lesson; `revision` is the lesson revision they finished."""

    __tablename__ = "courses_lesson_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id"),
        Index("ix_courses_lesson_progress_user_course", "user_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("courses_lesson.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer, default=0)


class ModuleCompletion(db.Model):
    """Recorded once, the moment a module's requirements are all met."""

    __tablename__ = "courses_module_completion"
    __table_args__ = (UniqueConstraint("user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("courses_module.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- live sessions, registrations, attendance and surveys ---------------------------------
# (services in courses/events.py and courses/surveys.py; migration 0006_sessions)


class EventType(enum.StrEnum):
    WEBINAR = "webinar"
    SEMINAR = "seminar"
    TRAINING = "training"
    CONFERENCE = "conference"
    WORKSHOP = "workshop"


class EventStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


#: The longest event: a three-day conference, in minutes.
MAX_EVENT_MINUTES = 3 * 24 * 60


class LiveEvent(db.Model):
    """A webinar, seminar, training, workshop or conference. With a course it is a session of
    that course (contact hours); without one it is an awareness event."""

    __tablename__ = "courses_event"
    __table_args__ = (
        CheckConstraint(_in("event_type", EventType), name="event_type"),
        CheckConstraint(_in("topic", Topic), name="topic"),
        CheckConstraint(_in("delivery_mode", DeliveryMode), name="delivery_mode"),
        CheckConstraint(_in("status", EventStatus), name="status"),
        CheckConstraint(
            f"duration_minutes BETWEEN 1 AND {MAX_EVENT_MINUTES}", name="duration_minutes"
        ),
        CheckConstraint("capacity IS NULL OR capacity BETWEEN 1 AND 100000", name="capacity"),
        Index("ix_courses_event_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(12), default=EventType.WEBINAR)
    topic: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer)
    delivery_mode: Mapped[str] = mapped_column(String(10), default=DeliveryMode.ONLINE)
    place: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    with_ict_norway: Mapped[bool] = mapped_column(Boolean, default=False)
    partner: Mapped[str] = mapped_column(String(200), default="")  # other partners, as text
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=EventStatus.SCHEDULED)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    course: Mapped[Course | None] = relationship()

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def is_awareness(self) -> bool:
        return self.course_id is None


class EventRegistration(db.Model):
    __tablename__ = "courses_event_registration"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("courses_event.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class Attendance(db.Model):
    """Someone was there: a user, or a guest known only by name and email (a walk-in, or an
    imported row whose email matches no account)."""

    __tablename__ = "courses_attendance"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint(f"minutes IS NULL OR minutes BETWEEN 0 AND {MAX_EVENT_MINUTES}",
                        name="minutes"),
        CheckConstraint(_in("source", ("manual", "csv")), name="source"),
        CheckConstraint("user_id IS NOT NULL OR name <> ''", name="someone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("courses_event.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    # The user's company when they attended (reports count the company they worked for).
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id", ondelete="SET NULL"), index=True
    )
    minutes: Mapped[int | None] = mapped_column(Integer)  # None: the whole event
    source: Mapped[str] = mapped_column(String(10), default="manual")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class SkillsAssessment(db.Model):
    """A learner's self-assessment for a course, before or after it: 1 to 5 per learning
    outcome (`answers` maps the outcome as asked to the rating; `average` is their mean)."""

    __tablename__ = "courses_skills_assessment"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", "phase"),
        CheckConstraint(_in("phase", ("before", "after")), name="phase"),
        CheckConstraint("average BETWEEN 1 AND 5", name="average"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    phase: Mapped[str] = mapped_column(String(6))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    average: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EventFeedback(db.Model):
    """Satisfaction after an attended event (1 to 5) with an optional comment."""

    __tablename__ = "courses_event_feedback"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("courses_event.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    satisfaction: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
