"""Live sessions and events: webinars, seminars, trainings, workshops and the conference.

An event with a course is a *session* of that course: its hours are contact hours of the course
and a course may require attending N of its sessions (`Course.required_sessions`, joined to
completion through the `get-completion-requirements` collector). An event without a course is
an *awareness event*, reported apart from course completions.

Every write validates, changes, flushes and never commits (the caller owns the transaction).
Registration checks the capacity in the same transaction as the insert, with the event row
locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE),
so concurrent requests for the last seat never overbook.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from courses import services
from courses.completion import Requirement
from courses.models import (
    MAX_EVENT_MINUTES,
    Attendance,
    Course,
    DeliveryMode,
    EventRegistration,
    EventStatus,
    EventType,
    LiveEvent,
    Topic,
)
from lms.extensions import db
from lms.models import User, normalise_email, utcnow
from lms.services import ServiceError

MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 2 * 1024 * 1024


class EventFull(ServiceError):
    """Every seat is taken."""


def local_zone() -> ZoneInfo:
    """The cluster's time zone, in which events are entered and shown."""
    return ZoneInfo(current_app.config.get("REPORT_TIME_ZONE", "Europe/Sofia"))


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(local_zone())


def ends_at(event: LiveEvent) -> datetime:
    return event.starts_at + timedelta(minutes=event.duration_minutes)


def is_past(event: LiveEvent, now: datetime | None = None) -> bool:
    return ends_at(event) <= (now or utcnow())


# --- permission ---------------------------------------------------------------------------


def can_manage(user: User, event: LiveEvent) -> bool:
    """Admins manage every event; trainers the sessions of their courses and the standalone
    events they created."""
    if not user.is_authenticated:
        return False
    if user.is_admin:
        return True
    if not user.has_role("trainer"):
        return False
    if event.course_id is not None:
        course = event.course or db.session.get(Course, event.course_id)
        return course is not None and course.is_owned_by(user)
    return event.created_by_id == user.id


def manageable_events_query(user: User):  # noqa: ANN201
    """The events `user` may manage, newest first (a select to paginate or run)."""
    from courses.models import CourseOwner

    query = select(LiveEvent).order_by(LiveEvent.starts_at.desc(), LiveEvent.id.desc())
    if not user.is_admin:
        own = select(CourseOwner.course_id).where(CourseOwner.user_id == user.id)
        query = query.where(
            LiveEvent.course_id.in_(own)
            | (LiveEvent.course_id.is_(None) & (LiveEvent.created_by_id == user.id))
        )
    return query


# --- events -------------------------------------------------------------------------------


@dataclass
class EventData:
    title: str
    event_type: str
    topic: str
    starts_at: datetime  # aware
    duration_minutes: int
    delivery_mode: str = DeliveryMode.ONLINE
    place: str = ""
    online_url: str = ""
    recording_url: str = ""
    with_ict_norway: bool = False
    partner: str = ""
    capacity: int | None = None
    course_id: int | None = None
    description: str = ""


_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


def _url(value: str, name: str) -> str:
    value = (value or "").strip()
    if value and (len(value) > 500 or not _URL.match(value)):
        raise ServiceError(_l("Enter a web address starting with https:// or http://."), name)
    return value


def _text(value: str, limit: int, name: str) -> str:
    value = (value or "").replace("\x00", "").strip()
    if len(value) > limit:
        raise ServiceError(_l("This text is longer than %(limit)s characters.", limit=limit), name)
    return value


