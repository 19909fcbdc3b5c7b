"""Every write of the courses plugin: authoring, publication, media, enrolment, progress and
completion. Validate, change, flush, send the signal; never commit (the caller does)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from courses import completion
from courses.markdown import render_markdown
from courses.models import (
    GREENCOMP,
    Course,
    CourseStatus,
    DeliveryMode,
    Enrolment,
    Lesson,
    LessonProgress,
    Media,
    Module,
    ModuleCompletion,
    Topic,
)
from courses.signals import (
    course_completed,
    course_published,
    enrolled,
    lesson_completed,
    module_completed,
)
from lms.extensions import db
from lms.models import User, utcnow
from lms.services import ServiceError

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Words the courses URLs use after /courses/, so no course can hide a page.
RESERVED_SLUGS = {"my", "manage", "progress", "media", "static", "new", "import", "export", "events"}
MAX_MEDIA_BYTES = 2 * 1024 * 1024
MAX_LESSON_CHARS = 200_000


# --- courses ------------------------------------------------------------------------------


@dataclass
class CourseData:
    slug: str
    title: str
    topic: str
    language: str
    summary: str = ""
    contact_hours: Decimal | int | float | str = 0
    self_study_hours: Decimal | int | float | str = 0
    assessment_hours: Decimal | int | float | str = 0
    learning_outcomes: list[str] = field(default_factory=list)
    greencomp: list[str] = field(default_factory=list)
    delivery_mode: str = DeliveryMode.ONLINE
    assessment: str = ""
    validity_months: int | None = None
    complete_on_scroll: bool = True
    translation_of_slug: str | None = None


def _hours(value: object, name: str) -> Decimal:
    try:
        hours = Decimal(str(value if value not in (None, "") else 0))
    except InvalidOperation:
        raise ServiceError(_l("Hours must be a number."), name) from None
    if not hours.is_finite() or not 0 <= hours <= 1000:
        raise ServiceError(_l("Hours must be between 0 and 1000."), name)
    return hours.quantize(Decimal("0.1"))


def course_errors(data: CourseData, course: Course | None) -> list[tuple[str, object]]:
    """Every problem with course metadata, as (field, message)."""
    errors: list[tuple[str, object]] = []
    if not SLUG.match(data.slug or "") or len(data.slug) > 80:
        errors.append(("slug", _l("Use lower-case letters, digits and hyphens (at most 80).")))
    elif data.slug in RESERVED_SLUGS:
        errors.append(("slug", _l("This address is reserved; choose another.")))
    else:
        other = find_course(data.slug)
        if other is not None and (course is None or other.id != course.id):
            errors.append(("slug", _l("Another course already uses this address.")))
    if not (data.title or "").strip() or len(data.title) > 200:
        errors.append(("title", _l("A title of at most 200 characters is required.")))
    if data.topic not in set(Topic):
        errors.append(("topic", _l("Unknown topic.")))
    if data.language not in ("bg", "en"):
        errors.append(("language", _l("Unknown language.")))
    if data.delivery_mode not in set(DeliveryMode):
        errors.append(("delivery_mode", _l("Unknown delivery mode.")))
    unknown = [c for c in data.greencomp if c not in GREENCOMP]
    if unknown:
        errors.append(
            (
                "greencomp",
                _l("Unknown GreenComp competence: %(codes)s.", codes=", ".join(map(str, unknown))),
            )
        )
    if len(data.learning_outcomes) > 30 or any(len(o) > 500 for o in data.learning_outcomes):
        errors.append(("learning_outcomes", _l("At most 30 outcomes of 500 characters each.")))
    if data.validity_months is not None and not 1 <= data.validity_months <= 240:
        errors.append(("validity_months", _l("Validity must be 1 to 240 months.")))
    for name in ("contact_hours", "self_study_hours", "assessment_hours"):
        try:
            _hours(getattr(data, name), name)
        except ServiceError as error:
            errors.append((name, error.message))
    if data.translation_of_slug:
        other = find_course(data.translation_of_slug)
        if other is None or (course is not None and other.id == course.id):
            errors.append(("translation_of_slug", _l("No other course has this address.")))
        elif other.language == data.language:
            errors.append(("translation_of_slug", _l("A translation is in the other language.")))
    return errors


def find_course(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def _apply_course(course: Course, data: CourseData) -> None:
    course.slug = data.slug
    course.title = data.title.strip()
    course.summary = (data.summary or "").strip()
    course.topic = data.topic
    course.language = data.language
    course.contact_hours = _hours(data.contact_hours, "contact_hours")
    course.self_study_hours = _hours(data.self_study_hours, "self_study_hours")
    course.assessment_hours = _hours(data.assessment_hours, "assessment_hours")
    course.learning_outcomes = [o.strip() for o in data.learning_outcomes if o.strip()]
    course.greencomp = sorted(set(data.greencomp))
    course.delivery_mode = data.delivery_mode
    course.assessment = (data.assessment or "").strip()
    course.validity_months = data.validity_months
    course.complete_on_scroll = data.complete_on_scroll
    other = find_course(data.translation_of_slug) if data.translation_of_slug else None
    course.translation_of_id = other.id if other else None


def create_course(data: CourseData, owners: list[User]) -> Course:
    errors = course_errors(data, None)
    if errors:
        raise ServiceError(errors[0][1], errors[0][0])
    course = Course(status=CourseStatus.DRAFT, version=0)
    _apply_course(course, data)
    course.owners = list(owners)
    db.session.add(course)
    db.session.flush()
    return course


def update_course(course: Course, data: CourseData) -> None:
    errors = course_errors(data, course)
    if errors:
        raise ServiceError(errors[0][1], errors[0][0])
    _apply_course(course, data)
    db.session.flush()


def set_owners(course: Course, owners: list[User]) -> None:
    if not owners:
        raise ServiceError(_l("A course needs at least one trainer."), "owners")
    course.owners = list(owners)
    db.session.flush()


def translation_of(course: Course) -> Course | None:
    """The same course in the other language, linked from either side."""
    if course.translation_of is not None:
        return course.translation_of
    return db.session.scalar(select(Course).where(Course.translation_of_id == course.id))


# --- modules and lessons ------------------------------------------------------------------


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ServiceError(_l("A title of at most 200 characters is required."), "title")
    return title


def add_module(
    course: Course, title: str, summary: str = "", settings: dict | None = None
) -> Module:
    positions = [m.position for m in course.modules]
    module = Module(
        title=_check_title(title),
        summary=(summary or "").strip(),
        position=max(positions, default=0) + 1,
        settings=settings or {},
    )
    course.modules.append(module)
    db.session.flush()
    return module


def update_module(module: Module, title: str, summary: str) -> None:
    module.title = _check_title(title)
    module.summary = (summary or "").strip()
    db.session.flush()


def delete_module(module: Module) -> None:
    """Remove from the working copy; a published module leaves learners at the next publication."""
    if module.is_published:
        module.deleted = True
        for lesson in module.lessons:
            lesson.deleted = True
    else:
        module.course.modules.remove(module)
    db.session.flush()


def lesson_resolver(course: Course):  # noqa: ANN201
    """Map package image names to this course's stored media URLs."""
    names = (
        dict(
            db.session.execute(
                select(Media.name, Media.id).where(Media.course_id == course.id)
            ).all()
        )
        if course.id
        else {}
    )

    def resolve(name: str) -> str | None:
        media_id = names.get(name)
        return f"/courses/media/{media_id}/{name}" if media_id else None

    return resolve


