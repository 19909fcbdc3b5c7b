"""The report as files: XLSX (a summary sheet and one sheet per indicator with its rows), CSV
(the summary), PDF (the grant operator's layout) and the evidence pack ZIP.

Every file is built from the same `Report` object (live or frozen) as the dashboard, so the
figures match. Cells go through `lms.exports.neutralise` (formula injection)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from lms.exports import MIMETYPES, csv_bytes, neutralise
from lms.pdf import FONTS_DIR, render_pdf
from lms.reports.engine import IndicatorResult, Report
from lms.reports.labels import (
    MEASURE_LABELS,
    column_label,
    display_row,
    split_label,
    translated_values,
    value_label,
)
from lms.signals import collect, get_evidence_files

XLSX = MIMETYPES["xlsx"]
CSV = MIMETYPES["csv"]
PROJECT = "ICT Greening Up Initiative"
PROGRAMME = (
    'Norway Grants 2014-2021, programme "Business Development, Innovation and SMEs" (Bulgaria)'
)
PROMOTER = "ICT Cluster Burgas"
PDF_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "reports" / "pdf"


def summary_headers() -> list[str]:
    return [
        _("Indicator"),
        _("Breakdown"),
        _("Category"),
        _("Achieved"),
        _("Target"),
        _("Progress (%)"),
    ]


def summary_rows(report: Report, language: str) -> list[list[Any]]:
    """One row per indicator total, then its splits and months: the dashboard's figures."""
    rows: list[list[Any]] = []
    for indicator in report.indicators:
        name = f"{indicator.position}. {indicator.name(language)}"
        rows.append([name, _("Total"), "", indicator.value, indicator.target, indicator.progress])
    for indicator in report.indicators:
        name = f"{indicator.position}. {indicator.name(language)}"
        for split, values in indicator.splits.items():
            for key, amount in values.items():
                rows.append([name, split_label(split), value_label(key), amount, None, None])
        for month, amount in indicator.months:
            rows.append([name, split_label("month"), month, amount, None, None])
    return rows


def csv_summary(source: Any, language: str) -> bytes:
    return csv_bytes(summary_headers(), summary_rows(source.report, language))


def _sheet_title(title: str, used: set[str]) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\\s]+", " ", str(title)).strip(" '")[:31].strip() or "Sheet"
    candidate, n = cleaned, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = cleaned[: 31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate


def _append(sheet: Any, values: list[Any], bold: Font | None = None) -> None:
    """One row; header rows bold. Values go in as they are (after `neutralise`): openpyxl
    gives dates their number format itself, and building cells here would only cost time."""
    if bold is None:
        sheet.append([neutralise(v) for v in values])
        return
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=neutralise(value))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)


def xlsx_report(source: Any, language: str, output: Any = None) -> bytes:
    """The workbook: "Summary" first (title block, then the summary table), then one sheet per
    indicator with the rows behind it. Write-only mode: rows stream, memory stays flat."""
    report: Report = source.report
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    labels = translated_values()
    summary = workbook.create_sheet(_sheet_title(_("Summary"), used))
    _append(summary, [PROJECT], bold)
    _append(summary, [_("Period"), period_label(report)])
    _append(summary, [_("Generated"), _generated(source)])
    _append(summary, [])
    _append(summary, summary_headers(), bold)
    for row in summary_rows(report, language):
        _append(summary, row)
    for indicator in report.indicators:
        sheet = workbook.create_sheet(
            _sheet_title(f"{indicator.position} {indicator.name(language)}", used)
        )
        table = source.rows(indicator.key)
        _append(sheet, [column_label(c) for c in table.columns], bold)
        for row in table.rows:
            sheet.append([neutralise(v) for v in display_row(table.columns, row, labels)])
    buffer = output if output is not None else io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue() if output is None else b""


def period_label(report: Report) -> str:
    text = f"{report.first_day.isoformat()} – {report.last_day.isoformat()}"
    if report.cumulative:
        text += " (" + _("cumulative since the project start") + ")"
    return text


