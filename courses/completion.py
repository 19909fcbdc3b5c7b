"""What completing a course takes, and how far a learner is.

The courses plugin requires every published lesson; other plugins add requirements through the
`get-completion-requirements` collector (a passed module quiz, attended live sessions, ...).
Everything here reads; writes are in `services`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from courses.models import Course, Enrolment, Lesson, LessonProgress, Module
from courses.outline import Outline, OutlineLesson, outline_for
from courses.signals import get_completion_requirements
from lms.database import read_rows
from lms.models import User
from lms.signals import collect


@dataclass(frozen=True)
class Requirement:
    """One thing a learner must do. `module_id` None means it belongs to the whole course."""

    key: str
    label: object  # a string or a lazy translation
    done: bool
    module_id: int | None = None
    url: str | None = None
    weight: int = 1  # units it counts for in the progress percentage


@dataclass(frozen=True)
class AssessmentResult:
    """A learner's result in one assessed part of a course (answered to
    `get-assessment-results`): what the assessment was and how it went, as text in the
    language asked for, plus the score (0-100) when there is one."""

    kind: str  # "final" (a course-level assessment) or "module"
    label: str
    result: str
    percent: float | None = None
    passed: bool = True


def assessment_results(course: Course, user: User, language: str) -> list[AssessmentResult]:
    """Every plugin's results for this learner, final assessments first."""
    from courses.signals import get_assessment_results

    results = collect(get_assessment_results, course, user=user, language=language)
    return sorted(results, key=lambda r: (r.kind != "final", r.label))


@dataclass
class CourseProgress:
    course: Course
    enrolment: Enrolment | None
    done_lesson_ids: set[int]
    requirements: list[Requirement] = field(default_factory=list)
    outline: Outline | None = None

    @property
    def lessons(self) -> list[OutlineLesson]:
        """The published lessons in reading order (from the cached outline)."""
        outline = self.outline if self.outline is not None else outline_for(self.course)
        return list(outline.lessons)

    @property
    def units_total(self) -> int:
        return sum(r.weight for r in self.requirements)

    @property
    def units_done(self) -> int:
        return sum(r.weight for r in self.requirements if r.done)

    @property
    def percent(self) -> int:
        if self.enrolment is not None and self.enrolment.completed_at is not None:
            return 100
        total = self.units_total
        return int(100 * self.units_done / total) if total else 0

    @property
    def missing(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.done]

    def module_requirements(self, module: Module) -> list[Requirement]:
        return [r for r in self.requirements if r.module_id == module.id]

    def module_done(self, module: Module) -> bool:
        return all(r.done for r in self.module_requirements(module))

    @property
    def course_requirements(self) -> list[Requirement]:
        return [r for r in self.requirements if r.module_id is None]

    @property
    def all_done(self) -> bool:
        return bool(self.requirements) and all(r.done for r in self.requirements)

    @property
    def next_lesson(self) -> OutlineLesson | None:
        """Where the learner resumes: the first published lesson not done yet."""
        lessons = self.lessons
        for lesson in lessons:
            if lesson.id not in self.done_lesson_ids:
                return lesson
        return lessons[0] if lessons else None


# Built once: on learner pages, building a statement costs more than running it.
_DONE_LESSONS = (
    select(LessonProgress.course_id, LessonProgress.lesson_id)
    .join(Lesson, Lesson.id == LessonProgress.lesson_id)
    .where(
        LessonProgress.user_id == bindparam("user_id"),
        LessonProgress.course_id.in_(bindparam("course_ids", expanding=True)),
        LessonProgress.done_at.is_not(None),
        LessonProgress.revision == Lesson.published_revision,
    )
)


def done_lesson_ids(user_id: int, course_id: int) -> set[int]:
    """Lessons whose current published revision the user has finished."""
    return done_lesson_ids_by_course(user_id, [course_id]).get(course_id, set())


def done_lesson_ids_by_course(user_id: int, course_ids: list[int]) -> dict[int, set[int]]:
    """The same for several courses in one statement (dashboards)."""
    if not course_ids:
        return {}
    rows = read_rows(_DONE_LESSONS, {"user_id": user_id, "course_ids": course_ids}).all()
    done: dict[int, set[int]] = {course_id: set() for course_id in course_ids}
    for course_id, lesson_id in rows:
        done[course_id].add(lesson_id)
    return done


def lesson_requirements(
    course: Course, done: set[int], outline: Outline | None = None
) -> Iterable[Requirement]:
    for module in (outline or outline_for(course)).modules:
        for lesson in module.published_lessons:
            yield Requirement(
                key=f"lesson:{lesson.id}",
                label=_l("Read “%(title)s”", title=lesson.published_title),
                done=lesson.id in done,
                module_id=module.id,
            )


def course_progress(
    course: Course,
    user: User,
    enrolment: Enrolment | None,
    done: set[int] | None = None,
    outline: Outline | None = None,
) -> CourseProgress:
    """Progress of one learner in one course, with every requirement and whether it is met.
    `done` (the finished lesson ids) and the `outline` may be given when computed for several
    courses at once."""
    if done is None:
        done = done_lesson_ids(user.id, course.id) if enrolment is not None else set()
    if outline is None:
        outline = outline_for(course)
    requirements = list(lesson_requirements(course, done, outline))
    requirements.extend(
        collect(get_completion_requirements, course, user=user, enrolment=enrolment)
    )
    return CourseProgress(course, enrolment, done, requirements, outline)