def _render(course: Course, source: str) -> str:
    if len(source) > MAX_LESSON_CHARS:
        raise ServiceError(_l("The lesson is longer than 200,000 characters."), "body_md")
    return render_markdown(source, lesson_resolver(course))


def _check_minutes(minutes: int | None) -> int:
    if minutes is None or not 1 <= int(minutes) <= 600:
        raise ServiceError(_l("Minutes must be between 1 and 600."), "minutes")
    return int(minutes)


def add_lesson(module: Module, title: str, body_md: str, minutes: int) -> Lesson:
    positions = [lesson.position for lesson in module.lessons]
    lesson = Lesson(
        title=_check_title(title),
        body_md=body_md or "",
        minutes=_check_minutes(minutes),
        position=max(positions, default=0) + 1,
        course_id=module.course_id,
    )
    lesson.body_html = _render(module.course, lesson.body_md)
    module.lessons.append(lesson)
    db.session.flush()
    return lesson


def update_lesson(lesson: Lesson, title: str, body_md: str, minutes: int) -> None:
    lesson.title = _check_title(title)
    lesson.body_md = body_md or ""
    lesson.minutes = _check_minutes(minutes)
    lesson.body_html = _render(lesson.module.course, lesson.body_md)
    db.session.flush()


def delete_lesson(lesson: Lesson) -> None:
    if lesson.is_published:
        lesson.deleted = True
    else:
        lesson.module.lessons.remove(lesson)
    db.session.flush()


