"""Certificates benchmark: rendering a certificate PDF with xhtml2pdf (``certificates.pdf``)
next to its floor, the same page drawn directly on a ReportLab canvas, in the same run.

``python -m bench.certificates`` prints both timings and the ratio xhtml2pdf / ReportLab.
The baseline registers its fonts once (ReportLab keeps them), while every xhtml2pdf render
reads its @font-face fonts again (xhtml2pdf empties ReportLab's caches after each document):
the ratio is the whole price of building the page from HTML and CSS.
"""

from __future__ import annotations

import base64
import io
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from certificates import pdf
from lms.pdf import FONTS_DIR

GREEN = HexColor("#1b5e3b")
DARK = HexColor("#10301f")
INK = HexColor("#1f2a24")
MUTED = HexColor("#6b7a71")
GOLD = HexColor("#b08d3e")
CHIP = HexColor("#eaf4ec")
LEAF = HexColor("#4c9a2a")

FONTS = {
    "CertSans": "DejaVuSans.ttf",
    "CertSans-Bold": "DejaVuSans-Bold.ttf",
    "CertSerif-Bold": "DejaVuSerif-Bold.ttf",
    "CertSerif-Italic": "DejaVuSerif-Italic.ttf",
}

VERIFY_URL = "https://learn.ictcluster.bg/verify"
QR_URL = "https://learn.ictcluster.bg/verify/K7QF3M9XWD2T8HZCR4NB6YPA"


def sample_snapshot(language: str = "bg") -> dict[str, Any]:
    """A typical certificate: five outcomes, three competences, a Cyrillic name."""
    return {
        "learner_name": "Радостина Петрова-Иванова",
        "company_name": "Black Sea Code Ltd.",
        "course_title": "Кръгова икономика за ИКТ компании",
        "course_version": "3",
        "course_language": "bg",
        "issued_on": "2025-03-14",
        "valid_until": None,
        "workload_hours": {"contact": 6, "self_study": 10, "assessment": 1.5, "total": 17.5},
        "learning_outcomes": [
            "Обяснява принципите на кръговата икономика и как се прилагат към хардуера и "
            "софтуера на една ИКТ компания.",
            "Изчислява PUE на център за данни и интензивността на въглеродните емисии на софтуер.",
            "Планира удължаване на живота на устройствата, ремонт и отговорно рециклиране.",
            "Оценява доставчици на облачни услуги по енергийна ефективност.",
            "Подготвя план за действие за намаляване на отпечатъка на компанията.",
        ],
        "greencomp": [
            {"code": "2.1", "name": "Системно мислене"},
            {"code": "3.3", "name": "Изследователско мислене"},
            {"code": "4.3", "name": "Индивидуална инициатива"},
        ],
        "assessment_type": "Онлайн финален тест, оценяван на сървъра",
        "assessment_result": "Успешно, 86 %",
        "delivery_mode": "blended",
        "level": "not applicable",
        "quality_assurance": "Вътрешен преглед на курса и теста от ICT Cluster Burgas",
        "code": "K7QF-3M9X-WD2T-8HZC-R4NB-6YPA",
        **pdf.issuer_defaults(language),
    }


def _register_fonts() -> None:
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, file_name in FONTS.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONTS_DIR / file_name)))


def _lines(
    canvas: Canvas, text: str, font: str, size: float, x: float, y: float, width: float, **kw
) -> float:
    """Draw ``text`` wrapped to ``width`` from baseline ``y`` down; return the next baseline."""
    leading = kw.get("leading", size * 1.3)
    canvas.setFont(font, size)
    for line in simpleSplit(text, font, size, width):
        if kw.get("centre"):
            canvas.drawCentredString(x + width / 2, y, line)
        else:
            canvas.drawString(x, y, line)
        y -= leading
    return y


