"""The certificate PDF: page format, the eleven EU micro-credential elements in both languages,
Cyrillic text, the QR code, confinement of xhtml2pdf (no network, no file outside the assets
folder, every value escaped), very long names and stable output."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
import segno
from PIL import Image

from certificates import pdf
from lms.pdf import FONTS_DIR

CYRILLIC_NAME = "Радостина Петрова-Иванова"
VERIFY_URL = "https://learn.example.org/verify"
QR_URL = "https://learn.example.org/verify/K7QFM9XWD2TZCRNBYPA"


def pdf_to_text(data: bytes) -> str:
    """All the text of a PDF, pages in order, as pypdf extracts it."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """Whitespace (including line breaks pypdf puts where a line wrapped) as single spaces."""
    return " ".join(text.split())


def solid(text: str) -> str:
    """Text without any whitespace, for strings a line break may fall in the middle of."""
    return "".join(text.split())


def make_snapshot(**changes: Any) -> dict[str, Any]:
    snapshot: dict[str, Any] = {
        "learner_name": CYRILLIC_NAME,
        "company_name": "Black Sea Code Ltd.",
        "course_title": "Circular economy for ICT companies",
        "course_version": "3",
        "course_language": "en",
        "issued_on": "2025-03-14",
        "valid_until": None,
        "workload_hours": {"contact": 6, "self_study": 10, "assessment": 1.5, "total": 17.5},
        "learning_outcomes": [
            "Explain the principles of the circular economy for the hardware and software of an "
            "ICT company.",
            "Calculate the PUE of a data centre and the Software Carbon Intensity of a service.",
            "Plan device life extension, repair and responsible recycling.",
        ],
        "greencomp": [
            {"code": "2.1", "name": "Systems thinking"},
            {"code": "4.3", "name": "Individual initiative"},
        ],
        "assessment_type": "Online final quiz, scored on the server",
        "assessment_result": "Passed, 86 %",
        "delivery_mode": "blended",
        "level": "not applicable",
        "quality_assurance": "Internal review of the course and its assessment by ICT Cluster Burgas",
        "code": "K7QF-M9XW-D2TZ-CRNB-YPA",
        **pdf.issuer_defaults("en"),
    }
    snapshot.update(changes)
    return snapshot


def render(snapshot: dict[str, Any] | None = None, language: str = "en") -> bytes:
    return pdf.render_certificate_pdf(
        snapshot or make_snapshot(), language=language, verify_url=VERIFY_URL, qr_url=QR_URL
    )


@pytest.fixture(scope="module")
def english() -> bytes:
    return render(language="en")


@pytest.fixture(scope="module")
def bulgarian() -> bytes:
    return render(make_snapshot(**pdf.issuer_defaults("bg")), language="bg")


class Listener:
    """A TCP listener on loopback that records every connection made to it."""

    def __init__(self) -> None:
        self.connections: list[tuple[str, int]] = []
        self.requests: list[bytes] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, address = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                self.connections.append(address)
                connection.settimeout(0.5)
                with contextlib.suppress(OSError):
                    self.requests.append(connection.recv(4096))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        # The listener works: a connection made on purpose is recorded, then forgotten.
        with socket.create_connection(("127.0.0.1", server.port), timeout=2):
            pass
        deadline = time.monotonic() + 2
        while not server.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.connections, "the loopback listener does not record connections"
        server.connections.clear()
        server.requests.clear()
        yield server
    finally:
        server.close()


def wait_for_stragglers() -> None:
    """Give a request the renderer might have started in a thread the time to arrive."""
    time.sleep(0.3)


# --- format and content ---------------------------------------------------------------------


def test_is_a_one_page_a4_landscape_pdf(english: bytes, bulgarian: bytes) -> None:
    for data in (english, bulgarian):
        assert data.startswith(b"%PDF")
        reader = pypdf.PdfReader(io.BytesIO(data))
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert float(box.width) == pytest.approx(842, abs=1)
        assert float(box.height) == pytest.approx(595, abs=1)


def test_cyrillic_name_is_text_in_both_languages(english: bytes, bulgarian: bytes) -> None:
    assert CYRILLIC_NAME in flat(pdf_to_text(english))
    assert CYRILLIC_NAME in flat(pdf_to_text(bulgarian))


def test_fonts_are_embedded_from_the_project(english: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(english))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert any("DejaVu" in name for name in names), names
    for font_file in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt"):
        assert (FONTS_DIR / font_file).is_file()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Certificate of competence",
                "Learner",
                "Title",
                "Country/region of the issuer",
                "Awarding body",
                "Date of issuing",
                "Learning outcomes",
                "Notional workload",
                "Level",
                "Type of assessment",
                "Form of participation",
                "Type of quality assurance",
            ],
        ),
        (
            "bg",
            [
                "Удостоверение за компетентност",
                "Обучаем",
                "Наименование",
                "Държава/регион на издателя",
                "Издаваща организация",
                "Дата на издаване",
                "Резултати от обучението",
                "Учебна натовареност",
                "Ниво",
                "Вид оценяване",
                "Форма на участие",
                "Вид осигуряване на качеството",
            ],
        ),
    ],
)
def test_all_eleven_elements_are_labelled(
    language: str, expected: list[str], english: bytes, bulgarian: bytes
) -> None:
    text = flat(pdf_to_text(english if language == "en" else bulgarian))
    labels = [pdf.LABELS[language][element] for element in pdf.ELEMENTS]
    assert len(set(labels)) == 11
    assert set(labels) <= set(expected)
    for label in expected:
        assert label in text, label


def test_the_elements_values_are_printed(english: bytes, bulgarian: bytes) -> None:
    text = flat(pdf_to_text(english))
    for value in (
        "Black Sea Code Ltd.",
        "Circular economy for ICT companies",
        "14 March 2025",
        "17.5 h",
        "6 h contact, 10 h self-study, 1.5 h assessment",
        "Plan device life extension, repair and responsible recycling.",
        "Systems thinking",
        "Online final quiz, scored on the server",
        "Passed, 86 %",
        "blended (online and on-site)",
        "not applicable",
        "Internal review of the course",
        "ICT Cluster Burgas",
        "ProspectiM Association",
        "ICT-Norway",
        "Bulgaria, Burgas (BG341)",
        "Norway Grants",
        "Business Development, Innovation and SMEs",
        "K7QF-M9XW-D2TZ-CRNB-YPA",
        VERIFY_URL,
    ):
        assert value in text, value
    text = flat(pdf_to_text(bulgarian))
    for value in (
        "14 март 2025 г.",
        "17,5 ч",
        "смесено",
        "неприложимо",
        "България, Бургас (BG341)",
        "Норвежкия финансов механизъм",
        "английски език",
    ):
        assert value in text, value


def test_the_sha256_is_not_printed_but_the_code_and_address_are(english: bytes) -> None:
    text = flat(pdf_to_text(english))
    assert "SHA" not in text.upper()
    assert "K7QF-M9XW-D2TZ-CRNB-YPA" in text
    assert VERIFY_URL in text


def test_qr_code_is_an_image_of_the_qr_url(english: bytes) -> None:
    page = pypdf.PdfReader(io.BytesIO(english)).pages[0]
    xobjects = page["/Resources"]["/XObject"]
    assert any(x.get_object()["/Subtype"] == "/Image" for x in xobjects.values())
    expected = _modules(Image.open(io.BytesIO(_qr_png(QR_URL))))
    found = [image for image in page.images if _modules(image.image) == expected]
    assert len(found) == 1, "no image on the page is the QR code of qr_url"


def _qr_png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=8, border=0)
    return out.getvalue()


def _modules(image: Image.Image) -> tuple[tuple[int, int], bytes]:
    """An image's size and its pixels as dark or light, whatever their colours."""
    grey = image.convert("L")
    return grey.size, grey.point(lambda value: 255 if value > 128 else 0).tobytes()