def reorder(items: list[Module] | list[Lesson], ordered_ids: list[int]) -> None:
    """Give `items` the order of `ordered_ids` (which must name exactly those items)."""
    by_id = {item.id: item for item in items}
    if sorted(ordered_ids) != sorted(by_id):
        raise ServiceError(_l("The new order must list every item exactly once."), "order")
    for position, item_id in enumerate(ordered_ids, start=1):
        by_id[item_id].position = position
    db.session.flush()


def move(item: Module | Lesson, siblings: list, offset: int) -> None:
    """Move an item up (-1) or down (+1) among its siblings."""
    ordered = sorted((s for s in siblings if not s.deleted), key=lambda s: s.position)
    index = ordered.index(item)
    target = index + offset
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
        reorder(ordered, [s.id for s in ordered])


def rerender_lessons(course: Course) -> None:
    """Render every lesson again (after media changed, so image references resolve)."""
    resolve = lesson_resolver(course)
    for module in course.modules:
        for lesson in module.lessons:
            lesson.body_html = render_markdown(lesson.body_md, resolve)
    db.session.flush()


# --- media --------------------------------------------------------------------------------

_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
_EXTENSIONS = {
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "image/svg+xml": {"svg"},
}
_SVG_FORBIDDEN = re.compile(
    rb"<script|<foreignobject|<iframe|<embed|<object|\son[a-z]+\s*=|javascript:|<!entity|"
    rb"<!doctype|(?:xlink:)?href\s*=\s*[\"'](?!#)",
    re.IGNORECASE,
)
MEDIA_NAME = re.compile(r"^[\w-]{1,100}\.(png|jpe?g|gif|webp|svg)$", re.ASCII)


def sniff_image(data: bytes) -> str | None:
    for signature, content_type in _SIGNATURES.items():
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower():
        return "image/svg+xml"
    return None


def media_errors(name: str, data: bytes) -> list[object]:
    errors: list[object] = []
    if not MEDIA_NAME.match(name):
        errors.append(
            _l(
                "Image names may use letters, digits, - and _ and end in .png, .jpg, "
                ".gif, .webp or .svg (one extension only)."
            )
        )
    if len(data) > MAX_MEDIA_BYTES:
        errors.append(_l("Images may be at most 2 MB."))
    content_type = sniff_image(data)
    if content_type is None:
        errors.append(_l("This file is not a PNG, JPEG, GIF, WebP or SVG image."))
    elif MEDIA_NAME.match(name) and name.rsplit(".", 1)[1].lower() not in _EXTENSIONS[content_type]:
        errors.append(_l("The file's content does not match its extension."))
    elif content_type == "image/svg+xml" and _SVG_FORBIDDEN.search(data):
        errors.append(
            _l(
                "SVG images may not contain scripts, event handlers, entities or "
                "links to other files."
            )
        )
    return errors