def _generated(source: Any) -> str:
    if getattr(source, "frozen", False):
        snapshot = source.snapshot
        return _(
            "Frozen on %(date)s by %(name)s",
            date=snapshot.frozen_at.strftime("%Y-%m-%d %H:%M UTC"),
            name=snapshot.frozen_by_name,
        )
    return source.report.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _bar_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    top = max((float(v) for v in values.values()), default=0) or 1
    return [
        {"label": value_label(k), "value": v, "width": max(1, round(60 * float(v) / top))}
        for k, v in values.items()
    ]


def pdf_context(source: Any, language: str) -> dict[str, Any]:
    report: Report = source.report
    indicators = []
    for indicator in report.indicators:
        splits = [
            {"title": split_label(name), "rows": _bar_rows(values)}
            for name, values in indicator.splits.items()
            if values
        ]
        indicators.append(
            {
                "position": indicator.position,
                "name": indicator.name(language),
                "measure": str(MEASURE_LABELS.get(indicator.measure, "")),
                "value": indicator.value,
                "target": "—" if indicator.target is None else indicator.target,
                "progress": "—" if indicator.progress is None else f"{indicator.progress} %",
                "note": "" if indicator.contributed else _("no contributions yet"),
                "splits": splits,
            }
        )
    trend = report.indicator("participants_completed")
    return {
        "lang": language,
        "project": PROJECT,
        "programme": PROGRAMME,
        "promoter": PROMOTER,
        "period": period_label(report),
        "generated": _generated(source),
        "indicators": indicators,
        "trend_title": (trend.name(language) + " — " + split_label("month")) if trend else "",
        "trend": _bar_rows(dict(trend.months)) if trend else [],
        "t": {
            "title": _("Report on indicators"),
            "programme": _("Programme"),
            "promoter": _("Project promoter"),
            "period": _("Reporting period"),
            "generated": _("Generated"),
            "number": _("No."),
            "indicator": _("Indicator"),
            "indicators": _("Indicators"),
            "unit": _("Unit"),
            "achieved": _("Achieved"),
            "target": _("Target"),
            "progress": _("Progress"),
            "breakdowns": _("Breakdowns"),
            "signature": _("Prepared by"),
            "name": _("Name"),
            "position": _("Position"),
            "date": _("Date"),
            "sign": _("Signature"),
            "page": _("Page"),
        },
    }


def pdf_report(source: Any, language: str) -> bytes:
    """The report in the grant operator's style (charts drawn as table bars: xhtml2pdf does
    not draw SVG)."""
    return render_pdf(
        PDF_TEMPLATES,
        "report.html",
        pdf_context(source, language),
        assets=(FONTS_DIR,),
        meta={"title": f"{PROJECT} — {period_label(source.report)}", "author": PROMOTER},
    )


def _safe_member(name: str) -> str:
    """A ZIP member name without absolute paths or parent steps."""
    parts = [p for p in re.split(r"[\\/]+", name) if p not in ("", ".", "..")]
    return "/".join(parts) or "file"


def evidence_zip(source: Any, language: str) -> bytes:
    """The evidence pack for monitoring visits: the summary, the list of supported enterprises
    (size class, UIC) and whatever the plugins give (certificate register, attendance sheets)."""
    report: Report = source.report
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.csv", csv_summary(source, language))
        enterprises = report.indicator("enterprises_supported")
        if enterprises is not None:
            table = source.rows(enterprises.key)
            archive.writestr(
                "supported-enterprises.csv",
                csv_bytes(
                    [column_label(c) for c in table.columns],
                    (display_row(table.columns, r) for r in table.rows),
                ),
            )
        names = {"summary.csv", "supported-enterprises.csv"}
        for item in collect(get_evidence_files, None, period=report.period):
            name = _safe_member(getattr(item, "name", "file"))
            while name in names:
                name = "copy-" + name
            names.add(name)
            archive.writestr(name, item.content())
    return buffer.getvalue()


def indicator_rows(indicator: IndicatorResult) -> Iterator[tuple[str, Any]]:
    yield from indicator.splits.items()