def test_same_input_gives_the_same_content() -> None:
    first, second = render(), render()
    assert pdf_to_text(first) == pdf_to_text(second)
    pages = [pypdf.PdfReader(io.BytesIO(data)).pages[0] for data in (first, second)]
    assert [i.data for i in pages[0].images] == [i.data for i in pages[1].images]


def test_unknown_language_falls_back_to_english() -> None:
    assert "Certificate of competence" in pdf_to_text(render(language="de"))


def test_qr_url_must_fit_a_qr_code() -> None:
    with pytest.raises(ValueError, match="qr_url"):
        pdf.render_certificate_pdf(
            make_snapshot(), language="en", verify_url=VERIFY_URL, qr_url="x" * 5000
        )


def test_missing_and_odd_values_do_not_break_the_render() -> None:
    snapshot = {
        "learner_name": "Ana\x00\x07 \u202eevil\u202c \ud800Ivanova",
        "company_name": None,
        "course_title": 42,
        "issued_on": "not a date",
        "workload_hours": {"contact": "lots", "total": float("nan")},
        "learning_outcomes": "a single outcome",
        "greencomp": [{"code": "2.1"}, "not a mapping"],
        "delivery_mode": "by carrier pigeon",
        "level": "EQF 5",
        "awarding_body": "ICT Cluster Burgas",
    }
    text = flat(pdf_to_text(render(snapshot)))
    assert "Ana evil Ivanova" in text
    assert "a single outcome" in text
    assert "by carrier pigeon" in text
    assert "EQF 5" in text
    assert "not a date" in text
    assert "\u202e" not in text
    assert flat(pdf_to_text(render({}))).startswith(("Verify", "ICT", "Certificate"))