def add_media(course: Course, name: str, data: bytes, replace: bool = True) -> Media:
    """Store an image for the course (replacing one of the same name) and re-render lessons."""
    errors = media_errors(name, data)
    if errors:
        raise ServiceError(errors[0], "file")
    media = db.session.scalar(select(Media).where(Media.course_id == course.id, Media.name == name))
    if media is not None and not replace:
        raise ServiceError(_l("An image with this name exists."), "file")
    if media is None:
        media = Media(course_id=course.id, name=name)
        db.session.add(media)
    media.content_type = sniff_image(data) or "application/octet-stream"
    media.data = data
    media.sha256 = hashlib.sha256(data).hexdigest()
    db.session.flush()
    rerender_lessons(course)
    return media


# --- publication --------------------------------------------------------------------------


def _content_hash(title: str, html: str, minutes: int) -> str:
    return hashlib.sha256(f"{title}\x00{minutes}\x00{html}".encode()).hexdigest()


def publish_course(course: Course) -> None:
    """Make the working copy what learners see, as a new version. Lessons whose text did not
    change keep their revision, so learners keep their progress on them."""
    live_modules = [m for m in course.modules if not m.deleted]
    if not any(not lesson.deleted for m in live_modules for lesson in m.lessons):
        raise ServiceError(_l("Add at least one lesson before publishing."), "status")
    if course.status == CourseStatus.ARCHIVED:
        raise ServiceError(_l("An archived course cannot be published."), "status")
    for m_position, module in enumerate(sorted(live_modules, key=lambda m: m.position), start=1):
        module.is_published = True
        module.published_position = m_position
        module.published_title = module.title
        module.published_summary = module.summary
        live_lessons = sorted(
            (x for x in module.lessons if not x.deleted), key=lambda x: x.position
        )
        for l_position, lesson in enumerate(live_lessons, start=1):
            digest = _content_hash(lesson.title, lesson.body_html, lesson.minutes)
            if digest != lesson.published_hash:
                lesson.published_revision += 1
                lesson.published_hash = digest
            lesson.is_published = True
            lesson.published_position = l_position
            lesson.published_title = lesson.title
            lesson.published_html = lesson.body_html
            lesson.published_minutes = lesson.minutes
        for lesson in module.lessons:
            if lesson.deleted:
                lesson.is_published = False
    for module in course.modules:
        if module.deleted:
            module.is_published = False
            for lesson in module.lessons:
                lesson.is_published = False
    course.version += 1
    course.status = CourseStatus.PUBLISHED
    course.published_at = utcnow()
    db.session.flush()
    course_published.send(course)


def archive_course(course: Course) -> None:
    """Hide from the catalogue and close enrolment; enrolled learners keep their records."""
    course.status = CourseStatus.ARCHIVED
    db.session.flush()


# --- enrolment and progress ---------------------------------------------------------------


_FIND_ENROLMENT = select(Enrolment).where(
    Enrolment.user_id == bindparam("user_id"), Enrolment.course_id == bindparam("course_id")
)


def find_enrolment(user_id: int, course_id: int) -> Enrolment | None:
    # A statement built once: this runs on every lesson, quiz and course page.
    return db.session.scalar(_FIND_ENROLMENT, {"user_id": user_id, "course_id": course_id})


