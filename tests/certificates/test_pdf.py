"""The certificate PDF: page format, the eleven EU micro-credential elements in both languages,
Cyrillic text, the QR code, long outcomes and stable output. The confinement of xhtml2pdf (no
network, no file outside the assets folder, every value escaped) and very long names are in
tests/security/test_certificate_security.py, which uses the helpers below."""

from __future__ import annotations

import io
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


# --- long values ----------------------------------------------------------------------------


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