# --- confinement (SECURITY.md 5) -----------------------------------------------------------


def test_hostile_snapshot_is_shown_literally_and_fetches_nothing(listener: Listener) -> None:
    port = listener.port
    name = f'<img src="http://127.0.0.1:{port}/x">'
    company = f'<link href="http://127.0.0.1:{port}/y">'
    outcome = '<a href="file:///etc/passwd">x</a>'
    style = f'<style>@import url("http://127.0.0.1:{port}/z");</style>'
    svg = '"><svg onload=alert(1)>'
    snapshot = make_snapshot(
        learner_name=name,
        company_name=company,
        course_title="{{7*7}}",
        learning_outcomes=[outcome, "{% raw %}{{ config }}{% endraw %}"],
        quality_assurance=style,
        assessment_type=svg,
        code="ABCD-EFGH",
    )
    html = pdf.render_html(
        pdf.certificate_context(snapshot, language="en", verify_url=VERIFY_URL), qr="data:,"
    )
    assert name not in html
    assert "&lt;img src=&#34;http://127.0.0.1" in html

    data = render(snapshot)
    wait_for_stragglers()
    assert listener.connections == []

    text = flat(pdf_to_text(data))
    for literal in (name, company, "{{7*7}}", outcome, style, svg, "{{ config }}"):
        assert literal in text, literal
    assert "49" not in text.replace(str(port), "")
    assert "root:" not in text
    # Only the project's own images: the logo, the seal and the QR code.
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages[0].images) == 3


def test_markup_reaching_xhtml2pdf_cannot_fetch_or_read(listener: Listener, tmp_path: Path) -> None:
    """The second wall: even markup that asked for them (it cannot, everything is escaped) gets
    no network resource and no file outside the assets folder."""
    port = listener.port
    outside = tmp_path / "outside.png"
    Image.new("RGB", (8, 8), "red").save(outside)
    base = f"http://127.0.0.1:{port}"
    html = f"""<html><head>
    <style>
      @import url("{base}/import.css");
      @font-face {{ font-family: Remote; src: url("{base}/font.ttf"); }}
      @page {{ background-image: url("{base}/page.png"); }}
      body {{ background-image: url("{base}/body.png"); }}
    </style>
    <link rel="stylesheet" href="{base}/link.css">
    </head><body>
    <img src="{base}/img.png">
    <img src="https://127.0.0.1:{port}/tls.png">
    <img src="file://{outside}">
    <img src="{outside}">
    <img src="../../../../../../../../{outside}">
    <img src="../pdf.py">
    <img src="{pdf.ASSETS_DIR / "seal.png"}">
    <img src="data:image/png;base64,iVBORw0KGgo=">
    <p style="font-family: Remote">confined</p>
    </body></html>"""
    data = pdf.html_to_pdf(html)
    wait_for_stragglers()
    assert listener.connections == []
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    assert "confined" in page.extract_text()
    assert list(page.images) == []


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1/x",
        "https://example.org/logo.png",
        "//example.org/logo.png",
        "file:///etc/passwd",
        "/etc/passwd",
        "../pdf.py",
        "../../templates/certificates/pdf/certificate.html",
        "fonts/../../pdf.py",
        "C:\\Windows\\win.ini",
        "seal.png?x=1",
        "data:image/png;base64,iVBORw0KGgo=",
        "missing.png",
        "",
        None,
    ],
)
def test_link_callback_refuses_anything_but_its_own_assets(uri: str | None) -> None:
    resolve = pdf.link_callback(frozenset({"data:image/png;base64,AAAA"}))
    answer = resolve(uri, "")
    assert answer == pdf.REFUSED
    assert answer  # an empty answer would make xhtml2pdf use the URI as written
    assert not Path(answer).exists()


