"""Authoring: trainers (their own courses) and cluster admins (every course) create and edit
courses, modules and lessons, upload images, preview lessons and publish new versions.

Every page is below /courses/manage. A course the user may not edit answers 404, as if it did
not exist; wrong roles get 403. Every POST validates a form (CSRF), calls one service, commits
once and redirects; rejected input re-renders the page with the errors and status 400."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from courses import events, services
from courses.access import can_edit
from courses.forms import (
    DELIVERY_LABELS,
    GREENCOMP_AREAS,
    GREENCOMP_LABELS,
    TOPIC_LABELS,
    ConfirmForm,
    CourseForm,
    LessonForm,
    MediaForm,
    ModuleForm,
    MoveForm,
    NewLessonForm,
    OwnersForm,
    PreviewForm,
    PublishForm,
    media_name,
    suggest_slug,
)
from courses.markdown import render_markdown
from courses.models import (
    Course,
    CourseOwner,
    CourseStatus,
    Enrolment,
    Lesson,
    Media,
    Module,
)
from courses.views import bp
from lms.database import write_intent
from lms.extensions import db
from lms.forms import choices
from lms.models import User, UserRole
from lms.security import roles_required
from lms.services import ServiceError

AUTHORS = ("trainer", "admin")


# --- loading and permission ---------------------------------------------------------------


def _editable(slug: str, lock: bool = False) -> Course:
    """The course with its outline, if the current user may edit it; 404 otherwise."""
    query = (
        select(Course)
        .where(Course.slug == slug)
        .options(selectinload(Course.modules).selectinload(Module.lessons))
    )
    if lock:  # publication: one at a time per course (PostgreSQL; SQLite serialises writers)
        query = query.with_for_update(of=Course)
    course = db.session.scalar(query)
    if course is None or not can_edit(current_user, course):
        abort(404)
    return course


def _module(course: Course, module_id: int) -> Module:
    module = next((m for m in course.modules if m.id == module_id and not m.deleted), None)
    if module is None:
        abort(404)
    return module


def _lesson(course: Course, lesson_id: int) -> Lesson:
    for module in course.modules:
        if module.deleted:
            continue
        for lesson in module.lessons:
            if lesson.id == lesson_id and not lesson.deleted:
                return lesson
    abort(404)


def _live(items: list) -> list:  # noqa: ANN001
    """The working copy's items (not deleted) in their order."""
    return sorted((item for item in items if not item.deleted), key=lambda item: item.position)


def _media(course: Course) -> list:
    """The course's images as (id, name) rows: the image bytes stay in the database."""
    return db.session.execute(
        select(Media.id, Media.name).where(Media.course_id == course.id).order_by(Media.name)
    ).all()


# --- what changed since the last publication ----------------------------------------------


@dataclass
class Changes:
    """The working copy compared with what learners see."""

    states: dict[tuple[str, int], str] = field(default_factory=dict)  # "new" | "changed"
    removed: int = 0
    reordered: bool = False

    def state(self, item: Module | Lesson) -> str:
        kind = "module" if isinstance(item, Module) else "lesson"
        return self.states.get((kind, item.id), "")

    @property
    def new(self) -> int:
        return sum(1 for s in self.states.values() if s == "new")

    @property
    def changed(self) -> int:
        return sum(1 for s in self.states.values() if s == "changed")

    @property
    def pending(self) -> bool:
        return bool(self.states or self.removed or self.reordered)


def _same_order(working: list, published: list) -> bool:  # noqa: ANN001
    both = {item.id for item in working} & {item.id for item in published}
    return [i.id for i in working if i.id in both] == [i.id for i in published if i.id in both]