def _check(data: EventData, event: LiveEvent | None, by: User) -> Course | None:
    if not (data.title or "").strip() or len(data.title.strip()) > 200:
        raise ServiceError(_l("A title of at most 200 characters is required."), "title")
    if data.event_type not in set(EventType):
        raise ServiceError(_l("Unknown event type."), "event_type")
    if data.topic not in set(Topic):
        raise ServiceError(_l("Unknown topic."), "topic")
    if data.delivery_mode not in set(DeliveryMode):
        raise ServiceError(_l("Unknown delivery mode."), "delivery_mode")
    if data.starts_at is None or data.starts_at.tzinfo is None:
        raise ServiceError(_l("Enter the date and time the event starts."), "starts_at")
    if not 2000 <= data.starts_at.year <= 2100:
        raise ServiceError(_l("The date is out of range."), "starts_at")
    if data.duration_minutes is None or not 1 <= data.duration_minutes <= MAX_EVENT_MINUTES:
        raise ServiceError(
            _l("The duration must be 1 to %(max)s minutes.", max=MAX_EVENT_MINUTES),
            "duration_minutes",
        )
    if data.capacity is not None and not 1 <= data.capacity <= 100_000:
        raise ServiceError(_l("The capacity must be 1 to 100,000 (or empty)."), "capacity")
    if data.capacity is not None and event is not None:
        registered = registration_count(event)
        if data.capacity < registered:
            raise ServiceError(
                _l(
                    "%(count)s people are already registered: the capacity cannot be lower.",
                    count=registered,
                ),
                "capacity",
            )
    if data.delivery_mode != DeliveryMode.ONLINE and not (data.place or "").strip():
        raise ServiceError(_l("Enter the place of an on-site or blended event."), "place")
    course = None
    if data.course_id is not None:
        course = db.session.get(Course, data.course_id)
        if course is None or not (by.is_admin or course.is_owned_by(by)):
            raise ServiceError(_l("Choose one of your courses."), "course_id")
    return course


def _apply(event: LiveEvent, data: EventData) -> None:
    event.title = data.title.strip()
    event.event_type = data.event_type
    event.topic = data.topic
    event.starts_at = data.starts_at.astimezone(UTC)
    event.duration_minutes = int(data.duration_minutes)
    event.delivery_mode = data.delivery_mode
    event.place = _text(data.place, 300, "place")
    event.online_url = _url(data.online_url, "online_url")
    event.recording_url = _url(data.recording_url, "recording_url")
    event.with_ict_norway = bool(data.with_ict_norway)
    event.partner = _text(data.partner, 200, "partner")
    event.capacity = data.capacity
    event.course_id = data.course_id
    event.description = _text(data.description, 10_000, "description")


def create_event(data: EventData, by: User) -> LiveEvent:
    if not by.has_role("trainer", "admin"):
        raise ServiceError(_l("Only trainers and cluster admins create events."))
    _check(data, None, by)
    event = LiveEvent(status=EventStatus.SCHEDULED, created_by_id=by.id)
    _apply(event, data)
    db.session.add(event)
    db.session.flush()
    return event


def update_event(event: LiveEvent, data: EventData, by: User) -> None:
    _check(data, event, by)
    _apply(event, data)
    db.session.flush()


def cancel_event(event: LiveEvent) -> None:
    """Cancel (kept for the record; attendance of a cancelled event no longer counts)."""
    event.status = EventStatus.CANCELLED
    db.session.flush()


# --- registration -------------------------------------------------------------------------


def registration_count(event: LiveEvent) -> int:
    return (
        db.session.scalar(
            select(func.count(EventRegistration.id)).where(EventRegistration.event_id == event.id)
        )
        or 0
    )


def find_registration(event: LiveEvent, user: User) -> EventRegistration | None:
    return db.session.scalar(
        select(EventRegistration).where(
            EventRegistration.event_id == event.id, EventRegistration.user_id == user.id
        )
    )


