"""`flask --app wsgi lms report --from DATE --to DATE --format xlsx|csv|pdf --out FILE`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from lms.reports import exports
from lms.reports.engine import Report, ReportEngine, make_period
from lms.reports.services import LiveReport

FORMATS = ("xlsx", "csv", "pdf", "zip")


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD, for example 2025-03-31") from None


@click.command("report")
@click.option(
    "--from", "first", callback=_day, help="First day (YYYY-MM-DD); default: the project start."
)
@click.option("--to", "last", callback=_day, help="Last day (YYYY-MM-DD); default: today.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--language", type=click.Choice(("bg", "en")), default="en", show_default=True)
def report_command(
    first: date | None, last: date | None, fmt: str, out: Path, language: str
) -> None:
    """Write the grant report for a period (cumulative without --from) to a file."""
    if first and last and first > last:
        raise click.BadParameter("--from must not be after --to")
    period = make_period(first, last, cumulative=first is None)
    engine = ReportEngine(period)
    indicators = []
    definitions = [d for d in engine.definitions if d.enabled]
    with click.progressbar(definitions, label="Computing indicators") as bar:
        for definition in bar:
            indicators.append(engine.indicator(definition))
    assert period.first_day and period.last_day
    report = Report(
        period.first_day,
        period.last_day,
        period.cumulative,
        period.time_zone,
        datetime.now(UTC),
        indicators,
    )
    source = LiveReport(period, engine, report)
    with click.progressbar(length=1, label=f"Writing {fmt.upper()}") as bar:
        if fmt == "xlsx":
            body = exports.xlsx_report(source, language)
        elif fmt == "csv":
            body = exports.csv_summary(source, language)
        elif fmt == "pdf":
            body = exports.pdf_report(source, language)
        else:
            body = exports.evidence_zip(source, language)
        out.write_bytes(body)
        bar.update(1)
    click.echo(f"Report {period.label()} written to {out} ({len(body):,} bytes).")
    for indicator in report.indicators:
        click.echo(f"  {indicator.position}. {indicator.name_en}: {indicator.value}")