def reportlab_baseline(snapshot: Mapping[str, Any], language: str = "bg") -> bytes:
    """The certificate's page drawn straight onto a ReportLab canvas: same fonts, frame,
    images, texts and QR code, no HTML."""
    _register_fonts()
    c = pdf.certificate_context(snapshot, language=language, verify_url=VERIFY_URL)
    labels = c["l"]
    out = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(out, pagesize=(width, height))
    canvas.setTitle(c["document_title"])

    # frame
    canvas.setStrokeColor(GREEN)
    canvas.setLineWidth(4)
    canvas.rect(14, 14, width - 28, height - 28)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(0.8)
    canvas.rect(22, 22, width - 44, height - 44)

    # header
    left, right, top = 44, width - 44, height - 32
    canvas.drawImage(str(pdf.ASSETS_DIR / "logo.png"), left, top - 34, 34, 34, mask="auto")
    canvas.setFillColor(GREEN)
    canvas.setFont("CertSans-Bold", 10)
    canvas.drawString(left + 42, top - 14, c["awarding_body"])
    canvas.setFillColor(MUTED)
    canvas.setFont("CertSans", 7.5)
    canvas.drawString(left + 42, top - 26, labels["initiative"])
    canvas.drawRightString(right, top - 24, labels["recommendation"])
    canvas.setFillColor(GREEN)
    canvas.setFont("CertSans-Bold", 7.5)
    canvas.drawRightString(right, top - 13, labels["micro_credential"])

    # title, learner, course
    inner = right - left
    y = top - 70
    canvas.setFont("CertSerif-Bold", 25)
    canvas.drawCentredString(width / 2, y, labels["document"])
    canvas.setFillColor(MUTED)
    y = _lines(canvas, labels["certifies"], "CertSerif-Italic", 10, left, y - 26, inner, centre=1)
    canvas.setFillColor(DARK)
    y = _lines(
        canvas,
        c["name"],
        "CertSerif-Bold",
        c["name_size"],
        left + 90,
        y - c["name_size"] + 8,
        inner - 180,
        centre=1,
        leading=c["name_size"] * 1.2,
    )
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(0.6)
    canvas.line(left + 90, y + 4, right - 90, y + 4)
    canvas.setFillColor(MUTED)
    caption = labels["learner"] + (f" · {c['company']}" if c["company"] else "")
    y = _lines(canvas, caption, "CertSans", 7, left, y - 5, inner, centre=1)
    y = _lines(canvas, labels["completed"], "CertSerif-Italic", 10, left, y - 6, inner, centre=1)
    canvas.setFillColor(GREEN)
    y = _lines(
        canvas,
        c["title"],
        "CertSans-Bold",
        c["title_size"],
        left + 90,
        y - c["title_size"] + 6,
        inner - 180,
        centre=1,
    )
    canvas.line(left + 90, y + 6, right - 90, y + 6)
    canvas.setFillColor(MUTED)
    caption = f"{labels['title']} · {labels['version']} {c['version']} · {c['course_language']}"
    y = _lines(canvas, caption, "CertSans", 7, left, y - 3, inner, centre=1)

    # outcomes and competences
    panel_top = y - 14
    canvas.setFillColor(GREEN)
    canvas.setFont("CertSans-Bold", 7)
    canvas.drawString(left, panel_top, labels["learning_outcomes"])
    ly = panel_top - 14
    for outcome in c["outcomes"] + c["more_outcomes"]:
        canvas.setFillColor(LEAF)
        canvas.setFont("CertSans-Bold", c["outcome_size"])
        canvas.drawString(left, ly, "✓")
        canvas.setFillColor(INK)
        ly = _lines(canvas, outcome, "CertSans", c["outcome_size"], left + 10, ly, 400) - 2
    if c["competences"]:
        canvas.setFillColor(GREEN)
        canvas.setFont("CertSans-Bold", 7)
        canvas.drawString(left, ly - 6, labels["greencomp"])
        ly -= 24
        for i, item in enumerate(c["competences"]):
            x = left + (i % 3) * 141
            if i and i % 3 == 0:
                ly -= 17
            canvas.setFillColor(CHIP)
            canvas.rect(x, ly - 4, 138, 14, stroke=0, fill=1)
            canvas.setFillColor(GREEN)
            canvas.setFont("CertSans", 7)
            canvas.drawString(x + 5, ly + 1, f"{item['code']} {item['name']}")

    # the facts
    fx, fy = left + 450, panel_top
    canvas.setStrokeColor(HexColor("#cfded3"))
    canvas.line(fx - 14, panel_top + 8, fx - 14, panel_top - 190)
    rows = [
        [(labels["issued_on"], c["issued_on"]), (labels["valid_until"], c["valid_until"])],
        [
            (labels["workload"], c["workload"]["total"]),
            (labels["delivery_mode"], c["delivery_mode"]),
        ],
        [("", c["workload"]["parts"])],
        [(labels["assessment_type"], f"{c['assessment_type']} — {c['assessment_result']}")],
        [(labels["level"], c["level"]), (labels["country_region"], c["country_region"])],
        [(labels["quality_assurance"], c["quality_assurance"])],
        [
            (
                labels["awarding_body"],
                f"{c['awarding_body']}, {labels['in_partnership']} {', '.join(c['partners'])}",
            )
        ],
    ]
    for row in rows:
        bottom = fy
        for column, (label, value) in enumerate(row):
            if not value:
                continue
            x = fx + column * 150
            if label:
                canvas.setFillColor(MUTED)
                canvas.setFont("CertSans", 6.5)
                canvas.drawString(x, fy, label)
            canvas.setFillColor(INK)
            top = fy - 10 if label else fy
            bottom = min(bottom, _lines(canvas, value, "CertSans", 8, x, top, 300 / len(row)))
        fy = bottom - 6

    # footer: QR code, verification, seal, signature, funding
    fy = 98
    qr = pdf.qr_data_uri(QR_URL)
    qr_png = base64.b64decode(qr.split(",", 1)[1])
    canvas.drawImage(ImageReader(io.BytesIO(qr_png)), left, fy - 20, 60, 60)
    canvas.setFillColor(MUTED)
    canvas.setFont("CertSans", 7)
    canvas.drawString(left + 70, fy + 28, labels["verify"])
    canvas.drawString(left + 70, fy + 4, labels["code"])
    canvas.setFillColor(GREEN)
    canvas.setFont("CertSans-Bold", 8)
    canvas.drawString(left + 70, fy + 17, c["verify_url"])
    canvas.setFillColor(DARK)
    canvas.drawString(left + 70, fy - 7, c["code"])
    canvas.drawImage(str(pdf.ASSETS_DIR / "seal.png"), width / 2 - 33, fy - 23, 66, 66, mask="auto")
    canvas.setStrokeColor(INK)
    canvas.line(right - 252, fy + 12, right, fy + 12)
    canvas.setFillColor(MUTED)
    canvas.setFont("CertSans", 7.5)
    canvas.drawCentredString(right - 126, fy + 2, labels["signature"])
    canvas.setFillColor(DARK)
    canvas.setFont("CertSans-Bold", 8.5)
    canvas.drawCentredString(right - 126, fy - 9, c["awarding_body"])
    canvas.setFillColor(MUTED)
    _lines(canvas, c["funding"], "CertSans", 6.5, left, fy - 34, inner, centre=1)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _time(render: Callable[[], bytes], count: int) -> list[float]:
    render()  # warm up: imports, font registration, template compilation
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        render()
        timings.append(time.perf_counter() - started)
    return timings


def time_render(count: int = 20) -> dict[str, float]:
    """Render the sample certificate ``count`` times each way; the ratio is xhtml2pdf's median
    time over ReportLab's."""
    snapshot = sample_snapshot()
    xhtml = _time(
        lambda: pdf.render_certificate_pdf(
            snapshot, language="bg", verify_url=VERIFY_URL, qr_url=QR_URL
        ),
        count,
    )
    floor = _time(lambda: reportlab_baseline(snapshot), count)
    xhtml_ms = statistics.median(xhtml) * 1000
    floor_ms = statistics.median(floor) * 1000
    return {
        "renders": count,
        "xhtml2pdf_ms": round(xhtml_ms, 1),
        "reportlab_ms": round(floor_ms, 1),
        "ratio": round(xhtml_ms / floor_ms, 2),
    }


def main() -> None:
    result = time_render()
    print(
        f"certificate PDF, median of {result['renders']}: xhtml2pdf {result['xhtml2pdf_ms']} ms,"
        f" ReportLab canvas {result['reportlab_ms']} ms, ratio {result['ratio']}"
    )


if __name__ == "__main__":
    main()