def working_copy_changes(course: Course, lesson_texts: bool = True) -> Changes:
    """What publishing would change. Without `lesson_texts` the lessons' texts are not
    compared (the list of courses asks the database for that instead of loading them)."""
    changes = Changes()
    published_modules = course.published_modules
    modules = _live(course.modules)
    changes.reordered = not _same_order(modules, published_modules)
    for module in course.modules:
        if module.deleted:
            if module.is_published:
                changes.removed += 1
            continue
        if not module.is_published:
            changes.states[("module", module.id)] = "new"
        elif (module.title, module.summary) != (module.published_title, module.published_summary):
            changes.states[("module", module.id)] = "changed"
        if not _same_order(_live(module.lessons), module.published_lessons):
            changes.reordered = True
        for lesson in module.lessons:
            if lesson.deleted:
                if lesson.is_published:
                    changes.removed += 1
                continue
            if not lesson.is_published:
                changes.states[("lesson", lesson.id)] = "new"
            elif lesson_texts and (lesson.title, lesson.body_html, lesson.minutes) != (
                lesson.published_title,
                lesson.published_html,
                lesson.published_minutes,
            ):
                changes.states[("lesson", lesson.id)] = "changed"
    return changes


# --- forms <-> data -----------------------------------------------------------------------


def _course_form_data(course: Course) -> dict:
    return {
        "title": course.title,
        "slug": course.slug,
        "summary": course.summary,
        "topic": course.topic,
        "language": course.language,
        "translation_of": course.translation_of.slug if course.translation_of else "",
        "contact_hours": course.contact_hours,
        "self_study_hours": course.self_study_hours,
        "assessment_hours": course.assessment_hours,
        "learning_outcomes": "\n".join(course.learning_outcomes or []),
        "greencomp": list(course.greencomp or []),
        "delivery_mode": course.delivery_mode,
        "assessment": course.assessment,
        "validity_months": course.validity_months,
        "complete_on_scroll": course.complete_on_scroll,
        "required_sessions": course.required_sessions,
    }


def _translation_options(course: Course | None) -> list:
    """Courses this one may translate: those the user may see (published or their own), any
    language (the service checks that the language differs), never the course itself."""
    query = select(Course.slug, Course.title, Course.language).order_by(Course.title)
    if not current_user.is_admin:
        own = select(CourseOwner.course_id).where(CourseOwner.user_id == current_user.id)
        query = query.where((Course.status == CourseStatus.PUBLISHED) | Course.id.in_(own))
    options = [(row.slug, f"{row.title} ({row.language})") for row in db.session.execute(query)]
    if course is not None:
        options = [o for o in options if o[0] != course.slug]
        other = course.translation_of
        if other is not None and all(o[0] != other.slug for o in options):
            options.append((other.slug, f"{other.title} ({other.language})"))
    return choices([("", _("— none —")), *options])


def _course_form(course: Course | None, submitted: bool) -> CourseForm:
    """The metadata form: the request's data when submitted, else the course's (or defaults)."""
    if submitted:
        form = CourseForm()
    elif course is not None:
        form = CourseForm(formdata=None, data=_course_form_data(course))
    else:
        language = "bg" if str(get_locale()) == "bg" else "en"
        form = CourseForm(formdata=None, data={"language": language})
    form.translation_of.choices = _translation_options(course)
    return form


def _course_data(form: CourseForm) -> services.CourseData:
    slug = form.slug.data or suggest_slug(form.title.data or "")
    return services.CourseData(
        slug=slug,
        title=form.title.data or "",
        topic=form.topic.data,
        language=form.language.data,
        summary=form.summary.data or "",
        contact_hours=form.contact_hours.data or 0,
        self_study_hours=form.self_study_hours.data or 0,
        assessment_hours=form.assessment_hours.data or 0,
        learning_outcomes=form.outcomes(),
        greencomp=list(form.greencomp.data or []),
        delivery_mode=form.delivery_mode.data,
        assessment=form.assessment.data or "",
        validity_months=form.validity_months.data,
        complete_on_scroll=bool(form.complete_on_scroll.data),
        translation_of_slug=form.translation_of.data or None,
    )


_FIELD_NAMES = {"translation_of_slug": "translation_of"}


def _add_error(form, name: str | None, message: object, default: str) -> None:  # noqa: ANN001
    target = getattr(form, _FIELD_NAMES.get(name or "", name or ""), None) or getattr(form, default)
    target.errors = [*target.errors, message]