def register(event: LiveEvent, user: User) -> EventRegistration:
    """Register `user` (idempotent). Refused when the event is cancelled, over or full."""
    if not user.active:
        raise ServiceError(_l("This account is deactivated."), "user")
    # Lock the event row for the rest of the transaction so two requests cannot both take
    # the last seat (PostgreSQL; on SQLite, BEGIN IMMEDIATE already serialises writers).
    locked = db.session.scalar(
        select(LiveEvent)
        .where(LiveEvent.id == event.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise ServiceError(_l("This event does not exist."), "event")
    if locked.is_cancelled:
        raise ServiceError(_l("This event is cancelled."), "event")
    if is_past(locked):
        raise ServiceError(_l("This event is over; registration is closed."), "event")
    existing = find_registration(locked, user)
    if existing is not None:
        return existing
    if locked.capacity is not None and registration_count(locked) >= locked.capacity:
        raise EventFull(_l("Sorry, this event is full."), "event")
    registration = EventRegistration(event_id=locked.id, user_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(registration)
    except IntegrityError:  # the same person, twice at once
        return find_registration(locked, user)  # type: ignore[return-value]
    return registration


def unregister(event: LiveEvent, user: User) -> bool:
    """Give the seat back (until the event starts). True if there was a registration."""
    if event.starts_at <= utcnow():
        raise ServiceError(_l("The event has started; the registration cannot be withdrawn."))
    registration = find_registration(event, user)
    if registration is None:
        return False
    db.session.delete(registration)
    db.session.flush()
    return True


# --- attendance ---------------------------------------------------------------------------


@dataclass
class Participant:
    """One line of the attendance list: a registered or attending user, or a guest."""

    key: str  # "u<user id>" or "g<attendance id>"
    name: str
    email: str
    company: str
    registered: bool
    attendance: Attendance | None

    @property
    def present(self) -> bool:
        return self.attendance is not None


def _company_name(user: User) -> str:
    company = user.primary_company
    return company.name if company else ""


def _company_id(user: User) -> int | None:
    company = user.primary_company
    return company.id if company else None


def participants(event: LiveEvent) -> list[Participant]:
    """Everyone registered or recorded as present, by name."""
    registrations = db.session.scalars(
        select(EventRegistration).where(EventRegistration.event_id == event.id)
    ).all()
    attendances = db.session.scalars(
        select(Attendance).where(Attendance.event_id == event.id)
    ).all()
    by_user = {a.user_id: a for a in attendances if a.user_id is not None}
    people: dict[str, Participant] = {}
    for registration in registrations:
        user = registration.user
        people[f"u{user.id}"] = Participant(
            f"u{user.id}", user.name, user.email, _company_name(user), True, by_user.get(user.id)
        )
    for attendance in attendances:
        if attendance.user_id is not None:
            key = f"u{attendance.user_id}"
            if key not in people:
                user = attendance.user
                people[key] = Participant(
                    key,
                    user.name,
                    user.email,
                    attendance.company or _company_name(user),
                    False,
                    attendance,
                )
        else:
            key = f"g{attendance.id}"
            people[key] = Participant(
                key, attendance.name, attendance.email, attendance.company, False, attendance
            )
    return sorted(people.values(), key=lambda p: (p.name.casefold(), p.email))


@dataclass
class WalkIn:
    name: str
    email: str = ""
    company: str = ""


def _attendance_for_user(event: LiveEvent, user_id: int) -> Attendance | None:
    return db.session.scalar(
        select(Attendance).where(Attendance.event_id == event.id, Attendance.user_id == user_id)
    )


def _guest_by_email(event: LiveEvent, email: str) -> Attendance | None:
    if not email:
        return None
    return db.session.scalar(
        select(Attendance).where(
            Attendance.event_id == event.id,
            Attendance.user_id.is_(None),
            func.lower(Attendance.email) == email.lower(),
        )
    )


def _check_can_record(event: LiveEvent) -> None:
    if event.is_cancelled:
        raise ServiceError(_l("This event is cancelled: no attendance can be recorded."))


def record_attendance(
    event: LiveEvent, present: Iterable[str], by: User, walk_in: WalkIn | None = None
) -> dict[str, int]:
    """Make the list's ticks the attendance: ticked people are present, unticked ones are
    not (their record is removed). `present` holds participant keys ("u12", "g3"); a key not
    on this event's list is refused. A walk-in adds one more person."""
    _check_can_record(event)
    listed = {p.key: p for p in participants(event)}
    ticked = set(present)
    unknown = ticked - set(listed)
    if unknown:
        raise ServiceError(_l("The list changed or holds an unknown person. Reload the page."))
    added = removed = 0
    changed_users: set[int] = set()
    for key, person in listed.items():
        if key in ticked and person.attendance is None:
            user = db.session.get(User, int(key[1:]))
            db.session.add(
                Attendance(
                    event_id=event.id,
                    user_id=user.id,
                    company=_company_name(user),
                    company_id=_company_id(user),
                    source="manual",
                    recorded_by_id=by.id,
                )
            )
            added += 1
            changed_users.add(user.id)
        elif key not in ticked and person.attendance is not None:
            if person.attendance.user_id is not None:
                changed_users.add(person.attendance.user_id)
            db.session.delete(person.attendance)
            removed += 1
    db.session.flush()
    if walk_in is not None and walk_in.name.strip():
        user_id = add_walk_in(event, walk_in, by)
        added += 1
        if user_id:
            changed_users.add(user_id)
    _recompute(event, changed_users)
    return {"added": added, "removed": removed}


def add_walk_in(event: LiveEvent, walk_in: WalkIn, by: User) -> int | None:
    """Record someone who came without registering; an email of an account records that
    account. Returns the user id, if any."""
    _check_can_record(event)
    name = _text(walk_in.name, 200, "walk_in_name")
    company = _text(walk_in.company, 200, "walk_in_company")
    email = normalise_email(walk_in.email or "") if (walk_in.email or "").strip() else ""
    if not name:
        raise ServiceError(_l("Enter the name of the person."), "walk_in_name")
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            raise ServiceError(
                _l("“%(email)s” is not a valid email address.", email=email[:80]), "walk_in_email"
            ) from None
    user = services_find_user(email) if email else None
    if user is not None:
        if _attendance_for_user(event, user.id) is None:
            db.session.add(
                Attendance(
                    event_id=event.id,
                    user_id=user.id,
                    company=company or _company_name(user),
                    company_id=_company_id(user),
                    source="manual",
                    recorded_by_id=by.id,
                )
            )
            db.session.flush()
        return user.id
    guest = _guest_by_email(event, email)
    if guest is None:
        db.session.add(
            Attendance(
                event_id=event.id,
                name=name,
                email=email,
                company=company,
                source="manual",
                recorded_by_id=by.id,
            )
        )
    else:
        guest.name, guest.company = name, company or guest.company
    db.session.flush()
    return None


def services_find_user(email: str) -> User | None:
    """The account with this email (case-insensitive), if any."""
    from lms.services import find_user_by_email

    return find_user_by_email(email)


def _recompute(event: LiveEvent, user_ids: set[int]) -> None:
    """Attending a session may complete a course (or, when removed, no longer would)."""
    if event.course_id is None or not user_ids:
        return
    course = db.session.get(Course, event.course_id)
    if course is None or not course.required_sessions:
        return
    for user_id in sorted(user_ids):
        user = db.session.get(User, user_id)
        if user is not None:
            services.recompute_for_course(user, course)


# --- CSV import (webinar platform participant exports) ------------------------------------

# Header names (lower case) of Zoom, Teams, Webex, Google Meet and hand-made lists, in English
# and Bulgarian. A header not listed is matched again without its parenthesised part.
HEADERS = {
    "name": {
        "name",
        "full name",
        "participant",
        "participant name",
        "display name",
        "attendee",
        "attendee name",
        "name (original name)",
        "user name",
        "име",
        "имена",
        "пълно име",
        "име и фамилия",
        "участник",
        "три имена",
    },
    "email": {
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "user email",
        "attendee email",
        "participant email",
        "имейл",
        "и-мейл",
        "e-mail адрес",
        "имейл адрес",
        "електронна поща",
        "ел. поща",
    },
    "minutes": {
        "minutes",
        "duration",
        "duration (minutes)",
        "total duration (minutes)",
        "total duration",
        "attendance duration",
        "in-meeting duration",
        "time in session",
        "time in meeting",
        "минути",
        "продължителност",
        "продължителност (минути)",
        "време (минути)",
        "присъствие (минути)",
    },
    "join": {
        "join time",
        "joined",
        "first join",
        "first join time",
        "joined at",
        "start time",
        "време на влизане",
        "влизане",
        "присъединяване",
        "присъединил се",
    },
    "leave": {
        "leave time",
        "left",
        "last leave",
        "last leave time",
        "left at",
        "end time",
        "време на излизане",
        "излизане",
        "напускане",
        "напуснал",
    },
    "company": {
        "company",
        "organisation",
        "organization",
        "company name",
        "фирма",
        "компания",
        "организация",
    },
}
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y, %I:%M:%S %p",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y г. %H:%M",
    "%H:%M:%S",
    "%H:%M",
)


def _column_for(header: str) -> str | None:
    text = re.sub(r"\s+", " ", (header or "").replace("\ufeff", "")).strip().lower()
    for candidate in (text, re.sub(r"\s*\(.*?\)\s*", " ", text).strip()):
        for name, aliases in HEADERS.items():
            if candidate in aliases:
                return name
    return None


def parse_minutes(text: str) -> int | None:
    """Minutes from "45", "45.5", "45 min", "1:05:30", "1h 5m 30s", "1 ч. 5 мин"; None when
    empty. ValueError for anything else or a negative or absurd value."""
    text = (text or "").strip().lower().replace(",", ".")
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        minutes = float(text)
    elif re.fullmatch(r"\d+:\d{1,2}(:\d{1,2})?", text):
        parts = [int(p) for p in text.split(":")]
        if len(parts) == 2:
            parts = [*parts, 0]  # H:MM
        hours, mins, secs = parts
        if mins > 59 or secs > 59:
            raise ValueError(text)
        minutes = hours * 60 + mins + secs / 60
    else:
        units = re.findall(r"(\d+(?:\.\d+)?)\s*([a-zа-я.]+)", text)
        rest = re.sub(r"(\d+(?:\.\d+)?)\s*([a-zа-я.]+)", "", text).strip()
        if not units or rest:
            raise ValueError(text)
        minutes = 0.0
        for number, unit in units:
            unit = unit.rstrip(".")
            if unit in ("h", "hr", "hrs", "hour", "hours", "ч", "час", "часа"):
                minutes += float(number) * 60
            elif unit in ("m", "min", "mins", "minute", "minutes", "мин", "минути", "минута"):
                minutes += float(number)
            elif unit in ("s", "sec", "secs", "second", "seconds", "сек", "секунди"):
                minutes += float(number) / 60
            else:
                raise ValueError(text)
    if not math.isfinite(minutes) or minutes < 0 or minutes > MAX_EVENT_MINUTES:
        raise ValueError(text)
    return math.ceil(minutes - 1e-9)


def _parse_time(text: str) -> datetime:
    text = re.sub(r"\s+", " ", (text or "").strip())
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)  # noqa: DTZ007 - only differences are used
        except ValueError:
            continue
    raise ValueError(text)


@dataclass
class ImportedAttendance:
    line: int
    name: str = ""
    email: str = ""
    company: str = ""
    minutes: int | None = None
    user_id: int | None = None
    errors: list[object] = field(default_factory=list)
    notes: list[object] = field(default_factory=list)
    merged_into: int | None = None  # the line a repeated row was added to


@dataclass
class AttendanceImportReport:
    rows: list[ImportedAttendance] = field(default_factory=list)
    file_errors: list[object] = field(default_factory=list)
    imported: int = 0

    @property
    def valid_rows(self) -> list[ImportedAttendance]:
        return [r for r in self.rows if not r.errors and r.merged_into is None]

    @property
    def invalid_rows(self) -> list[ImportedAttendance]:
        return [r for r in self.rows if r.errors]

    @property
    def noted_rows(self) -> list[ImportedAttendance]:
        return [r for r in self.rows if r.notes and not r.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.invalid_rows


def _sniff(text: str) -> csv.Dialect | type[csv.Dialect]:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def parse_attendance_csv(event: LiveEvent, raw: bytes) -> AttendanceImportReport:
    """Check a participant list (UTF-8 or UTF-16 as Teams writes it; comma, semicolon or tab)
    and report per line. Columns are found by their header in English or Bulgarian: name,
    email (required), minutes or duration, or join and leave times, company.

    Decisions: a row without an email is an error (a person must be counted once); an email
    of no account is kept as a guest (reported in the notes); a person listed again (a
    reconnect in Zoom exports) has the minutes added to their first line, capped at the
    event's duration."""
    report = AttendanceImportReport()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            text = None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
    if text is None:
        report.file_errors.append(_l("The file is not UTF-8 text. Save it as CSV UTF-8."))
        return report
    if "\x00" in text:
        report.file_errors.append(_l("The file contains NUL bytes; it is not a CSV file."))
        return report
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_sniff(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        report.file_errors.append(_l("The file has no header row."))
        return report
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        name = _column_for(title)
        if name is not None and name not in columns:
            columns[name] = index
    if "email" not in columns:
        report.file_errors.append(
            _l(
                "No email column found. The first row must name the columns, for example: "
                "name, email, minutes (or join time and leave time)."
            )
        )
        return report
    limit = event.duration_minutes
    first_line: dict[str, ImportedAttendance] = {}

    def cell(row: list[str], name: str) -> str:
        index = columns.get(name)
        if index is None or index >= len(row):
            return ""
        return row[index].replace("\x00", "").strip()

    try:
        for row in reader:
            if not any((value or "").strip() for value in row):
                continue
            if len(report.rows) >= MAX_IMPORT_ROWS:
                report.file_errors.append(
                    _l("More than %(count)s rows: split the file.", count=MAX_IMPORT_ROWS)
                )
                break
            item = ImportedAttendance(line=reader.line_num)
            item.name = cell(row, "name")[:200]
            item.company = cell(row, "company")[:200]
            raw_email = cell(row, "email")
            if not raw_email:
                item.errors.append(_l("The email is missing."))
            else:
                item.email = normalise_email(raw_email)[:254]
                try:
                    validate_email(item.email, check_deliverability=False)
                except EmailNotValidError:
                    item.errors.append(
                        _l("“%(email)s” is not a valid email address.", email=item.email[:80])
                    )
            try:
                minutes = parse_minutes(cell(row, "minutes"))
                if minutes is None and cell(row, "join") and cell(row, "leave"):
                    joined, left = _parse_time(cell(row, "join")), _parse_time(cell(row, "leave"))
                    seconds = (left - joined).total_seconds()
                    if seconds < 0:
                        seconds += 24 * 3600 if joined.year == 1900 else -1  # only times given
                    if seconds < 0:
                        raise ValueError("left before joining")
                    minutes = math.ceil(seconds / 60 - 1e-9)
                item.minutes = minutes
            except ValueError:
                item.errors.append(
                    _l(
                        "The minutes or times are not valid (use a number of minutes from 0 "
                        "to %(max)s, like 45 or 1:05:00).",
                        max=MAX_EVENT_MINUTES,
                    )
                )
            if not item.errors:
                user = services_find_user(item.email)
                if user is not None:
                    item.user_id = user.id
                    item.name = item.name or user.name
                else:
                    item.name = item.name or item.email
                    item.notes.append(_l("No account has this email: recorded as a guest."))
                if item.minutes is not None and item.minutes > limit:
                    item.minutes = limit
                earlier = first_line.get(item.email)
                if earlier is not None:
                    item.merged_into = earlier.line
                    if earlier.minutes is not None or item.minutes is not None:
                        earlier.minutes = min(limit, (earlier.minutes or 0) + (item.minutes or 0))
                    item.notes.append(
                        _l(
                            "Listed again: the minutes are added to line %(line)s.",
                            line=earlier.line,
                        )
                    )
                else:
                    first_line[item.email] = item
            report.rows.append(item)
    except csv.Error as error:
        report.file_errors.append(
            _l(
                "Line %(line)s cannot be read as CSV: %(error)s",
                line=reader.line_num,
                error=str(error)[:200],
            )
        )
    if not report.rows and not report.file_errors:
        report.file_errors.append(_l("The file has no data rows."))
    return report


def import_attendance(
    event: LiveEvent, report: AttendanceImportReport, by: User, only_valid: bool = False
) -> AttendanceImportReport:
    """Store a checked file. Nothing is stored when the file has errors unless `only_valid`
    is set; then the valid rows are stored and the rest reported. Existing records of the
    same people are updated."""
    _check_can_record(event)
    if report.file_errors or (report.invalid_rows and not only_valid):
        return report
    changed: set[int] = set()
    for item in report.valid_rows:
        if item.user_id is not None:
            record = _attendance_for_user(event, item.user_id)
            if record is None:
                user = db.session.get(User, item.user_id)
                record = Attendance(
                    event_id=event.id,
                    user_id=item.user_id,
                    company=item.company or _company_name(user),
                    company_id=_company_id(user),
                )
                db.session.add(record)
            changed.add(item.user_id)
        else:
            record = _guest_by_email(event, item.email)
            if record is None:
                record = Attendance(event_id=event.id, email=item.email)
                db.session.add(record)
            record.name = item.name
            record.company = item.company or record.company
        record.minutes = item.minutes
        record.source = "csv"
        record.recorded_by_id = by.id
        record.recorded_at = utcnow()
        report.imported += 1
    db.session.flush()
    _recompute(event, changed)
    return report


# --- exports and lists --------------------------------------------------------------------


def attendance_table(event: LiveEvent) -> tuple[list[object], list[list[object]]]:
    """Headers and rows of the attendance export (who was there, with minutes)."""
    headers = [
        _l("No."),
        _l("Name"),
        _l("Email"),
        _l("Company"),
        _l("Registered"),
        _l("Minutes"),
        _l("Source"),
        _l("Recorded at (UTC)"),
    ]
    rows = []
    present = [p for p in participants(event) if p.present]
    for number, person in enumerate(present, start=1):
        record = person.attendance
        assert record is not None
        rows.append(
            [
                number,
                person.name,
                person.email,
                person.company,
                _l("yes") if person.registered else _l("no"),
                record.minutes if record.minutes is not None else event.duration_minutes,
                record.source,
                record.recorded_at,
            ]
        )
    return headers, rows


def attended_count(user_id: int, course_id: int) -> int:
    """Sessions of the course (not cancelled) the user attended."""
    return (
        db.session.scalar(
            select(func.count(Attendance.id))
            .join(LiveEvent, LiveEvent.id == Attendance.event_id)
            .where(
                Attendance.user_id == user_id,
                LiveEvent.course_id == course_id,
                LiveEvent.status == EventStatus.SCHEDULED,
            )
        )
        or 0
    )


def course_sessions(course: Course) -> list[LiveEvent]:
    return list(
        db.session.scalars(
            select(LiveEvent)
            .where(LiveEvent.course_id == course.id)
            .order_by(LiveEvent.starts_at, LiveEvent.id)
        )
    )


# --- signal receivers ---------------------------------------------------------------------


def session_requirements(sender: Course, user=None, enrolment=None, **kwargs: object):  # noqa: ANN001, ANN201
    """`get-completion-requirements`: attend N of the course's live sessions."""
    required = sender.required_sessions or 0
    if not required:
        return None
    user_id = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    attended = attended_count(user_id, sender.id) if user_id else 0
    try:
        url = url_for("courses.events", course=sender.slug)
    except RuntimeError:  # outside a request (CLI)
        url = None
    return Requirement(
        key="sessions",
        label=_l(
            "Attend %(required)s live sessions (%(attended)s attended)",
            required=required,
            attended=min(attended, required),
        ),
        done=attended >= required,
        url=url,
    )


def set_required_sessions(course: Course, count: int | None) -> None:
    """The number of the course's live sessions a learner must attend (0: none)."""
    count = int(count or 0)
    if not 0 <= count <= 50:
        raise ServiceError(_l("Required sessions must be 0 to 50."), "required_sessions")
    course.required_sessions = count
    db.session.flush()


# --- demo data ----------------------------------------------------------------------------


def load_demo_events(users: dict, by: User | None = None) -> None:
    """A few events for the demo: past webinars, an upcoming seminar in Burgas, a session of
    a course and the final conference; registrations and attendance of demo learners. Runs
    once (nothing is added when events exist)."""
    if db.session.scalar(select(func.count(LiveEvent.id))):
        return
    admin = users.get("admin@example.org") or by
    trainer = users.get("trainer@example.org") or admin
    if admin is None:
        return
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    course = services.find_course("energy-efficiency-office-to-data-centre")
    plan = [
        (
            admin,
            dict(
                title="Why green ICT pays: webinar for SMEs",
                event_type="webinar",
                topic="resource-energy-efficiency",
                starts_at=now - timedelta(days=40),
                duration_minutes=90,
                online_url="https://meet.example.org/green-ict-pays",
                recording_url="https://media.example.org/recordings/green-ict-pays",
                with_ict_norway=True,
                description="Energy efficiency of offices, servers and software: "
                "where ICT SMEs in Burgas save first.",
            ),
        ),
        (
            admin,
            dict(
                title="Circular electronics in practice: webinar",
                event_type="webinar",
                topic="circular-economy",
                starts_at=now - timedelta(days=12),
                duration_minutes=60,
                online_url="https://meet.example.org/circular-electronics",
                recording_url="https://media.example.org/recordings/circular-electronics",
                partner="ProspectiM Association",
            ),
        ),
        (
            admin,
            dict(
                title="Green innovation seminar in Burgas",
                event_type="seminar",
                topic="green-innovation",
                starts_at=now + timedelta(days=14),
                duration_minutes=180,
                delivery_mode="on-site",
                place="ICT Cluster Burgas, Burgas",
                capacity=40,
                partner="ProspectiM Association",
            ),
        ),
        (
            admin,
            dict(
                title="ICT Greening Up final conference",
                event_type="conference",
                topic="sustainable-business-models",
                starts_at=now + timedelta(days=60),
                duration_minutes=420,
                delivery_mode="blended",
                place="Burgas",
                online_url="https://meet.example.org/greening-up-conference",
                capacity=200,
                with_ict_norway=True,
                description="Bulgarian and Norwegian ICT companies, authorities and universities: "
                "panels, B2B meetings and funding for green innovation.",
            ),
        ),
    ]
    if course is not None and trainer is not None:
        plan.append(
            (
                trainer,
                dict(
                    title="Measuring energy use: live session",
                    event_type="training",
                    topic=course.topic,
                    starts_at=now - timedelta(days=5),
                    duration_minutes=120,
                    online_url="https://meet.example.org/measuring-energy",
                    course_id=course.id,
                ),
            )
        )
    events = []
    for author, values in plan:
        events.append(create_event(EventData(**values), by=author))
    learners = [
        users[email]
        for email in (
            "learner@example.org",
            "ana.koleva@example.org",
            "ivan.stoyanov@example.org",
            "petya.marinova@example.org",
            "nikolay.todorov@example.org",
        )
        if email in users
    ]
    for event in events:
        past = is_past(event)
        for index, learner in enumerate(learners):
            if past:
                if index % 4 == 3:
                    continue
                db.session.add(
                    EventRegistration(
                        event_id=event.id,
                        user_id=learner.id,
                        registered_at=event.starts_at - timedelta(days=3),
                    )
                )
                if index % 3 != 2:
                    db.session.add(
                        Attendance(
                            event_id=event.id,
                            user_id=learner.id,
                            company=_company_name(learner),
                            company_id=_company_id(learner),
                            source="manual",
                            recorded_by_id=admin.id,
                            minutes=event.duration_minutes - 5 * index,
                        )
                    )
            elif index < 3:
                register(event, learner)
    if events:
        db.session.add(
            Attendance(
                event_id=events[0].id,
                name="Guest from ICT-Norway",
                email="guest@ict-norway.example",
                company="ICT-Norway",
                source="manual",
                recorded_by_id=admin.id,
            )
        )
    db.session.flush()