def enrol(user: User, course: Course, by: User | None = None) -> Enrolment:
    """Enrol a learner (idempotent: enrolling twice returns the first enrolment)."""
    if not course.is_published:
        raise ServiceError(_l("This course is not open for enrolment."), "course")
    if not user.active:
        raise ServiceError(_l("This account is deactivated."), "user")
    existing = find_enrolment(user.id, course.id)
    if existing is not None:
        return existing
    company = user.primary_company
    enrolment = Enrolment(
        user_id=user.id,
        course_id=course.id,
        enrolled_version=course.version,
        enrolled_by_id=(by or user).id,
        company_id=company.id if company else None,
        last_activity_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(enrolment)
    except IntegrityError:  # a concurrent request enrolled the same learner first
        return find_enrolment(user.id, course.id)  # type: ignore[return-value]
    enrolled.send(enrolment, by=by or user)
    return enrolment


def complete_lesson(user: User, lesson: Lesson) -> bool:
    """Record that the learner finished the current revision of a lesson. Returns True the
    first time (then sends `lesson-completed` and recomputes completion at once)."""
    if not lesson.is_published:
        raise ServiceError(_l("This lesson is not published."), "lesson")
    enrolment = find_enrolment(user.id, lesson.course_id)
    if enrolment is None:
        raise ServiceError(_l("Enrol in the course first."), "course")
    progress = db.session.scalar(
        select(LessonProgress).where(
            LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id
        )
    )
    now = utcnow()
    enrolment.last_activity_at = now
    if (
        progress is not None
        and progress.done_at is not None
        and progress.revision == lesson.published_revision
    ):
        db.session.flush()
        return False
    if progress is None:
        progress = LessonProgress(user_id=user.id, lesson_id=lesson.id, course_id=lesson.course_id)
        try:
            with db.session.begin_nested():
                db.session.add(progress)
        except IntegrityError:
            progress = db.session.scalar(
                select(LessonProgress).where(
                    LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id
                )
            )
    progress.done_at = now
    progress.revision = lesson.published_revision
    db.session.flush()
    lesson_completed.send(lesson, user=user, enrolment=enrolment)
    update_completion(user, enrolment)
    return True


def update_completion(user: User, enrolment: Enrolment) -> completion.CourseProgress:
    """Record module and course completion the moment requirements are met, each only once
    (unique constraints and a conditional update make concurrent calls safe)."""
    course = enrolment.course
    progress = completion.course_progress(course, user, enrolment)
    # The cached published outline: no module or lesson rows are loaded unless one completes,
    # and what was recorded is only read when some module has all its requirements met.
    done_modules = [
        entry
        for entry in (progress.outline.modules if progress.outline else course.published_modules)
        if progress.module_requirements(entry) and progress.module_done(entry)
    ]
    recorded = (
        set(
            db.session.scalars(
                select(ModuleCompletion.module_id).where(
                    ModuleCompletion.user_id == user.id, ModuleCompletion.course_id == course.id
                )
            )
        )
        if done_modules
        else set()
    )
    for entry in done_modules:
        if entry.id not in recorded:
            try:
                with db.session.begin_nested():
                    db.session.add(
                        ModuleCompletion(user_id=user.id, module_id=entry.id, course_id=course.id)
                    )
            except IntegrityError:
                continue
            module = db.session.get(Module, entry.id)
            module_completed.send(module, user=user, enrolment=enrolment)
    if progress.all_done and enrolment.completed_at is None:
        result = db.session.execute(
            update(Enrolment)
            .where(Enrolment.id == enrolment.id, Enrolment.completed_at.is_(None))
            .values(completed_at=utcnow(), completed_version=course.version)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            db.session.refresh(enrolment)
            course_completed.send(enrolment, user=user, course=course)
    return progress


def recompute_for_course(user: User, course: Course) -> completion.CourseProgress | None:
    """For other plugins: a requirement of theirs changed (e.g. a quiz was passed)."""
    enrolment = find_enrolment(user.id, course.id)
    if enrolment is None:
        return None
    enrolment.last_activity_at = utcnow()
    return update_completion(user, enrolment)


def enrolment_count(course: Course) -> int:
    return (
        db.session.scalar(select(func.count(Enrolment.id)).where(Enrolment.course_id == course.id))
        or 0
    )