def _course_errors(form: CourseForm, data: services.CourseData, course: Course | None) -> bool:
    """Put every problem the service finds on its field; True if there was none."""
    errors = services.course_errors(data, course)
    if not data.slug:
        errors = [e for e in errors if e[0] != "slug"]
        errors.append(("slug", _("Please choose a web address for the course.")))
    for name, message in errors:
        _add_error(form, name, message, "title")
    if errors and not form.slug.data:
        form.slug.data = data.slug  # show the suggestion that was tried
    return not errors


def _first_error(form) -> str:  # noqa: ANN001
    for f in form:
        if f.errors:
            return f"{f.label.text}: {f.errors[0]}" if f.label.text else str(f.errors[0])
    return _("The request could not be understood. Reload the page and try again.")


# --- rendering ----------------------------------------------------------------------------


def _labels() -> dict:
    """Labels for the templates, and which pages of other parts of the plugin exist."""
    views = current_app.view_functions
    return {
        "import_endpoint": "courses.package_import" if "courses.package_import" in views else None,
        "export_endpoint": "courses.package_export" if "courses.package_export" in views else None,
        "status_labels": {
            CourseStatus.DRAFT: _("Draft"),
            CourseStatus.PUBLISHED: _("Published"),
            CourseStatus.ARCHIVED: _("Archived"),
        },
        "topic_labels": TOPIC_LABELS,
        "delivery_labels": DELIVERY_LABELS,
        "greencomp_areas": GREENCOMP_AREAS,
        "greencomp_labels": GREENCOMP_LABELS,
    }


def _owner_form(course: Course, form: OwnersForm | None = None) -> OwnersForm:
    form = form or OwnersForm(formdata=None, data={"owners": [u.id for u in course.owners]})
    authors = db.session.scalars(
        select(User)
        .where(User.active, User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(AUTHORS))))
        .order_by(User.name)
    ).all()
    people = {u.id: u for u in [*authors, *course.owners]}
    form.owners.choices = choices(
        [(u.id, f"{u.name} ({u.email})") for u in sorted(people.values(), key=lambda u: u.name)]
    )
    return form


def _course_page(course: Course, status: int = 200, **forms: object):  # noqa: ANN202
    """The course's authoring page; a handler that rejected input passes its form with the
    errors (the other forms show the stored values)."""
    if forms.get("form") is None:
        forms["form"] = _course_form(course, submitted=False)
    if forms.get("module_form") is None:
        forms["module_form"] = ModuleForm(prefix="module", formdata=None)
    if forms.get("media_form") is None:
        forms["media_form"] = MediaForm(formdata=None)
    if current_user.is_admin:
        forms["owners_form"] = _owner_form(course, forms.get("owners_form"))  # type: ignore[arg-type]
    enrolments = (
        db.session.scalar(select(func.count(Enrolment.id)).where(Enrolment.course_id == course.id))
        or 0
    )
    page = render_template(
        "courses/manage/course.html",
        course=course,
        outline=[(m, _live(m.lessons)) for m in _live(course.modules)],
        changes=working_copy_changes(course),
        media=_media(course),
        enrolments=enrolments,
        **forms,
        **_labels(),
    )
    return page, status


def _module_page(course: Course, module: Module, status: int = 200, **forms: object):  # noqa: ANN202
    if forms.get("form") is None:
        forms["form"] = ModuleForm(formdata=None, obj=module)
    if forms.get("lesson_form") is None:
        forms["lesson_form"] = NewLessonForm(prefix="lesson", formdata=None)
    page = render_template(
        "courses/manage/module.html",
        course=course,
        module=module,
        lessons=_live(module.lessons),
        changes=working_copy_changes(course),
        **forms,
        **_labels(),
    )
    return page, status


