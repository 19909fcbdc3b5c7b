"""Progress of many learners at once, for coordinators, trainers and admins.

Everything is computed with a few aggregate queries (lessons per course, lessons done per
learner and course), never one query per learner or per cell, so a company of hundreds of
learners costs the same handful of statements as a company of three. Read-only: no writes.

A cell's percentage counts the course's published lessons whose current revision the learner
finished; a completed enrolment is 100 %. Other plugins' requirements (quizzes, live sessions)
are shown in a learner's drill-down, where `courses.completion.course_progress` lists them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, select

from courses.models import (
    Course,
    CourseOwner,
    CourseStatus,
    Enrolment,
    Lesson,
    LessonProgress,
    Module,
)
from lms.extensions import db
from lms.models import Company, Membership, User

#: Courses whose learners are followed: a draft has no learners, an archived course keeps them.
FOLLOWED_STATUSES = (str(CourseStatus.PUBLISHED), str(CourseStatus.ARCHIVED))


@dataclass(frozen=True)
class Learner:
    id: int
    name: str
    email: str
    job_role: str | None
    active: bool


@dataclass(frozen=True)
class CourseColumn:
    id: int
    slug: str
    title: str
    language: str
    status: str


@dataclass(frozen=True)
class Cell:
    """One learner's enrolment in one course."""

    user_id: int
    course_id: int
    company_id: int | None
    enrolled_at: datetime
    last_activity_at: datetime | None
    completed_at: datetime | None
    lessons_done: int
    lessons_total: int

    @property
    def percent(self) -> int:
        if self.completed_at is not None:
            return 100
        if not self.lessons_total:
            return 0
        return min(100, 100 * self.lessons_done // self.lessons_total)

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


@dataclass
class LearnerRow:
    learner: Learner
    cells: dict[int, Cell] = field(default_factory=dict)  # course id -> cell

    @property
    def last_activity_at(self) -> datetime | None:
        times = [c.last_activity_at for c in self.cells.values() if c.last_activity_at]
        return max(times) if times else None


@dataclass
class CompanyMatrix:
    company: Company
    courses: list[CourseColumn]
    rows: list[LearnerRow]

    @property
    def enrolment_count(self) -> int:
        return sum(len(row.cells) for row in self.rows)

    @property
    def completed_count(self) -> int:
        return sum(1 for row in self.rows for cell in row.cells.values() if cell.completed)

    @property
    def average_percent(self) -> int:
        cells = [cell for row in self.rows for cell in row.cells.values()]
        return round(sum(c.percent for c in cells) / len(cells)) if cells else 0

    def export_rows(self) -> Iterable[tuple[Learner, CourseColumn, Cell]]:
        """One (learner, course, cell) per enrolment, learners in name order."""
        for row in self.rows:
            for course in self.courses:
                cell = row.cells.get(course.id)
                if cell is not None:
                    yield row.learner, course, cell


@dataclass(frozen=True)
class CourseLearnerRow:
    learner: Learner
    company_name: str | None
    cell: Cell


@dataclass(frozen=True)
class CourseSummary:
    course: Course
    enrolled: int
    completed: int


@dataclass(frozen=True)
class CompanySummary:
    company: Company
    staff: int
    enrolled: int
    completed: int


# --- building blocks ----------------------------------------------------------------------


def _published_lesson_filter() -> ColumnElement[bool]:
    return and_(Lesson.is_published.is_(True), Module.is_published.is_(True))


def lesson_totals(course_ids: Iterable[int] | Select) -> dict[int, int]:
    """Published lessons per course, in one query."""
    rows = db.session.execute(
        select(Lesson.course_id, func.count(Lesson.id))
        .join(Module, Module.id == Lesson.module_id)
        .where(Lesson.course_id.in_(course_ids), _published_lesson_filter())
        .group_by(Lesson.course_id)
    )
    return {course_id: count for course_id, count in rows}


def done_counts(
    user_ids: Iterable[int] | Select, course_ids: Iterable[int] | Select
) -> dict[tuple[int, int], int]:
    """Lessons done per (user, course): finished, on the lesson's current published revision,
    in a published lesson of a published module. One query whatever the number of pairs."""
    rows = db.session.execute(
        select(LessonProgress.user_id, LessonProgress.course_id, func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .join(Module, Module.id == Lesson.module_id)
        .where(
            LessonProgress.user_id.in_(user_ids),
            LessonProgress.course_id.in_(course_ids),
            LessonProgress.done_at.is_not(None),
            LessonProgress.revision == Lesson.published_revision,
            _published_lesson_filter(),
        )
        .group_by(LessonProgress.user_id, LessonProgress.course_id)
    )
    return {(user_id, course_id): count for user_id, course_id, count in rows}


def _learner(row) -> Learner:  # noqa: ANN001
    return Learner(row.id, row.name, row.email, row.job_role, row.active)


def _by_name(row) -> tuple[str, int]:  # noqa: ANN001
    # Sorted in Python: SQLite's lower() leaves Cyrillic as it is.
    return (row.name.casefold(), row.id)


_LEARNER_COLUMNS = (User.id, User.name, User.email, User.job_role, User.active)


def company_member_ids(company_id: int) -> Select:
    """The ids of a company's members, as a subquery (no list of ids travels to Python)."""
    return (
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.company_id == company_id, User.erased_at.is_(None))
    )


def is_member(company_id: int, user_id: int) -> bool:
    return (
        db.session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.company_id == company_id,
                Membership.user_id == user_id,
                User.erased_at.is_(None),  # restricted people are hidden from coordinators
            )
        )
        is not None
    )


