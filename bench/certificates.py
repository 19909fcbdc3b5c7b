"""Certificates benchmark (#5), three figures each next to its baseline from the same run:

1. Rendering a certificate PDF with xhtml2pdf (``certificates.pdf``) next to its floor, the
   same page drawn directly on a ReportLab canvas. The baseline registers its fonts once
   (ReportLab keeps them), while every xhtml2pdf render reads its @font-face fonts again
   (xhtml2pdf empties ReportLab's caches after each document): the ratio is the whole price of
   building the page from HTML and CSS. Goal <= 8.
2. Downloading an already issued PDF (``GET /certificates/<id>.pdf``, the stored document) under
   gunicorn, in requests per second as a ratio to the hello-world GET. Goal >= 0.4.
3. Issuing 1,000 certificates in bulk: 1,000 completions recorded while the plugin was off
   are prepared first, then a fresh process issues them through ``issue_certificate``,
   committing each one as ``flask certificates issue-pending`` does; total time and the
   process's peak memory (peak RSS, next to its RSS before issuing).

``make bench`` runs this section with the others; ``python -m bench.certificates`` runs it alone
(with its own hello-world baseline). ``--certificates N`` issues N instead of 1,000 (quicker).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from bench.driver import ROOT, Gunicorn, Result, load, login_cookie, request
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


# --- 2. downloading an issued PDF under gunicorn ----------------------------------------

#: A demo learner who completed a course, so the demo data holds their certificate.
DOWNLOAD_EMAIL = "ana.koleva@example.org"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the documented demo accounts' password
DOWNLOAD_GOAL = 0.4
RENDER_GOAL = 8


def certificate_of(database: Path, email: str) -> int | None:
    """The id of `email`'s first certificate in a bench SQLite database."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            'SELECT c.id FROM certificates_certificate c JOIN "user" u ON u.id = c.user_id '
            "WHERE u.email = ? ORDER BY c.id LIMIT 1",
            (email,),
        ).fetchone()
    return row[0] if row else None


def download_load(
    env: dict[str, str], seconds: float, clients: int
) -> tuple[Result | None, str, int]:
    """The learner downloads their stored PDF again and again (the LMS under the same gunicorn
    settings as the baseline). Returns the result, the path and the PDF's size, or None and
    why not."""
    database = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
    certificate_id = certificate_of(database, DOWNLOAD_EMAIL)
    if certificate_id is None:
        return None, f"the demo data has no certificate of {DOWNLOAD_EMAIL}", 0
    path = f"/certificates/{certificate_id}.pdf"
    with Gunicorn("wsgi:app", env) as lms:
        headers = {"Cookie": login_cookie(lms.port, DOWNLOAD_EMAIL, DEMO_PASSWORD)}
        first = request(lms.port, "GET", path, headers)
        kind = first.getheader("Content-Type") or ""
        if first.status != 200 or not first.body.startswith(b"%PDF"):
            return None, f"GET {path} answered {first.status} {kind}, not a PDF", 0
        return load(lms.port, path, seconds, clients, headers), path, len(first.body)


# --- 3. issuing 1,000 certificates in bulk ------------------------------------------------


def _bench_app(database: Path, plugins: str):  # noqa: ANN202
    from lms.app import create_app
    from lms.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "PLUGINS": plugins,
        }
    )
    with app.app_context():
        db.create_all()
    return app


