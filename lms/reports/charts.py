"""Charts as server-rendered inline SVG: no script, no library, no inline style.

Each chart is a `<figure>` holding an `<svg role="img">` with `<title>` and `<desc>` (the
figures in words) plus a data table as the text alternative, so screen readers and printouts
get the same numbers. Colours come from classes in reports.css."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
BAR = 28
GAP = 10
LABEL_WIDTH = 260


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    items: Sequence[tuple[str, float]]
    unit: str = ""

    @property
    def total(self) -> float:
        return sum(v for _l, v in self.items)

    def description(self) -> str:
        parts = [f"{label}: {_fmt(value)}" for label, value in self.items]
        return "; ".join(parts) if parts else "—"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def bars(chart: Chart) -> Markup:
    """Horizontal bars, one per item (splits: gender, size class, topic)."""
    top = max((v for _l, v in chart.items), default=0) or 1
    height = max(1, len(chart.items)) * (BAR + GAP) + GAP
    plot = WIDTH - LABEL_WIDTH - 60
    title_id, desc_id = f"{chart.id}-title", f"{chart.id}-desc"
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(chart.description())}</desc>',
    ]
    for index, (label, value) in enumerate(chart.items):
        y = GAP + index * (BAR + GAP)
        width = round(plot * float(value) / top) if value else 0
        out.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + BAR * 0.7:.0f}" '
            f'text-anchor="end">{escape(_short(label))}</text>'
        )
        out.append(
            f'<rect class="chart-bar chart-bar-{index % 5}" x="{LABEL_WIDTH}" y="{y}" '
            f'width="{width}" height="{BAR}" rx="3"/>'
        )
        out.append(
            f'<text class="chart-value" x="{LABEL_WIDTH + width + 6}" '
            f'y="{y + BAR * 0.7:.0f}">{escape(_fmt(value))}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above went through escape()


def columns(chart: Chart) -> Markup:
    """Vertical columns over time (the trend by month)."""
    count = max(1, len(chart.items))
    height, base, left = 220, 180, 40
    slot = (WIDTH - left - 10) / count
    top = max((v for _l, v in chart.items), default=0) or 1
    title_id, desc_id = f"{chart.id}-title", f"{chart.id}-desc"
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(chart.description())}</desc>',
        f'<line class="chart-axis" x1="{left}" y1="{base}" x2="{WIDTH - 10}" y2="{base}"/>',
        f'<text class="chart-value" x="{left - 6}" y="24" text-anchor="end">{_fmt(top)}</text>',
    ]
    every = max(1, count // 12)
    for index, (label, value) in enumerate(chart.items):
        x = left + index * slot + slot * 0.15
        bar_height = round((base - 30) * float(value) / top) if value else 0
        out.append(
            f'<rect class="chart-bar chart-bar-0" x="{x:.1f}" y="{base - bar_height}" '
            f'width="{slot * 0.7:.1f}" height="{bar_height}" rx="2"/>'
        )
        if index % every == 0:
            out.append(
                f'<text class="chart-label" x="{x + slot * 0.35:.1f}" y="{base + 16}" '
                f'text-anchor="middle">{escape(_month(label))}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above went through escape()


def _month(label: str) -> str:
    """"2026-10" as "10.2026" (how months are written in Bulgaria, and unambiguous in English);
    any other label as it is."""
    year, _, month = label.partition("-")
    return f"{month}.{year}" if len(label) == 7 and year.isdigit() and month.isdigit() else label


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