def _lesson_page(course: Course, lesson: Lesson, status: int = 200, **context: object):  # noqa: ANN202
    if context.get("form") is None:
        context["form"] = LessonForm(formdata=None, obj=lesson)
    if context.get("media_form") is None:
        context["media_form"] = MediaForm(formdata=None)
    context.setdefault("preview_html", lesson.body_html)
    page = render_template(
        "courses/manage/lesson.html",
        course=course,
        module=lesson.module,
        lesson=lesson,
        media=_media(course),
        changes=working_copy_changes(course),
        **context,
        **_labels(),
    )
    return page, status


def _back_to_course(course: Course, anchor: str = ""):  # noqa: ANN202
    return redirect(url_for("courses.manage_course", slug=course.slug) + anchor)


# --- courses ------------------------------------------------------------------------------


@bp.route("/manage")
@roles_required(*AUTHORS)
def manage():
    lessons = selectinload(Course.modules).selectinload(Module.lessons)
    query = (
        select(Course)
        .options(lessons.defer(Lesson.body_md).defer(Lesson.body_html))
        .options(lessons.defer(Lesson.published_html))
        .order_by(Course.title, Course.id)
    )
    if not current_user.is_admin:
        own = select(CourseOwner.course_id).where(CourseOwner.user_id == current_user.id)
        query = query.where(Course.id.in_(own))
    courses = db.session.scalars(query).all()
    ids = [c.id for c in courses]
    enrolments = dict(
        db.session.execute(
            select(Enrolment.course_id, func.count(Enrolment.id))
            .where(Enrolment.course_id.in_(ids))
            .group_by(Enrolment.course_id)
        ).all()
    )
    # Published lessons whose working copy differs, compared in the database.
    edited = set(
        db.session.scalars(
            select(Lesson.course_id)
            .where(
                Lesson.course_id.in_(ids),
                Lesson.is_published,
                ~Lesson.deleted,
                or_(
                    Lesson.title != Lesson.published_title,
                    Lesson.body_html != Lesson.published_html,
                    Lesson.minutes != Lesson.published_minutes,
                ),
            )
            .distinct()
        )
    )
    rows = []
    for course in courses:
        modules = _live(course.modules)
        pending = course.id in edited or working_copy_changes(course, lesson_texts=False).pending
        rows.append(
            {
                "course": course,
                "modules": len(modules),
                "lessons": sum(len(_live(m.lessons)) for m in modules),
                "enrolments": enrolments.get(course.id, 0),
                "pending": course.version > 0 and pending,
            }
        )
    return render_template("courses/manage/index.html", rows=rows, **_labels())