# --- the company matrix -------------------------------------------------------------------


def company_matrix(company: Company) -> CompanyMatrix:
    """Every member of the company against every (published or archived) course any of them
    is enrolled in. Four queries: members, enrolments with their courses, lesson totals,
    lessons done."""
    members = db.session.execute(
        select(*_LEARNER_COLUMNS)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company.id, User.erased_at.is_(None))  # restricted
    ).all()
    rows = {m.id: LearnerRow(_learner(m)) for m in sorted(members, key=_by_name)}
    member_ids = company_member_ids(company.id)
    enrolments = db.session.execute(
        select(
            Enrolment.user_id,
            Enrolment.course_id,
            Enrolment.company_id,
            Enrolment.enrolled_at,
            Enrolment.last_activity_at,
            Enrolment.completed_at,
            Course.slug,
            Course.title,
            Course.language,
            Course.status,
        )
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.user_id.in_(member_ids), Course.status.in_(FOLLOWED_STATUSES))
    ).all()
    course_ids = sorted({e.course_id for e in enrolments})  # the columns: a handful
    totals = lesson_totals(course_ids) if enrolments else {}
    done = done_counts(member_ids, course_ids) if enrolments else {}
    courses: dict[int, CourseColumn] = {}
    for e in enrolments:
        courses.setdefault(
            e.course_id, CourseColumn(e.course_id, e.slug, e.title, e.language, e.status)
        )
        rows[e.user_id].cells[e.course_id] = Cell(
            user_id=e.user_id,
            course_id=e.course_id,
            company_id=e.company_id,
            enrolled_at=e.enrolled_at,
            last_activity_at=e.last_activity_at,
            completed_at=e.completed_at,
            lessons_done=done.get((e.user_id, e.course_id), 0),
            lessons_total=totals.get(e.course_id, 0),
        )
    ordered = sorted(courses.values(), key=lambda c: (c.title.casefold(), c.id))
    return CompanyMatrix(company, ordered, list(rows.values()))


# --- one course, across companies ---------------------------------------------------------


