"""Live sessions and events: the public events page, registration, and for trainers and
admins the event forms, the attendance list (usable on a phone at the door), the CSV import
of a webinar platform's participant list, the attendance sheet PDF and the exports.

A trainer manages the sessions of their courses and the standalone events they created; the
admin manages every event. Someone else's event answers 404; a wrong role 403."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from courses import events, labels
from courses.models import (
    MAX_EVENT_MINUTES,
    Course,
    CourseOwner,
    CourseStatus,
    EventRegistration,
    EventStatus,
    EventType,
    LiveEvent,
)
from courses.views import bp
from lms import exports
from lms.extensions import db
from lms.forms import ActionForm, Form, choices
from lms.models import utcnow
from lms.pdf import FONTS_DIR, render_pdf
from lms.security import roles_required
from lms.services import ServiceError

MANAGERS = ("trainer", "admin")
PDF_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "courses" / "pdf"
EVENT_TYPES = {
    EventType.WEBINAR: _l("Webinar"),
    EventType.SEMINAR: _l("Seminar"),
    EventType.TRAINING: _l("Training"),
    EventType.CONFERENCE: _l("Conference"),
    EventType.WORKSHOP: _l("Workshop"),
}
BLANK_SHEET_ROWS = 8  # empty lines on the attendance sheet for people who did not register


def _strip(value: object) -> object:
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def _plausible_year(form: Form, field: DateTimeLocalField) -> None:
    if field.data is not None and not 2000 <= field.data.year <= 2100:
        raise ValidationError(_l("The date is out of range."))


class EventForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    event_type = SelectField(_l("Type"), choices=choices(list(EVENT_TYPES.items())))
    topic = SelectField(_l("Topic"), choices=choices(list(labels.TOPICS.items())))
    starts_at = DateTimeLocalField(
        _l("Starts (Bulgarian time)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[
            InputRequired(message=_l("Enter the date and time the event starts.")),
            _plausible_year,
        ],
    )
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        default=90,
        validators=[InputRequired(), NumberRange(1, MAX_EVENT_MINUTES)],
    )
    delivery_mode = SelectField(
        _l("Delivery mode"), choices=choices(list(labels.DELIVERY_MODES.items()))
    )
    place = StringField(
        _l("Place (for on-site and blended events)"),
        validators=[Optional(), Length(max=300)],
        filters=[_strip],
    )
    online_url = StringField(
        _l("Link to join online"), validators=[Optional(), Length(max=500)], filters=[_strip]
    )
    recording_url = StringField(
        _l("Link to the recording (after the event)"),
        validators=[Optional(), Length(max=500)],
        filters=[_strip],
    )
    with_ict_norway = BooleanField(_l("ICT-Norway takes part"))
    partner = StringField(
        _l("Other partners taking part (optional)"),
        validators=[Optional(), Length(max=200)],
        filters=[_strip],
    )
    capacity = IntegerField(
        _l("Capacity (empty: no limit)"), validators=[Optional(), NumberRange(1, 100_000)]
    )
    course_id = SelectField(_l("Session of the course"), validate_choice=True)
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=10_000)], filters=[_strip]
    )


class AttendanceForm(Form):
    walk_in_name = StringField(
        _l("Name"), validators=[Optional(), Length(max=200)], filters=[_strip]
    )
    walk_in_email = StringField(
        _l("Email (optional)"), validators=[Optional(), Length(max=254)], filters=[_strip]
    )
    walk_in_company = StringField(
        _l("Company (optional)"), validators=[Optional(), Length(max=200)], filters=[_strip]
    )


class AttendanceImportForm(Form):
    file = FileField(_l("CSV file"), validators=[FileRequired()])
    only_valid = BooleanField(_l("If some rows have errors, import the valid rows anyway"))


# --- helpers ------------------------------------------------------------------------------


def _event_or_404(event_id: int) -> LiveEvent:
    """An event anyone may see: sessions of unpublished courses only for their managers."""
    event = db.session.get(LiveEvent, event_id)
    if event is None:
        abort(404)
    if (
        event.course is not None
        and event.course.status != CourseStatus.PUBLISHED
        and not events.can_manage(current_user, event)
    ):
        abort(404)
    return event


def _managed_event_or_404(event_id: int) -> LiveEvent:
    event = db.session.get(LiveEvent, event_id)
    if event is None or not events.can_manage(current_user, event):
        abort(404)
    return event


def _local(moment: datetime) -> str:
    return events.to_local(moment).strftime("%d.%m.%Y %H:%M")


def _template_context() -> dict:
    return {
        "event_type_label": lambda code: EVENT_TYPES.get(code, code),
        "local_time": _local,
        "ends_at": events.ends_at,
        "is_past": events.is_past,
    }


def _course_choices(event: LiveEvent | None) -> list:
    query = select(Course.id, Course.title).order_by(Course.title)
    if not current_user.is_admin:
        own = select(CourseOwner.course_id).where(CourseOwner.user_id == current_user.id)
        query = query.where(Course.id.in_(own))
    options = [(str(row.id), row.title) for row in db.session.execute(query)]
    if event is not None and event.course_id and all(o[0] != str(event.course_id) for o in options):
        options.append((str(event.course_id), event.course.title))
    return choices([("", _("— none: a standalone awareness event —")), *options])


def _event_form(event: LiveEvent | None) -> EventForm:
    if request.method == "POST":
        form = EventForm()
    elif event is not None:
        data = {
            "title": event.title,
            "event_type": event.event_type,
            "topic": event.topic,
            "starts_at": events.to_local(event.starts_at).replace(tzinfo=None),
            "duration_minutes": event.duration_minutes,
            "delivery_mode": event.delivery_mode,
            "place": event.place,
            "online_url": event.online_url,
            "recording_url": event.recording_url,
            "with_ict_norway": event.with_ict_norway,
            "partner": event.partner,
            "capacity": event.capacity,
            "course_id": str(event.course_id or ""),
            "description": event.description,
        }
        form = EventForm(formdata=None, data=data)
    else:
        course = db.session.scalar(
            select(Course).where(Course.slug == request.args.get("course", ""))
        )
        data = {"course_id": ""}
        if course is not None:
            data.update(course_id=str(course.id), topic=course.topic)
        form = EventForm(formdata=None, data=data)
    form.course_id.choices = _course_choices(event)
    return form


def _event_data(form: EventForm) -> events.EventData:
    local = form.starts_at.data.replace(tzinfo=events.local_zone())
    return events.EventData(
        title=form.title.data or "",
        event_type=form.event_type.data,
        topic=form.topic.data,
        starts_at=local.astimezone(UTC),
        duration_minutes=form.duration_minutes.data,
        delivery_mode=form.delivery_mode.data,
        place=form.place.data or "",
        online_url=form.online_url.data or "",
        recording_url=form.recording_url.data or "",
        with_ict_norway=bool(form.with_ict_norway.data),
        partner=form.partner.data or "",
        capacity=form.capacity.data,
        course_id=int(form.course_id.data) if form.course_id.data else None,
        description=form.description.data or "",
    )


def _form_error(form: Form, error: ServiceError) -> None:
    target = getattr(form, error.field or "", None)
    if target is None or not hasattr(target, "errors"):
        target = form.title
    target.errors = [*target.errors, error.message]


# --- public pages -------------------------------------------------------------------------


@bp.route("/events", endpoint="events")
def events_index():
    now = utcnow()
    query = select(LiveEvent).outerjoin(Course, Course.id == LiveEvent.course_id)
    query = query.where((LiveEvent.course_id.is_(None)) | (Course.status == CourseStatus.PUBLISHED))
    course = None
    slug = request.args.get("course", "")
    if slug:
        course = db.session.scalar(
            select(Course).where(Course.slug == slug, Course.status == CourseStatus.PUBLISHED)
        )
        if course is not None:
            query = query.where(LiveEvent.course_id == course.id)
    candidates = db.session.scalars(
        query.where(LiveEvent.starts_at >= now - timedelta(days=4)).order_by(
            LiveEvent.starts_at, LiveEvent.id
        )
    ).all()
    upcoming = [e for e in candidates if not events.is_past(e, now)]
    recordings = db.session.scalars(
        query.where(
            LiveEvent.starts_at < now,
            LiveEvent.recording_url != "",
            LiveEvent.status == EventStatus.SCHEDULED,
        )
        .order_by(LiveEvent.starts_at.desc())
        .limit(50)
    ).all()
    mine: set[int] = set()
    if current_user.is_authenticated and upcoming:
        mine = set(
            db.session.scalars(
                select(EventRegistration.event_id).where(
                    EventRegistration.user_id == current_user.id,
                    EventRegistration.event_id.in_([e.id for e in upcoming]),
                )
            )
        )
    counts = _registration_counts([e.id for e in upcoming])
    return render_template(
        "courses/events/index.html",
        upcoming=upcoming,
        recordings=[e for e in recordings if events.is_past(e, now)],
        mine=mine,
        counts=counts,
        course=course,
        **_template_context(),
    )


def _registration_counts(event_ids: list[int]) -> dict[int, int]:
    if not event_ids:
        return {}
    return dict(
        db.session.execute(
            select(EventRegistration.event_id, func.count(EventRegistration.id))
            .where(EventRegistration.event_id.in_(event_ids))
            .group_by(EventRegistration.event_id)
        ).all()
    )


def _event_page(event: LiveEvent, status: int = 200, error: object = None):  # noqa: ANN202
    from courses import surveys

    registration = (
        events.find_registration(event, current_user) if current_user.is_authenticated else None
    )
    registered = events.registration_count(event)
    return render_template(
        "courses/events/detail.html",
        event=event,
        registration=registration,
        registered=registered,
        seats_left=None if event.capacity is None else max(0, event.capacity - registered),
        can_manage=events.can_manage(current_user, event),
        feedback_open=current_user.is_authenticated
        and surveys.feedback_open(event, current_user)
        and surveys.find_feedback(event, current_user) is None,
        action_form=ActionForm(),
        error=error,
        **_template_context(),
    ), status


@bp.route("/events/<int:event_id>")
def event(event_id: int):
    return _event_page(_event_or_404(event_id))


@bp.route("/events/<int:event_id>/register", methods=["POST"])
@login_required
def event_register(event_id: int):
    event = _event_or_404(event_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _event_page(event, 400, _("The form expired. Please try again."))
    try:
        events.register(event, current_user._get_current_object())
    except events.EventFull as error:
        db.session.rollback()
        return _event_page(_event_or_404(event_id), 409, error.message)
    except ServiceError as error:
        db.session.rollback()
        return _event_page(_event_or_404(event_id), 400, error.message)
    db.session.commit()
    flash(_("You are registered. See you there!"), "success")
    return redirect(url_for("courses.event", event_id=event_id))


@bp.route("/events/<int:event_id>/unregister", methods=["POST"])
@login_required
def event_unregister(event_id: int):
    event = _event_or_404(event_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _event_page(event, 400, _("The form expired. Please try again."))
    try:
        removed = events.unregister(event, current_user._get_current_object())
    except ServiceError as error:
        db.session.rollback()
        return _event_page(_event_or_404(event_id), 400, error.message)
    db.session.commit()
    if removed:
        flash(_("Your registration is withdrawn."), "success")
    return redirect(url_for("courses.event", event_id=event_id))


# --- managing events ----------------------------------------------------------------------


@bp.route("/events/manage")
@roles_required(*MANAGERS)
def events_manage():
    query = events.manageable_events_query(current_user)
    page = db.paginate(query, per_page=30, error_out=False)
    counts = _registration_counts([e.id for e in page.items])
    return render_template(
        "courses/events/manage.html", page=page, counts=counts, **_template_context()
    )


@bp.route("/events/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def event_new():
    form = _event_form(None)
    if form.validate_on_submit():
        try:
            event = events.create_event(_event_data(form), by=current_user._get_current_object())
        except ServiceError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("The event is created."), "success")
            return redirect(url_for("courses.event", event_id=event.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "courses/events/form.html", form=form, event=None, **_template_context()
    ), status


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def event_edit(event_id: int):
    event = _managed_event_or_404(event_id)
    form = _event_form(event)
    if form.validate_on_submit():
        try:
            events.update_event(event, _event_data(form), by=current_user._get_current_object())
        except ServiceError as error:
            db.session.rollback()
            event = _managed_event_or_404(event_id)
            _form_error(form, error)
        else:
            db.session.commit()
            flash(_("The event is saved."), "success")
            return redirect(url_for("courses.event", event_id=event.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "courses/events/form.html",
        form=form,
        event=event,
        action_form=ActionForm(),
        **_template_context(),
    ), status


@bp.route("/events/<int:event_id>/cancel", methods=["POST"])
@roles_required(*MANAGERS)
def event_cancel(event_id: int):
    event = _managed_event_or_404(event_id)
    if not ActionForm().validate_on_submit():
        return _event_page(event, 400, _("The form expired. Please try again."))
    events.cancel_event(event)
    db.session.commit()
    flash(_("The event is cancelled. Registered people see it on the event's page."), "success")
    return redirect(url_for("courses.event", event_id=event_id))


# --- attendance ---------------------------------------------------------------------------


def _attendance_page(event: LiveEvent, form: AttendanceForm, status: int = 200, error=None):  # noqa: ANN001, ANN202
    people = events.participants(event)
    return render_template(
        "courses/events/attendance.html",
        event=event,
        people=people,
        present=sum(1 for p in people if p.present),
        form=form,
        error=error,
        **_template_context(),
    ), status


@bp.route("/events/<int:event_id>/attendance", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def event_attendance(event_id: int):
    event = _managed_event_or_404(event_id)
    if request.method == "GET":
        return _attendance_page(event, AttendanceForm(formdata=None))
    form = AttendanceForm()
    if not form.validate_on_submit():
        return _attendance_page(event, form, 400)
    walk_in = None
    if form.walk_in_name.data or form.walk_in_email.data:
        walk_in = events.WalkIn(
            form.walk_in_name.data or "",
            form.walk_in_email.data or "",
            form.walk_in_company.data or "",
        )
    try:
        result = events.record_attendance(
            event,
            [key for key in request.form.getlist("present") if key],
            by=current_user._get_current_object(),
            walk_in=walk_in,
        )
    except ServiceError as error:
        db.session.rollback()
        event = _managed_event_or_404(event_id)
        return _attendance_page(event, form, 400, error.message)
    db.session.commit()
    flash(
        _(
            "Attendance saved: %(added)s added, %(removed)s removed.",
            added=result["added"],
            removed=result["removed"],
        ),
        "success",
    )
    return redirect(url_for("courses.event_attendance", event_id=event_id))


@bp.route("/events/<int:event_id>/attendance/import", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def event_attendance_import(event_id: int):
    event = _managed_event_or_404(event_id)
    form = AttendanceImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        raw = form.file.data.read(events.MAX_IMPORT_BYTES + 1)
        if len(raw) > events.MAX_IMPORT_BYTES:
            form.file.errors.append(_("The file is larger than 2 MB."))
            status = 400
        else:
            report = events.parse_attendance_csv(event, raw)
            try:
                events.import_attendance(
                    event,
                    report,
                    by=current_user._get_current_object(),
                    only_valid=form.only_valid.data,
                )
            except ServiceError as error:
                db.session.rollback()
                form.file.errors.append(error.message)
                report, status = None, 400
            else:
                if report.imported:
                    db.session.commit()
                    flash(
                        _("%(count)s attendance records saved.", count=report.imported),
                        "success",
                    )
                else:
                    db.session.rollback()
                    status = 200 if report.ok else 400
    elif request.method == "POST":
        status = 400
    event = _managed_event_or_404(event_id)
    return render_template(
        "courses/events/import.html",
        event=event,
        form=form,
        report=report,
        **_template_context(),
    ), status


def attendance_sheet_pdf(event: LiveEvent) -> bytes:
    """The printable attendance sheet (A4): the event's header, then No., name, company and an
    empty signature column for everyone registered or present, plus blank lines."""
    people = events.participants(event)
    context = {
        "lang": str(get_locale()),
        "t": {
            "title": _("Attendance sheet"),
            "no": _("No."),
            "name": _("Name"),
            "company": _("Company"),
            "signature": _("Signature"),
            "date": _("Date and time"),
            "place": _("Place"),
            "course": _("Session of the course"),
            "type": _("Type"),
            "partners": _("Partners"),
            "project": _(
                "ICT Greening Up Initiative · ICT Cluster Burgas · Norway Grants 2014-2021"
            ),
            "trainer": _("Trainer / organiser (name and signature)"),
            "cancelled": _("This event is cancelled."),
        },
        "event": {
            "title": event.title,
            "type": str(EVENT_TYPES.get(event.event_type, event.event_type)),
            "topic": str(labels.TOPICS.get(event.topic, event.topic)),
            "when": f"{_local(event.starts_at)} – {_local(events.ends_at(event))}",
            "place": event.place
            or str(labels.DELIVERY_MODES.get(event.delivery_mode, event.delivery_mode)),
            "course": event.course.title if event.course else "",
            "partners": ", ".join(
                p for p in (["ICT-Norway"] if event.with_ict_norway else []) + [event.partner] if p
            ),
            "cancelled": event.is_cancelled,
        },
        "rows": [
            {"number": n, "name": p.name, "company": p.company}
            for n, p in enumerate(people, start=1)
        ],
        "blank": list(range(len(people) + 1, len(people) + 1 + BLANK_SHEET_ROWS)),
    }
    return render_pdf(
        PDF_TEMPLATES,
        "attendance_sheet.html",
        context,
        assets=(FONTS_DIR,),
        meta={"title": event.title[:200]},
    )


@bp.route("/events/<int:event_id>/attendance-sheet.pdf")
@roles_required(*MANAGERS)
def event_attendance_sheet(event_id: int):
    event = _managed_event_or_404(event_id)
    response = Response(attendance_sheet_pdf(event), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{exports.safe_filename(f"attendance-sheet-{event.id}", "pdf")}"'
    )
    return response


def _export(event_id: int, fmt: str):  # noqa: ANN202
    event = _managed_event_or_404(event_id)
    headers, rows = events.attendance_table(event)
    return exports.tabular_response(
        f"attendance-{event.id}-{event.starts_at:%Y-%m-%d}",
        headers,
        rows,
        fmt,
        sheet_title=str(_("Attendance")),
    )


@bp.route("/events/<int:event_id>/attendance.csv")
@roles_required(*MANAGERS)
def event_attendance_csv(event_id: int):
    return _export(event_id, "csv")


@bp.route("/events/<int:event_id>/attendance.xlsx")
@roles_required(*MANAGERS)
def event_attendance_xlsx(event_id: int):
    return _export(event_id, "xlsx")


# --- the course page: its sessions --------------------------------------------------------


def course_sessions_hook(sender: str, course: Course, progress=None, **kwargs: object) -> str:  # noqa: ANN001
    """`course-outline-end`: the course's upcoming sessions and the attendance it requires."""
    sessions = [e for e in events.course_sessions(course) if not e.is_cancelled]
    upcoming = [e for e in sessions if not events.is_past(e)]
    if not upcoming and not course.required_sessions:
        return ""
    attended = (
        events.attended_count(current_user.id, course.id)
        if current_user.is_authenticated and course.required_sessions
        else None
    )
    return render_template(
        "courses/events/_course_sessions.html",
        course=course,
        upcoming=upcoming[:10],
        attended=attended,
        can_add=events_can_add(course),
        **_template_context(),
    )


def events_can_add(course: Course) -> bool:
    return current_user.is_authenticated and (
        current_user.is_admin
        or (current_user.has_role("trainer") and course.is_owned_by(current_user))
    )
