"""The published outline of a course (modules and lessons: ids, titles, positions, minutes,
revisions), cached per process.

The published copy of modules and lessons changes only in `services.publish_course`, which
increases `Course.version` and sets `Course.published_at` in the same flush. The cache key is
(course id, version, published_at), so every worker of every server sees a new publication at
its next request, and an id reused after a deletion (SQLite) never meets an old entry: the
publication moment differs. Only content that is the same for every learner is cached: no
progress, no enrolment, no working copy, no course fields that change without a publication
(title, status...), which callers read from the Course row of their own request.

Entries are immutable (frozen dataclasses and tuples), so sharing them between requests is safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from courses.models import Course, Lesson, Module
from lms.extensions import db

#: Outlines kept per process (a few KB each; least recently used ones are dropped).
MAX_ENTRIES = 256


@dataclass(frozen=True, slots=True)
class OutlineLesson:
    """What outlines, navigation and progress need of a published lesson (not its text)."""

    id: int
    module_id: int
    course_id: int
    published_title: str
    published_position: int
    published_minutes: int
    published_revision: int
    is_published: bool = True


@dataclass(frozen=True, slots=True)
class OutlineModule:
    id: int
    course_id: int
    published_title: str
    published_summary: str
    published_position: int
    published_lessons: tuple[OutlineLesson, ...]
    is_published: bool = True


@dataclass(frozen=True)
class Outline:
    """A course's published modules in order, each with its published lessons in order."""

    key: tuple
    modules: tuple[OutlineModule, ...]
    lessons: tuple[OutlineLesson, ...] = field(init=False)
    _positions: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lessons = tuple(x for m in self.modules for x in m.published_lessons)
        object.__setattr__(self, "lessons", lessons)
        object.__setattr__(self, "_positions", {x.id: i for i, x in enumerate(lessons)})

    def index_of(self, lesson_id: int) -> int | None:
        """The lesson's place in reading order (0-based), None if it is not published."""
        return self._positions.get(lesson_id)

    def lesson(self, lesson_id: int) -> OutlineLesson | None:
        index = self._positions.get(lesson_id)
        return None if index is None else self.lessons[index]


_cache: OrderedDict[tuple, Outline] = OrderedDict()
_lock = threading.Lock()


def outline_key(course: Course) -> tuple[int, int, datetime | None]:
    return (course.id, course.version, course.published_at)


def _remember(outline: Outline) -> None:
    with _lock:
        _cache[outline.key] = outline
        _cache.move_to_end(outline.key)
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)


def _cached(key: tuple) -> Outline | None:
    with _lock:
        outline = _cache.get(key)
        if outline is not None:
            _cache.move_to_end(key)
        return outline


def _load(courses: list[Course]) -> dict[int, Outline]:
    """Read the published modules and lessons of these courses: two statements in all."""
    ids = [c.id for c in courses]
    modules = db.session.execute(
        select(
            Module.id,
            Module.course_id,
            Module.published_title,
            Module.published_summary,
            Module.published_position,
        ).where(Module.course_id.in_(ids), Module.is_published.is_(True))
    ).all()
    lessons = db.session.execute(
        select(
            Lesson.id,
            Lesson.module_id,
            Lesson.course_id,
            Lesson.published_title,
            Lesson.published_position,
            Lesson.published_minutes,
            Lesson.published_revision,
        ).where(Lesson.course_id.in_(ids), Lesson.is_published.is_(True))
    ).all()
    by_module: dict[int, list[OutlineLesson]] = {}
    for row in lessons:
        by_module.setdefault(row.module_id, []).append(OutlineLesson(*row))
    by_course: dict[int, list[OutlineModule]] = {i: [] for i in ids}
    for row in modules:
        module_lessons = sorted(
            by_module.get(row.id, ()), key=lambda x: (x.published_position, x.id)
        )
        by_course[row.course_id].append(
            OutlineModule(*row, published_lessons=tuple(module_lessons))
        )
    return {
        c.id: Outline(
            outline_key(c),
            tuple(sorted(by_course[c.id], key=lambda m: (m.published_position, m.id))),
        )
        for c in courses
    }


def outlines_for(courses: Iterable[Course]) -> dict[int, Outline]:
    """The published outline of each course, by course id (cached ones cost no statement)."""
    found: dict[int, Outline] = {}
    missing: list[Course] = []
    for course in courses:
        if not course.version:  # never published: nothing to show
            found[course.id] = Outline(outline_key(course), ())
            continue
        outline = _cached(outline_key(course))
        if outline is None:
            missing.append(course)
        else:
            found[course.id] = outline
    if missing:
        # Loaded from this session: a publication flushed but not committed yet is seen by its
        # own transaction only; its key (a new published_at) is never met if it rolls back.
        for course_id, outline in _load(missing).items():
            _remember(outline)
            found[course_id] = outline
    return found


def outline_for(course: Course) -> Outline:
    return outlines_for([course])[course.id]


def clear() -> None:
    """Forget every outline (tests; never needed for correctness)."""
    with _lock:
        _cache.clear()