def course_learners(course: Course) -> list[CourseLearnerRow]:
    """Every learner enrolled in the course with the company the enrolment counts for
    (the learner's company when they enrolled). Three queries."""
    enrolments = db.session.execute(
        select(
            *_LEARNER_COLUMNS,
            Company.name.label("company_name"),
            Enrolment.company_id,
            Enrolment.enrolled_at,
            Enrolment.last_activity_at,
            Enrolment.completed_at,
        )
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(Company, Company.id == Enrolment.company_id)
        .where(Enrolment.course_id == course.id, User.erased_at.is_(None))  # restricted
    ).all()
    enrolments.sort(key=_by_name)
    if not enrolments:
        return []
    total = lesson_totals([course.id]).get(course.id, 0)
    enrolled_ids = select(Enrolment.user_id).where(Enrolment.course_id == course.id)
    done = done_counts(enrolled_ids, [course.id])
    return [
        CourseLearnerRow(
            learner=_learner(e),
            company_name=e.company_name,
            cell=Cell(
                user_id=e.id,
                course_id=course.id,
                company_id=e.company_id,
                enrolled_at=e.enrolled_at,
                last_activity_at=e.last_activity_at,
                completed_at=e.completed_at,
                lessons_done=done.get((e.id, course.id), 0),
                lessons_total=total,
            ),
        )
        for e in enrolments
    ]


# --- overviews ----------------------------------------------------------------------------


def course_summaries(owner: User | None) -> list[CourseSummary]:
    """Courses with learners to follow and their enrolled/completed counts, in one query:
    the courses `owner` teaches, or every course when `owner` is None (admins)."""
    query = (
        select(Course, func.count(Enrolment.id), func.count(Enrolment.completed_at))
        .outerjoin(Enrolment, Enrolment.course_id == Course.id)
        .where(Course.status.in_(FOLLOWED_STATUSES))
        .group_by(Course.id)
        .order_by(func.lower(Course.title), Course.id)
    )
    if owner is not None:
        query = query.where(
            Course.id.in_(select(CourseOwner.course_id).where(CourseOwner.user_id == owner.id))
        )
    return [
        CourseSummary(c, enrolled, completed)
        for c, enrolled, completed in db.session.execute(query)
    ]


def company_summaries(company_ids: Iterable[int] | None) -> list[CompanySummary]:
    """Companies with their staff, enrolment and completion counts (three queries): the
    given ones, or all when `company_ids` is None (admins)."""
    query = select(Company).order_by(func.lower(Company.name), Company.id)
    if company_ids is not None:
        query = query.where(Company.id.in_(list(company_ids)))
    companies = db.session.scalars(query).all()
    if not companies:
        return []
    ids = [c.id for c in companies]
    staff = dict(
        db.session.execute(
            select(Membership.company_id, func.count(Membership.id))
            .where(Membership.company_id.in_(ids))
            .group_by(Membership.company_id)
        ).all()
    )
    counts = {
        company_id: (enrolled, completed)
        for company_id, enrolled, completed in db.session.execute(
            select(
                Membership.company_id,
                func.count(Enrolment.id),
                func.count(Enrolment.completed_at),
            )
            .join(Enrolment, Enrolment.user_id == Membership.user_id)
            .join(Course, Course.id == Enrolment.course_id)
            .where(Membership.company_id.in_(ids), Course.status.in_(FOLLOWED_STATUSES))
            .group_by(Membership.company_id)
        )
    }
    return [CompanySummary(c, staff.get(c.id, 0), *counts.get(c.id, (0, 0))) for c in companies]


def member_choices(company_id: int) -> list[tuple[int, str]]:
    """Active members of the company as (id, "Name (email)"), for the enrol form."""
    rows = db.session.execute(
        select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.company_id == company_id, User.active.is_(True), User.erased_at.is_(None)
        )
    ).all()
    return [(r.id, f"{r.name} ({r.email})") for r in sorted(rows, key=_by_name)]


def open_courses() -> list[tuple[int, str]]:
    """Published courses as (id, "Title (language)"), for the enrol form."""
    rows = db.session.execute(
        select(Course.id, Course.title, Course.language)
        .where(Course.status == CourseStatus.PUBLISHED)
        .order_by(func.lower(Course.title), Course.id)
    )
    return [(course_id, f"{title} ({language.upper()})") for course_id, title, language in rows]


def enrolled_user_ids(course_id: int, user_ids: Iterable[int]) -> set[int]:
    """Which of `user_ids` are already enrolled in the course."""
    return set(
        db.session.scalars(
            select(Enrolment.user_id).where(
                Enrolment.course_id == course_id, Enrolment.user_id.in_(list(user_ids))
            )
        )
    )