def prepare_bulk(database: Path, count: int) -> None:
    """`count` learners in 10 companies who completed a one-lesson course while the
    certificates plugin was off (the app has only `courses`): completions, no certificates."""
    from bench.queries import _populate
    from courses import services as cs
    from lms import services
    from lms.extensions import db
    from lms.models import User

    app = _bench_app(database, "courses")
    with app.app_context():
        companies = 10
        _populate(companies, -(-count // companies))
        owner = services.create_user(
            services.UserData(
                email="trainer-bulk@example.org",
                name="Trainer",
                password="bench-password-1",
                roles=("trainer",),
            )
        )
        course = cs.create_course(
            cs.CourseData(
                slug="bulk",
                title="Circular economy for ICT companies",
                topic="circular-economy",
                language="en",
                contact_hours=6,
                self_study_hours=10,
                learning_outcomes=sample_snapshot("en")["learning_outcomes"],
                greencomp=["2.1", "3.3", "4.3"],
            ),
            owners=[owner],
        )
        lesson = cs.add_lesson(cs.add_module(course, "Module"), "Lesson", "Text", 5)
        cs.publish_course(course)
        learners = db.session.query(User).filter(User.email.like("b%-%")).order_by(User.id)
        for learner in learners.limit(count).all():
            cs.enrol(learner, course)
            cs.complete_lesson(learner, lesson)
        db.session.commit()
        db.engine.dispose()


def _rss_kib() -> int:
    """The process's resident set size now (Linux), in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def issue_in_bulk(database: Path) -> dict[str, Any]:
    """In a fresh process: issue every pending certificate, one commit each. Peak RSS
    (ru_maxrss) covers only this process: start-up, the app, the issuing."""
    from sqlalchemy import func, select

    from certificates import services
    from certificates.models import Certificate, CertificateDocument
    from lms.extensions import db

    app = _bench_app(database, "courses,quizzes,certificates")
    with app.app_context():
        pending = services.pending_enrolments()
        ids = [e.id for e in pending]
        db.session.commit()
        rss_before = _rss_kib()
        peak_at_100 = None
        started = time.perf_counter()
        for n, enrolment in enumerate(pending, 1):
            services.issue_certificate(enrolment)
            db.session.commit()
            if n == 100:
                peak_at_100 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        issued = db.session.scalar(select(func.count(Certificate.id)))
        documents = db.session.scalar(select(func.count()).select_from(CertificateDocument))
        stored = db.session.scalar(select(func.sum(CertificateDocument.size))) or 0
    if issued != len(ids) or documents != len(ids):
        raise RuntimeError(f"{len(ids)} pending, {issued} issued, {documents} documents")
    return {
        "certificates": issued,
        "seconds": round(seconds, 2),
        "ms_per_certificate": round(seconds / max(issued, 1) * 1000, 1),
        "rss_before_mib": round(rss_before / 1024, 1),
        "peak_rss_after_100_mib": round(peak_at_100 / 1024, 1) if peak_at_100 else None,
        "peak_rss_mib": round(peak / 1024, 1),
        "stored_pdf_mib": round(stored / 2**20, 1),
    }


def bulk_issue(directory: Path, count: int) -> dict[str, Any]:
    database = directory / "certificates-bulk.sqlite3"
    started = time.perf_counter()
    prepare_bulk(database, count)
    setup = time.perf_counter() - started
    child = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "bench.certificates", "--bulk-child", str(database)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    result["setup_seconds"] = round(setup, 1)
    return result


# --- the section, for `make bench` and alone ----------------------------------------------


def run_section(
    directory: Path,
    env: dict[str, str],
    baseline: Result,
    seconds: float,
    clients: int,
    count: int = 1000,
) -> dict[str, Any]:
    """All three figures, printed; `baseline` is the hello-world GET of the same run."""
    results: dict[str, Any] = {}
    print("\nCertificates (#5); alone: python -m bench.certificates [--certificates N]")
    render = time_render()
    print(
        f"certificate PDF, median of {render['renders']}: xhtml2pdf {render['xhtml2pdf_ms']} ms,"
        f" ReportLab canvas {render['reportlab_ms']} ms, ratio {render['ratio']}"
        f"   (goal <= {RENDER_GOAL})"
    )
    results["render"] = render

    download, path, size = download_load(env, seconds, clients)
    if download is None:
        print(f"PDF download: not measured: {path}")
        results["download"] = {"error": path}
    else:
        ratio = download.rps / baseline.rps
        print(
            f"PDF download GET {path} ({size / 1024:.0f} KiB): "
            f"{download.rps:.1f} req/s, p50 {download.median_ms:.1f} ms, p95 "
            f"{download.percentile(95):.1f} ms, {download.errors} errors; hello GET "
            f"{baseline.rps:.1f} req/s"
        )
        print(f"ratio PDF download/hello = {ratio:.2f}   (goal >= {DOWNLOAD_GOAL})")
        results["download"] = {
            "rps": download.rps,
            "baseline_rps": baseline.rps,
            "ratio": ratio,
            "bytes": size,
            "errors": download.errors,
        }

    bulk = bulk_issue(directory, count)
    after_100 = bulk["peak_rss_after_100_mib"]
    print(
        f"bulk issuance of {bulk['certificates']:,} certificates (one commit each): "
        f"{bulk['seconds']:.1f} s, {bulk['ms_per_certificate']} ms each; peak RSS "
        f"{bulk['peak_rss_mib']} MiB (RSS {bulk['rss_before_mib']} MiB before issuing"
        + (f", peak {after_100} MiB after the first 100" if after_100 else "")
        + f"); {bulk['stored_pdf_mib']} MiB of PDFs stored (setup {bulk['setup_seconds']} s)"
    )
    results["bulk_issue"] = bulk
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.certificates")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--certificates", type=int, default=1000, help="how many to issue in bulk")
    parser.add_argument("--bulk-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bulk_child:
        print(json.dumps(issue_in_bulk(args.bulk_child)))
        return
    from bench.__main__ import prepare_database

    with tempfile.TemporaryDirectory() as tmp:
        env = prepare_database(Path(tmp))
        with Gunicorn("bench.hello:app", env) as hello:
            baseline = load(hello.port, "/", args.seconds, args.clients)
        run_section(Path(tmp), env, baseline, args.seconds, args.clients, args.certificates)


if __name__ == "__main__":
    main()