@bp.route("/manage/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def manage_new():
    form = _course_form(None, submitted=request.method == "POST")
    if form.validate_on_submit():
        data = _course_data(form)
        if _course_errors(form, data, None):
            try:
                course = services.create_course(data, owners=[current_user._get_current_object()])
                events.set_required_sessions(course, form.required_sessions.data)
            except ServiceError as error:
                db.session.rollback()
                _add_error(form, error.field, error.message, "title")
            else:
                db.session.commit()
                flash(
                    _(
                        "The course “%(title)s” is created as a draft. Add its modules and "
                        "lessons next.",
                        title=course.title,
                    ),
                    "success",
                )
                return redirect(url_for("courses.manage_course", slug=course.slug))
    status = 400 if request.method == "POST" else 200
    return render_template("courses/manage/new.html", form=form, **_labels()), status


@bp.route("/manage/<slug>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def manage_course(slug: str):
    course = _editable(slug)
    if request.method == "GET":
        return _course_page(course)
    form = _course_form(course, submitted=True)
    if form.validate_on_submit():
        data = _course_data(form)
        if _course_errors(form, data, course):
            try:
                services.update_course(course, data)
                events.set_required_sessions(course, form.required_sessions.data)
            except ServiceError as error:
                db.session.rollback()
                _add_error(form, error.field, error.message, "title")
            else:
                db.session.commit()
                flash(_("The course details are saved. Learners see them at once."), "success")
                return redirect(url_for("courses.manage_course", slug=course.slug))
    db.session.rollback()
    course = _editable(slug)
    return _course_page(course, 400, form=form)


@bp.route("/manage/<slug>/owners", methods=["POST"])
@roles_required("admin")
def manage_owners(slug: str):
    course = _editable(slug)
    form = _owner_form(course, OwnersForm())
    if form.validate_on_submit():
        owners = [db.session.get(User, user_id) for user_id in form.owners.data]
        try:
            services.set_owners(course, [u for u in owners if u is not None])
        except ServiceError as error:
            db.session.rollback()
            form.owners.errors = [*form.owners.errors, error.message]
        else:
            db.session.commit()
            flash(_("The trainers of this course are saved."), "success")
            return _back_to_course(course, "#owners")
    return _course_page(course, 400, owners_form=form)


@bp.route("/manage/<slug>/publish", methods=["POST"])
@roles_required(*AUTHORS)
def manage_publish(slug: str):
    course = _editable(slug, lock=True)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    if form.version.data != course.version:
        flash(
            _(
                "Someone published this course meanwhile: learners see version %(version)s. "
                "Check the outline and publish again if needed.",
                version=course.version,
            ),
            "info",
        )
        return _back_to_course(course)
    try:
        services.publish_course(course)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _back_to_course(course)
    db.session.commit()
    flash(
        _("Version %(version)s is published. Learners see it now.", version=course.version),
        "success",
    )
    return _back_to_course(course)


@bp.route("/manage/<slug>/archive", methods=["POST"])
@roles_required(*AUTHORS)
def manage_archive(slug: str):
    course = _editable(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.archive_course(course)
    db.session.commit()
    flash(
        _(
            "The course is archived: it left the catalogue and takes no new enrolments. "
            "Enrolled learners keep their records."
        ),
        "success",
    )
    return _back_to_course(course)


# --- modules ------------------------------------------------------------------------------


@bp.route("/manage/<slug>/modules", methods=["POST"])
@roles_required(*AUTHORS)
def manage_module_add(slug: str):
    course = _editable(slug)
    form = ModuleForm(prefix="module")
    if form.validate_on_submit():
        try:
            module = services.add_module(course, form.title.data, form.summary.data or "")
        except ServiceError as error:
            db.session.rollback()
            _add_error(form, error.field, error.message, "title")
        else:
            db.session.commit()
            flash(
                _("The module “%(title)s” is added. Add its lessons here.", title=module.title),
                "success",
            )
            return redirect(url_for("courses.manage_module", slug=course.slug, module_id=module.id))
    return _course_page(course, 400, module_form=form)


@bp.route("/manage/<slug>/modules/<int:module_id>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def manage_module(slug: str, module_id: int):
    course = _editable(slug)
    module = _module(course, module_id)
    if request.method == "GET":
        return _module_page(course, module)
    form = ModuleForm()
    if form.validate_on_submit():
        try:
            services.update_module(module, form.title.data, form.summary.data or "")
        except ServiceError as error:
            db.session.rollback()
            _add_error(form, error.field, error.message, "title")
        else:
            db.session.commit()
            flash(_("The module is saved."), "success")
            return redirect(url_for("courses.manage_module", slug=course.slug, module_id=module.id))
    db.session.rollback()
    course = _editable(slug)
    return _module_page(course, _module(course, module_id), 400, form=form)


@bp.route("/manage/<slug>/modules/<int:module_id>/move", methods=["POST"])
@roles_required(*AUTHORS)
def manage_module_move(slug: str, module_id: int):
    course = _editable(slug)
    module = _module(course, module_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    services.move(module, course.modules, -1 if form.direction.data == "up" else 1)
    db.session.commit()
    if form.direction.data == "up":
        flash(_("The module “%(title)s” moved up.", title=module.title), "success")
    else:
        flash(_("The module “%(title)s” moved down.", title=module.title), "success")
    return _back_to_course(course, f"#module-{module.id}")


@bp.route("/manage/<slug>/modules/<int:module_id>/delete", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def manage_module_delete(slug: str, module_id: int):
    course = _editable(slug)
    module = _module(course, module_id)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        title, published = module.title, module.is_published
        services.delete_module(module)
        db.session.commit()
        if published:
            flash(
                _(
                    "The module “%(title)s” is removed from the working copy. Learners see it "
                    "until you publish the next version.",
                    title=title,
                ),
                "success",
            )
        else:
            flash(_("The module “%(title)s” is deleted.", title=title), "success")
        return _back_to_course(course, "#outline")
    return render_template(
        "courses/manage/confirm_delete.html",
        course=course,
        module=module,
        lesson=None,
        item=module,
        lessons=_live(module.lessons),
        form=ConfirmForm(formdata=None),
        cancel_url=url_for("courses.manage_course", slug=course.slug) + f"#module-{module.id}",
    )


# --- lessons ------------------------------------------------------------------------------


@bp.route("/manage/<slug>/modules/<int:module_id>/lessons", methods=["POST"])
@roles_required(*AUTHORS)
def manage_lesson_add(slug: str, module_id: int):
    course = _editable(slug)
    module = _module(course, module_id)
    form = NewLessonForm(prefix="lesson")
    if form.validate_on_submit():
        try:
            lesson = services.add_lesson(module, form.title.data, "", form.minutes.data)
        except ServiceError as error:
            db.session.rollback()
            _add_error(form, error.field, error.message, "title")
        else:
            db.session.commit()
            flash(
                _("The lesson “%(title)s” is added. Write its text here.", title=lesson.title),
                "success",
            )
            return redirect(url_for("courses.manage_lesson", slug=course.slug, lesson_id=lesson.id))
    return _module_page(course, module, 400, lesson_form=form)


@bp.route("/manage/<slug>/lessons/<int:lesson_id>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def manage_lesson(slug: str, lesson_id: int):
    course = _editable(slug)
    lesson = _lesson(course, lesson_id)
    if request.method == "GET":
        return _lesson_page(course, lesson)
    form = LessonForm()
    if "preview" in request.form:
        # The preview without script: render what was typed, store nothing.
        if form.validate_on_submit() or not form.body_md.errors:
            html = render_markdown(form.body_md.data or "", services.lesson_resolver(course))
            return _lesson_page(course, lesson, form=form, preview_html=html, previewed=True)
        return _lesson_page(course, lesson, 400, form=form, preview_html="")
    if form.validate_on_submit():
        try:
            services.update_lesson(
                lesson, form.title.data, form.body_md.data or "", form.minutes.data
            )
        except ServiceError as error:
            db.session.rollback()
            _add_error(form, error.field, error.message, "title")
        else:
            db.session.commit()
            flash(
                _("The lesson is saved. Publish the course to show the change to learners."),
                "success",
            )
            return redirect(url_for("courses.manage_lesson", slug=course.slug, lesson_id=lesson.id))
    db.session.rollback()
    course = _editable(slug)
    lesson = _lesson(course, lesson_id)
    html = (
        ""
        if form.body_md.errors
        else render_markdown(form.body_md.data or "", services.lesson_resolver(course))
    )
    return _lesson_page(course, lesson, 400, form=form, preview_html=html, previewed=True)


@bp.route("/manage/<slug>/lessons/<int:lesson_id>/move", methods=["POST"])
@roles_required(*AUTHORS)
def manage_lesson_move(slug: str, lesson_id: int):
    course = _editable(slug)
    lesson = _lesson(course, lesson_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    services.move(lesson, lesson.module.lessons, -1 if form.direction.data == "up" else 1)
    db.session.commit()
    if form.direction.data == "up":
        flash(_("The lesson “%(title)s” moved up.", title=lesson.title), "success")
    else:
        flash(_("The lesson “%(title)s” moved down.", title=lesson.title), "success")
    if form.return_to.data == "module":
        return redirect(
            url_for("courses.manage_module", slug=course.slug, module_id=lesson.module_id)
            + f"#lesson-{lesson.id}"
        )
    return _back_to_course(course, f"#lesson-{lesson.id}")


@bp.route("/manage/<slug>/lessons/<int:lesson_id>/delete", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def manage_lesson_delete(slug: str, lesson_id: int):
    course = _editable(slug)
    lesson = _lesson(course, lesson_id)
    module = lesson.module
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        title, published = lesson.title, lesson.is_published
        services.delete_lesson(lesson)
        db.session.commit()
        if published:
            flash(
                _(
                    "The lesson “%(title)s” is removed from the working copy. Learners see it "
                    "until you publish the next version.",
                    title=title,
                ),
                "success",
            )
        else:
            flash(_("The lesson “%(title)s” is deleted.", title=title), "success")
        return redirect(url_for("courses.manage_module", slug=course.slug, module_id=module.id))
    return render_template(
        "courses/manage/confirm_delete.html",
        course=course,
        module=module,
        lesson=lesson,
        item=lesson,
        lessons=[],
        form=ConfirmForm(formdata=None),
        cancel_url=url_for("courses.manage_lesson", slug=course.slug, lesson_id=lesson.id),
    )


# --- preview and images -------------------------------------------------------------------


@bp.route("/manage/<slug>/preview", methods=["POST"])
def manage_preview(slug: str):
    """The sanitised HTML of a lesson text, for the editor's live preview (nothing stored).
    Accepts a form (with csrf_token) or a JSON object {"body_md": ...} sent with the
    X-CSRFToken header; answers JSON {"html": ...} or {"error": ...} with status 400."""
    with write_intent(False):  # a read: no write lock for every keystroke
        return _preview(slug)


@roles_required(*AUTHORS)
def _preview(slug: str):  # noqa: ANN202
    course = _editable(slug)
    formdata = None
    if request.is_json:
        payload = request.get_json(silent=True)
        body = payload.get("body_md", "") if isinstance(payload, dict) else None
        if not isinstance(body, str):
            return jsonify(error=_("Send a JSON object with the lesson text in “body_md”.")), 400
        token = request.headers.get("X-CSRFToken", "")
        formdata = MultiDict({"body_md": body, "csrf_token": token})
    form = PreviewForm() if formdata is None else PreviewForm(formdata=formdata)
    if not form.validate_on_submit():
        return jsonify(error=_first_error(form)), 400
    html = render_markdown(form.body_md.data or "", services.lesson_resolver(course))
    return jsonify(html=html)


@bp.route("/manage/<slug>/media", methods=["POST"])
@roles_required(*AUTHORS)
def manage_media_upload(slug: str):
    """Store an uploaded image. A page form gets a redirect (or the page again with the
    error); the editor's script asks for JSON."""
    course = _editable(slug)
    wants_json = request.accept_mimetypes.best == "application/json"
    form = MediaForm()
    lesson_id = request.form.get("lesson_id", "")
    lesson = None
    if lesson_id.isascii() and lesson_id.isdigit() and len(lesson_id) <= 12:
        lesson = next(
            (x for m in _live(course.modules) for x in _live(m.lessons) if x.id == int(lesson_id)),
            None,
        )
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(services.MAX_MEDIA_BYTES + 1)
        name = media_name(upload.filename or "")
        try:
            media = services.add_media(course, name, data)
        except ServiceError as error:
            db.session.rollback()
            form.file.errors = [*form.file.errors, error.message]
        else:
            db.session.commit()
            snippet = f"![{_('Describe the image')}](images/{media.name})"
            if wants_json:
                return jsonify(
                    name=media.name,
                    snippet=snippet,
                    url=url_for("courses.media", media_id=media.id, name=media.name),
                )
            flash(
                _(
                    "The image %(name)s is uploaded. Put it in a lesson with %(snippet)s",
                    name=media.name,
                    snippet=snippet,
                ),
                "success",
            )
            if lesson is not None:
                return redirect(
                    url_for("courses.manage_lesson", slug=course.slug, lesson_id=lesson.id)
                    + "#images"
                )
            return _back_to_course(course, "#images")
    if wants_json:
        return jsonify(error=_first_error(form)), 400
    db.session.rollback()
    course = _editable(slug)
    if lesson is not None:
        lesson = _lesson(course, lesson.id)
        return _lesson_page(course, lesson, 400, media_form=form)
    return _course_page(course, 400, media_form=form)