def test_link_callback_resolves_its_assets_and_data_uris() -> None:
    resolve = pdf.link_callback(frozenset({"data:image/png;base64,AAAA"}))
    assert resolve("seal.png", "") == str(pdf.ASSETS_DIR / "seal.png")
    assert resolve("DejaVuSans.ttf", "") == str(FONTS_DIR / "DejaVuSans.ttf")
    assert resolve("data:image/png;base64,AAAA", "") == "data:image/png;base64,AAAA"


def test_templates_come_from_the_pdf_folder_only() -> None:
    import jinja2

    environment = pdf._environment()
    assert environment.autoescape is True
    assert isinstance(environment.loader, jinja2.FileSystemLoader)
    assert [Path(p) for p in environment.loader.searchpath] == [pdf.TEMPLATE_DIR]
    with pytest.raises(jinja2.TemplateNotFound):
        environment.get_template("../../../templates/base.html")


# --- long values ----------------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["Я", "Радостина "])
def test_a_ten_thousand_character_name_is_cut_with_an_ellipsis(unit: str) -> None:
    name = (unit * 10_000)[:10_000]
    data = render(make_snapshot(learner_name=name, company_name="W" * 10_000))
    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert 1 <= len(reader.pages) <= 2
    text = solid(pdf_to_text(data))
    kept = pdf.certificate_context(make_snapshot(learner_name=name), language="en", verify_url="")[
        "name"
    ]
    assert len(kept) == pdf.MAX_NAME_LENGTH == 200
    assert kept.endswith("…")
    assert solid(kept) in text
    assert solid(name[:400]) not in text


def test_a_two_hundred_character_name_is_printed_whole() -> None:
    name = ("Радостина Петрова-Иванова " * 10)[:200].strip()
    name = name + "я" * (200 - len(name))
    assert len(name) == 200
    kept = pdf.certificate_context(make_snapshot(learner_name=name), language="en", verify_url="")[
        "name"
    ]
    assert kept == name
    text = solid(pdf_to_text(render(make_snapshot(learner_name=name))))
    assert solid(name) in text
    assert "…" not in text


def test_many_long_outcomes_continue_on_a_second_page_without_loss() -> None:
    count = pdf.MAX_OUTCOMES
    outcomes = [
        f"Outcome {i:02d}: " + "describe the measure and its effect " * 8 for i in range(count)
    ]
    assert all(len(outcome) <= pdf.MAX_OUTCOME_LENGTH for outcome in outcomes)
    data = render(
        make_snapshot(
            learner_name="Я" * 200,
            greencomp=[{"code": "1.1", "name": "x"}] * 12,
            learning_outcomes=outcomes,
        )
    )
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    text = flat(pdf_to_text(data))
    for i in range(count):
        assert f"Outcome {i:02d}:" in text
    assert "Learning outcomes (continued)" in text
    assert text.count(VERIFY_URL) == 2  # the footer, with the QR code, is on every page
    assert len(reader.pages[1].images) == 2  # the footer's QR code and seal


def test_a_few_short_outcomes_stay_on_one_page() -> None:
    data = render(make_snapshot(learning_outcomes=["Explain the PUE of a data centre."] * 6))
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == 1
    assert "(continued)" not in pdf_to_text(data)
