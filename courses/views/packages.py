"""Course packages in the browser: trainers and admins upload a package (.zip) to create or
update a course, and download a course as a package."""

from __future__ import annotations

import io

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from courses import packages
from courses.access import can_edit, editable_course_or_404
from courses.views import bp
from lms.extensions import db
from lms.forms import Form
from lms.security import roles_required


def _max_upload_bytes() -> int:
    """The smaller of the package limit and the request size limit (larger requests get 413)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or packages.MAX_ARCHIVE_BYTES
    return min(packages.MAX_ARCHIVE_BYTES, limit)


class PackageImportForm(Form):
    file = FileField(_l("Course package (.zip)"), validators=[FileRequired()])
    publish = BooleanField(_l("Publish it at once (learners see the new version)"), default=True)


def _course_page(slug: str) -> str:
    """The course's authoring page, or its public page while authoring is not installed."""
    if "courses.manage_course" in current_app.view_functions:
        return url_for("courses.manage_course", slug=slug)
    return url_for("courses.course", slug=slug)


@bp.route("/manage/import", methods=["GET", "POST"])
@roles_required("trainer", "admin")
def package_import():
    form = PackageImportForm()
    errors: list[packages.PackageError] = []
    status = 200
    if form.validate_on_submit():
        data = form.file.data.read(_max_upload_bytes() + 1)
        user = current_user._get_current_object()
        if len(data) > _max_upload_bytes():
            form.file.errors.append(
                _("The file is larger than %(mb)s MB.", mb=_max_upload_bytes() // 2**20)
            )
            status = 400
        else:
            try:
                course = packages.import_package(
                    data,
                    owners=[user],
                    publish=bool(form.publish.data),
                    may_update=lambda course: can_edit(user, course),
                )
            except packages.PackageInvalid as invalid:
                db.session.rollback()
                errors = invalid.errors
                status = 404 if isinstance(invalid, packages.PackageForbidden) else 400
            else:
                db.session.commit()
                if form.publish.data:
                    message = _(
                        "The package was imported and published as version %(version)s.",
                        version=course.version,
                    )
                else:
                    message = _(
                        "The package was imported as a draft: learners see it once you publish."
                    )
                flash(message, "success")
                return redirect(_course_page(course.slug))
    elif request.method == "POST":
        status = 400
    return render_template(
        "courses/packages/import.html",
        form=form,
        errors=errors,
        max_mb=_max_upload_bytes() // 2**20,
    ), status


@bp.route("/manage/<slug>/export")
@roles_required("trainer", "admin")
def package_export(slug: str):
    course = editable_course_or_404(slug, current_user)
    data = packages.export_zip(course)
    return send_file(
        io.BytesIO(data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{course.slug}.zip",
        max_age=0,
    )
