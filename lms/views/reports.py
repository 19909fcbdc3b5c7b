"""The grant report for the cluster admin: dashboard, drill-down, exports, frozen snapshots
and indicator definitions (see `lms.reports`). Admins only."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.exports import safe_filename
from lms.extensions import db
from lms.reports import (
    exports,
    models,  # noqa: F401 - the report tables
    services,
)
from lms.reports.charts import Chart, bars, columns
from lms.reports.engine import SPLITS, make_period
from lms.reports.forms import DefinitionForm, FreezeForm
from lms.reports.labels import (
    MEASURE_LABELS,
    column_label,
    display_row,
    split_label,
    value_label,
)
from lms.reports.models import ReportSnapshot
from lms.security import roles_required

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")
DRILL_LIMIT = 1000


@bp.before_request
@roles_required("admin")
def _admins_only() -> None:
    """Every report route: cluster admins only (403 for other roles)."""


@bp.app_context_processor
def _report_helpers() -> dict:
    return {
        "report_value_label": value_label,
        "report_split_label": split_label,
        "report_column_label": column_label,
    }


def _language() -> str:
    return str(get_locale() or "en")[:2]


def _period_or_400():  # noqa: ANN202
    try:
        return services.period_from_args(request.args), None
    except services.ReportError as error:
        return None, error


def _report_source():  # noqa: ANN202
    """The live report of the requested period, or the snapshot named by ?snapshot=N."""
    snapshot_id = request.args.get("snapshot", "")
    if snapshot_id:
        if not (snapshot_id.isascii() and snapshot_id.isdigit()) or len(snapshot_id) > 18:
            abort(404)
        snapshot = db.session.get(ReportSnapshot, int(snapshot_id))
        if snapshot is None:
            abort(404)
        return services.FrozenReport(snapshot)
    period, error = _period_or_400()
    if error is not None:
        abort(400, description=str(error.message))
    return services.LiveReport(period)


def _figure(draw, chart: Chart) -> dict:  # noqa: ANN001
    """A chart with its title and its figures as a table (the text alternative)."""
    return {"title": chart.title, "svg": draw(chart), "items": chart.items, "id": chart.id}


def _charts(report) -> list[dict]:  # noqa: ANN001
    """The trend of completions by month, then one bar chart per split worth seeing."""
    language = _language()
    charts = []
    completed = report.indicator("participants_completed")
    if completed is not None:
        title = _("%(name)s by month", name=completed.name(language))
        charts.append(_figure(columns, Chart("chart-trend", title, completed.months)))
    splits = (
        ("participants_completed", "gender", "chart-gender", _l("%(name)s by gender")),
        ("enterprises_supported", "size_class", "chart-size", _l("%(name)s by size class")),
        ("training_hours", "topic", "chart-topic", _l("%(name)s by topic")),
    )
    for key, split, chart_id, title in splits:
        indicator = report.indicator(key)
        if indicator is None or split not in indicator.splits:
            continue
        items = [(value_label(k), v) for k, v in indicator.splits[split].items()]
        name = str(title) % {"name": indicator.name(language)}
        charts.append(_figure(bars, Chart(chart_id, name, items)))
    return charts


@bp.route("/")
def dashboard():
    period, error = _period_or_400()
    if error is not None:
        period = services.preset_period("quarter")
    live = services.LiveReport(period)
    args = services.period_args(period)
    freeze_form = FreezeForm(
        formdata=None,
        first_day=period.first_day.isoformat(),
        last_day=period.last_day.isoformat(),
        cumulative="1" if period.cumulative else "",
    )
    page = render_template(
        "reports/dashboard.html",
        report=live.report,
        period=period,
        args=args,
        error=error,
        charts=_charts(live.report),
        language=_language(),
        measure_labels=MEASURE_LABELS,
        freeze_form=freeze_form,
        presets=[
            ("quarter", _("This quarter")),
            ("last6", _("Last 6 months")),
            ("cumulative", _("Cumulative since the project start")),
        ],
        preset=request.args.get("preset", ""),
        frozen=None,
    )
    return (page, 400) if error is not None else page


@bp.route("/indicators/<name>")
def drill(name: str):
    source = _report_source()
    indicator = source.report.indicator(name)
    if indicator is None:
        abort(404)
    split = request.args.get("split") or None
    value = request.args.get("value") or None
    if split is not None and split not in (*SPLITS.get(indicator.measure, ()), "month"):
        abort(404)
    if source.frozen:
        split = value = None  # a snapshot keeps the full lists only
    table = source.rows(name, split, value)
    rows = []
    total = 0
    for row in table.rows:
        total += 1
        if len(rows) < DRILL_LIMIT:
            rows.append(display_row(table.columns, row))
    return render_template(
        "reports/drill.html",
        report=source.report,
        source=source,
        indicator=indicator,
        language=_language(),
        split=split,
        value=value,
        columns=table.columns,
        rows=rows,
        total=total,
        limit=DRILL_LIMIT,
        args=_source_args(source),
    )


def _source_args(source) -> dict[str, str]:  # noqa: ANN001
    if source.frozen:
        return {"snapshot": str(source.snapshot.id)}
    return services.period_args(source.report.period)


def _download(body: bytes, mimetype: str, stem: str, extension: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{safe_filename(stem, extension)}"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _stem(source) -> str:  # noqa: ANN001
    report = source.report
    stem = f"grant-report-{report.first_day.isoformat()}-{report.last_day.isoformat()}"
    return stem + (f"-snapshot-{source.snapshot.id}" if source.frozen else "")


@bp.route("/export.xlsx")
def export_xlsx():
    source = _report_source()
    return _download(exports.xlsx_report(source, _language()), exports.XLSX, _stem(source), "xlsx")


@bp.route("/export.csv")
def export_csv():
    source = _report_source()
    return _download(exports.csv_summary(source, _language()), exports.CSV, _stem(source), "csv")


@bp.route("/export.pdf")
def export_pdf():
    source = _report_source()
    return _download(
        exports.pdf_report(source, _language()), "application/pdf", _stem(source), "pdf"
    )


@bp.route("/evidence.zip")
def evidence():
    source = _report_source()
    return _download(
        exports.evidence_zip(source, _language()),
        "application/zip",
        _stem(source) + "-evidence",
        "zip",
    )


# --- snapshots ------------------------------------------------------------------------------


@bp.route("/snapshots", methods=["GET", "POST"])
def snapshots():
    if request.method == "POST":
        form = FreezeForm()
        if not form.validate_on_submit():
            return render_template(
                "reports/snapshots.html", snapshots=services.snapshots(), form=form
            ), 400
        try:
            first = date.fromisoformat(form.first_day.data)
            last = date.fromisoformat(form.last_day.data)
        except ValueError:
            abort(400)
        if first > last:
            abort(400)
        period = make_period(first, last, cumulative=bool(form.cumulative.data))
        try:
            snapshot = services.freeze(services.LiveReport(period), current_user, form.note.data)
        except services.ReportError as error:
            db.session.rollback()
            form.note.errors = [str(error.message)]
            return render_template(
                "reports/snapshots.html", snapshots=services.snapshots(), form=form
            ), 400
        db.session.commit()
        flash(_("The report is frozen as submitted. Later changes will not alter it."), "success")
        return redirect(url_for("reports.snapshot", id=snapshot.id))
    return render_template("reports/snapshots.html", snapshots=services.snapshots(), form=None)


@bp.route("/snapshot")
def snapshot():
    if not request.args.get("id"):
        abort(404)
    raw = request.args["id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # not "²"
        abort(404)
    frozen = db.session.get(ReportSnapshot, int(raw))
    if frozen is None:
        abort(404)
    source = services.FrozenReport(frozen)
    return render_template(
        "reports/dashboard.html",
        report=source.report,
        period=source.report.period,
        args={"snapshot": str(frozen.id)},
        error=None,
        charts=_charts(source.report),
        language=_language(),
        measure_labels=MEASURE_LABELS,
        freeze_form=None,
        presets=[],
        preset="",
        frozen=frozen,
    )


# --- definitions ----------------------------------------------------------------------------


@bp.route("/definitions")
def definitions():
    return render_template(
        "reports/definitions.html",
        definitions=services.definitions_for_editing(),
        language=_language(),
        measure_labels=MEASURE_LABELS,
    )


@bp.route("/definitions/<name>", methods=["GET", "POST"])
def definition_edit(name: str):
    definition = next((d for d in services.definitions_for_editing() if d.key == name), None)
    if definition is None:
        abort(404)
    if request.method == "POST":
        form = DefinitionForm()
        if form.validate_on_submit():
            try:
                services.update_definition(
                    name,
                    services.DefinitionData(
                        name_en=form.name_en.data or "",
                        name_bg=form.name_bg.data or "",
                        target=form.target.data or "",
                        enabled=form.enabled.data,
                        sources=form.sources.data or "",
                        measure=form.measure.data,
                        course_ids=form.course_ids.data or "",
                        event_ids=form.event_ids.data or "",
                        min_hours=form.min_hours.data or "",
                    ),
                )
            except services.ReportError as error:
                db.session.rollback()
                field = getattr(form, error.field or "name_en", form.name_en)
                field.errors = [*field.errors, str(error.message)]
            else:
                db.session.commit()
                flash(_("The indicator definition is saved."), "success")
                return redirect(url_for("reports.definitions"))
        return render_template(
            "reports/definition_form.html", form=form, definition=definition
        ), 400
    form = DefinitionForm(
        formdata=None,
        name_en=definition.name_en,
        name_bg=definition.name_bg,
        target="" if definition.target is None else str(definition.target),
        enabled=definition.enabled,
        sources=",".join(definition.sources),
        measure=definition.measure,
        course_ids=", ".join(str(i) for i in definition.course_ids),
        event_ids=", ".join(str(i) for i in definition.event_ids),
        min_hours="" if definition.min_hours is None else str(definition.min_hours),
    )
    return render_template("reports/definition_form.html", form=form, definition=definition)
