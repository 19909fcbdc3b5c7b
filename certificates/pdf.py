"""The certificate as a PDF: an A4 landscape page drawn by xhtml2pdf from the project's template.

Pure: no database, no Flask. :func:`render_certificate_pdf` takes the certificate's frozen
*snapshot* (a plain dict, stored with the certificate at issuance, so re-rendering later gives
the same document) and returns the PDF bytes.

The snapshot's keys (every string is shown as text, never interpreted):

``learner_name``
    The learner's name as it is to appear (clipped to ``MAX_NAME_LENGTH`` = 200 characters with
    an ellipsis; the issuing service refuses longer names anyway).
``company_name``
    The learner's company (clipped at 120 characters), or ``None``.
``course_title``, ``course_version``, ``course_language``
    The course's title (clipped at 200 characters), the published version the learner
    completed and its language code (``"bg"``, ``"en"``; another code is printed as it is).
``issued_on``, ``valid_until``
    ISO dates (``"2025-03-14"``); ``valid_until`` may be ``None`` (no expiry, not printed).
``workload_hours``
    ``{"contact": 6, "self_study": 10, "assessment": 1, "total": 17}`` in hours (numbers; a part
    that is 0 or missing is left out; ``total`` defaults to the sum of the parts).
``learning_outcomes``
    List of strings (at most ``MAX_OUTCOMES`` = 16 of at most ``MAX_OUTCOME_LENGTH`` = 300
    characters are printed, which fit on two pages; the issuing service should refuse more).
    Those that do not fit the first page's panel continue under it, across the full width.
``greencomp``
    List of ``{"code": "2.1", "name": "Systems thinking"}``, the GreenComp competences the
    course addresses.
``assessment_type``, ``assessment_result``
    E.g. ``"Online final quiz, scored on the server"`` and ``"Passed, 86 %"``.
``delivery_mode``
    ``"online"``, ``"on-site"`` or ``"blended"`` (translated); another value is printed as it is.
``level``
    ``"not applicable"`` (translated) unless a level is stated.
``quality_assurance``
    Text, e.g. the cluster's review of the course and its assessment.
``awarding_body``
    ``{"name": ..., "partners": [...], "funding": ...}`` (or just the name as a string);
    :func:`issuer_defaults` gives the ICT Cluster Burgas values in either language.
``country_region``
    E.g. ``"Bulgaria, Burgas (BG341)"`` (:func:`issuer_defaults` again).
``code``
    The verification code, printed under the QR code with the verification address.

Every text is made one line of printable characters (control characters, bidirectional
overrides and lone surrogates become spaces) and clipped with an ellipsis, so no value can
break the page; the name and the title get smaller type as they get longer. Missing keys and
values of the wrong type are tolerated (printed empty or as text), never an exception.

The PDF's SHA-256 is *not* in the PDF (it is the hash of the PDF); the code and the
verification address are.

Every mandatory element of an EU micro-credential (Council Recommendation 2022/C 243/02) is on
the page under its own label (``ELEMENTS``), in the learner's language (``"bg"`` or ``"en"``).

Confinement (SECURITY.md, item 5): the HTML is rendered from ``certificate.html`` by a private
Jinja environment that loads templates from that one folder and escapes every value, so no
snapshot string can become markup or a template expression. xhtml2pdf then gets a
``link_callback`` that resolves only files inside ``static/certificates/pdf/`` and the ``data:``
URI of the QR code made for this render; everything else is pointed at a file that does not
exist, so nothing is fetched or read. (An *empty* answer would not do: xhtml2pdf then falls
back to the URI as written.) Where the installed xhtml2pdf has a resource policy, it is set to
the same folder, with no network at all, as a second wall.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
import segno

from lms import pdf as lms_pdf

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates" / "certificates" / "pdf"
ASSETS_DIR = PACKAGE_DIR / "static" / "certificates" / "pdf"
TEMPLATE_NAME = "certificate.html"

#: Longest learner name printed in full; a longer one is cut here and ends in an ellipsis.
MAX_NAME_LENGTH = 200
#: The course title, the company name and the verification address.
MAX_TITLE_LENGTH = 200
MAX_COMPANY_LENGTH = 120
MAX_URL_LENGTH = 120
#: Other free texts (assessment and quality-assurance descriptions).
MAX_TEXT_LENGTH = 400
#: Learning outcomes: how many, and how long each. At most this much fits on two pages.
MAX_OUTCOMES = 16
MAX_OUTCOME_LENGTH = 300
MAX_COMPETENCES = 12
#: A QR code holds at most ~2,900 bytes; a verification address is far shorter.
MAX_QR_URL_LENGTH = 1000
#: Where a refused resource is pointed: inside the assets folder, and never a file.
REFUSED = lms_pdf.REFUSED
#: The folders the renderer may read: the certificate's images, then the project's fonts.
ASSETS = (ASSETS_DIR, lms_pdf.FONTS_DIR)

#: The eleven mandatory elements of an EU micro-credential, as keys of ``LABELS``.
ELEMENTS = (
    "learner",
    "title",
    "country_region",
    "awarding_body",
    "issued_on",
    "learning_outcomes",
    "workload",
    "level",
    "assessment_type",
    "delivery_mode",
    "quality_assurance",
)

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "document": "Certificate of competence",
        "certifies": "This is to certify that",
        "completed": "has successfully completed the course",
        "learner": "Learner",
        "title": "Title",
        "country_region": "Country/region of the issuer",
        "awarding_body": "Awarding body",
        "issued_on": "Date of issuing",
        "learning_outcomes": "Learning outcomes",
        "continued": "continued",
        "workload": "Notional workload",
        "level": "Level",
        "assessment_type": "Type of assessment",
        "delivery_mode": "Form of participation",
        "quality_assurance": "Type of quality assurance",
        "valid_until": "Valid until",
        "result": "Result",
        "greencomp": "GreenComp sustainability competences",
        "micro_credential": "EU micro-credential",
        "recommendation": "Council Recommendation 2022/C 243/02",
        "version": "version",
        "verify": "Verify at",
        "code": "Verification code",
        "signature": "For the awarding body",
        "in_partnership": "in partnership with",
        "hours": "h",
        "total": "total",
        "contact": "contact",
        "self_study": "self-study",
        "assessment": "assessment",
        "online": "online",
        "on-site": "on-site",
        "blended": "blended (online and on-site)",
        "not applicable": "not applicable",
        "initiative": "ICT Greening Up Initiative",
    },
    "bg": {
        "document": "Удостоверение за компетентност",
        "certifies": "С настоящото се удостоверява, че",
        "completed": "успешно завърши курса",
        "learner": "Обучаем",
        "title": "Наименование",
        "country_region": "Държава/регион на издателя",
        "awarding_body": "Издаваща организация",
        "issued_on": "Дата на издаване",
        "learning_outcomes": "Резултати от обучението",
        "continued": "продължение",
        "workload": "Учебна натовареност",
        "level": "Ниво",
        "assessment_type": "Вид оценяване",
        "delivery_mode": "Форма на участие",
        "quality_assurance": "Вид осигуряване на качеството",
        "valid_until": "Валидно до",
        "result": "Резултат",
        "greencomp": "Компетентности за устойчивост по GreenComp",
        "micro_credential": "Европейска микроквалификация",
        "recommendation": "Препоръка на Съвета 2022/C 243/02",
        "version": "версия",
        "verify": "Проверка на",
        "code": "Код за проверка",
        "signature": "За издаващата организация",
        "in_partnership": "в партньорство с",
        "hours": "ч",
        "total": "общо",
        "contact": "контактни",
        "self_study": "самостоятелна работа",
        "assessment": "оценяване",
        "online": "онлайн",
        "on-site": "присъствено",
        "blended": "смесено (онлайн и присъствено)",
        "not applicable": "неприложимо",
        "initiative": "Инициатива ICT Greening Up",
    },
}

#: The forms of participation that are translated; another value is printed as it is.
DELIVERY_MODES = ("online", "on-site", "blended")

LANGUAGE_NAMES = {
    "en": {"bg": "Bulgarian", "en": "English"},
    "bg": {"bg": "български език", "en": "английски език"},
}

MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "bg": [
        "януари",
        "февруари",
        "март",
        "април",
        "май",
        "юни",
        "юли",
        "август",
        "септември",
        "октомври",
        "ноември",
        "декември",
    ],
}

_ISSUER = {
    "en": {
        "awarding_body": {
            "name": "ICT Cluster Burgas",
            "partners": ["ProspectiM Association", "ICT-Norway"],
            "funding": (
                "ICT Greening Up Initiative, financed by the Norwegian Financial Mechanism "
                "(Norway Grants) 2014-2021, programme “Business Development, Innovation and SMEs”"
            ),
        },
        "country_region": "Bulgaria, Burgas (BG341)",
    },
    "bg": {
        "awarding_body": {
            "name": "ICT Cluster Burgas",
            "partners": ["ProspectiM Association", "ICT-Norway"],
            "funding": (
                "Инициатива ICT Greening Up, финансирана от Норвежкия финансов механизъм "
                "2014-2021, програма „Развитие на бизнеса, иновации и МСП“"
            ),
        },
        "country_region": "България, Бургас (BG341)",
    },
}

#: Control characters, line and paragraph separators, bidirectional overrides (which could
#: make a name read differently from what it is), lone surrogates (not encodable) and
#: non-characters: each becomes a space.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_SPACE = re.compile(r"\s+")


def issuer_defaults(language: str) -> dict[str, Any]:
    """The ``awarding_body`` and ``country_region`` snapshot values of ICT Cluster Burgas."""
    values = _ISSUER[_language(language)]
    return {
        "awarding_body": {
            **values["awarding_body"],
            "partners": [*values["awarding_body"]["partners"]],
        },
        "country_region": values["country_region"],
    }


def render_certificate_pdf(
    snapshot: Mapping[str, Any], *, language: str, verify_url: str, qr_url: str
) -> bytes:
    """The certificate PDF for ``snapshot`` in ``language`` ("bg" or "en"; another is "en").

    ``verify_url`` is printed (the address a reader types: the public verification page),
    ``qr_url`` is encoded in the QR code (normally that page with the code filled in).
    """
    qr_url = str(qr_url)
    if not qr_url or len(qr_url) > MAX_QR_URL_LENGTH:
        raise ValueError(f"qr_url must be 1 to {MAX_QR_URL_LENGTH} characters")
    qr = qr_data_uri(qr_url)
    context = certificate_context(snapshot, language=language, verify_url=verify_url)
    html = render_html(context, qr=qr)
    # Document properties are passed in, not written as <title>: a <title> is never drawn, so
    # xhtml2pdf would check it against its default font (no Cyrillic) and warn.
    meta = {
        "title": context["document_title"],
        "author": context["awarding_body"],
        "subject": context["title"],
    }
    return html_to_pdf(html, allowed_data_uris={qr}, meta=meta)


def qr_data_uri(url: str) -> str:
    """The QR code of ``url`` as a PNG ``data:`` URI, made in memory."""
    return segno.make(url, error="m", micro=False).png_data_uri(scale=8, border=0, dark="#10301f")


def render_html(context: Mapping[str, Any], *, qr: str) -> str:
    """The certificate's HTML from the project's own template, every value escaped."""
    return _environment().get_template(TEMPLATE_NAME).render(**context, qr=qr)


def html_to_pdf(
    html: str, *, allowed_data_uris: set[str] | frozenset[str] = frozenset(), meta=None
) -> bytes:
    """xhtml2pdf, confined (see `lms.pdf`): it may read the certificate assets, the
    project's fonts and ``allowed_data_uris``, no more."""
    return lms_pdf.html_to_pdf(html, assets=ASSETS, allowed_data_uris=allowed_data_uris, meta=meta)


def _environment() -> jinja2.Environment:
    """A private environment: only the PDF template folder, every value escaped."""
    return lms_pdf.template_environment(TEMPLATE_DIR)


def link_callback(allowed_data_uris: set[str] | frozenset[str]) -> Callable[..., str]:
    """xhtml2pdf's resolver for this render: the assets and our own data URIs only."""
    return lms_pdf.link_callback(ASSETS, allowed_data_uris)


def _language(language: str) -> str:
    return language if language in LABELS else "en"


def _text(value: object, limit: int = MAX_TEXT_LENGTH) -> str:
    """One line of printable text, cut at ``limit`` characters with an ellipsis."""
    if value is None:
        return ""
    text = _SPACE.sub(" ", _CONTROL.sub(" ", str(value))).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _list(value: object) -> list[Any]:
    """A list from a list or tuple, one item from a lone string or mapping, else nothing."""
    if isinstance(value, str | Mapping):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    return []


def _number(value: object, language: str) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _text(value, 20)
    if not math.isfinite(number) or abs(number) >= 100_000:
        return _text(value, 20)
    text = f"{number:.1f}".rstrip("0").rstrip(".") if number % 1 else str(int(number))
    return text.replace(".", ",") if language == "bg" else text


def _date(value: object, language: str) -> str:
    if not value:
        return ""
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return _text(value, 40)
    month = MONTHS[language][day.month - 1]
    return f"{day.day} {month} {day.year}" + (" г." if language == "bg" else "")


def _workload(hours: object, language: str) -> dict[str, str]:
    labels = LABELS[language]
    hours = hours if isinstance(hours, Mapping) else {}
    parts, sum_ = [], 0.0
    for key in ("contact", "self_study", "assessment"):
        value = hours.get(key)
        try:
            amount = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if amount > 0:
            sum_ += amount
            parts.append(f"{_number(amount, language)} {labels['hours']} {labels[key]}")
    total = hours.get("total")
    total_text = _number(total if total is not None else sum_, language)
    return {"total": f"{total_text} {labels['hours']}", "parts": ", ".join(parts)}


def _size(text: str, steps: tuple[tuple[int, float], ...], smallest: float) -> float:
    """A font size that keeps ``text`` to a line or two: the first step it fits in."""
    for length, size in steps:
        if len(text) <= length:
            return size
    return smallest


def _lines(text: str, size: float, width: float, em: float) -> int:
    """About how many lines ``text`` takes at ``size`` pt in ``width`` pt (``em``: mean glyph
    width in ems)."""
    return max(1, math.ceil(len(text) * size * em / width)) if text else 0


#: Height (pt) of the two-column panel under the course title when the name, the title and
#: the company caption take a line each and there are no competences.
PANEL_HEIGHT = 190


def _outcomes_on_first_page(outcomes: list[str], size: float, *, taken: float) -> int:
    """How many outcomes fit in the panel of the first page (at least one); the rest follow
    under it, across the page's full width."""
    budget = PANEL_HEIGHT + 30 * 1.2 + 18 * 1.25 + 9 - taken
    used, count = 0.0, 0
    for outcome in outcomes:
        used += _lines(outcome, size, 400, 0.55) * size * 1.3 + 2
        if count and used > budget:
            break
        count += 1
    return count


def certificate_context(
    snapshot: Mapping[str, Any], *, language: str, verify_url: str
) -> dict[str, Any]:
    """What the template shows: the snapshot's values cut to size, translated and formatted."""
    language = _language(language)
    labels = LABELS[language]
    name = _text(snapshot.get("learner_name"), MAX_NAME_LENGTH)
    title = _text(snapshot.get("course_title"), MAX_TITLE_LENGTH)
    body = snapshot.get("awarding_body") or {}
    if not isinstance(body, Mapping):
        body = {"name": body}
    partners = [_text(p, 120) for p in _list(body.get("partners"))[:5] if _text(p, 120)]
    outcomes = [
        _text(o, MAX_OUTCOME_LENGTH)
        for o in _list(snapshot.get("learning_outcomes"))[:MAX_OUTCOMES]
        if _text(o, MAX_OUTCOME_LENGTH)
    ]
    competences = []
    for item in _list(snapshot.get("greencomp"))[:MAX_COMPETENCES]:
        if isinstance(item, Mapping):
            competences.append(
                {"code": _text(item.get("code"), 10), "name": _text(item.get("name"), 80)}
            )
    delivery = _text(snapshot.get("delivery_mode"), 60)
    level = _text(snapshot.get("level"), 200) or "not applicable"
    course_language = _text(snapshot.get("course_language"), 20)
    outcome_chars = sum(len(o) for o in outcomes)
    outcome_size = 8.5 if len(outcomes) <= 6 and outcome_chars <= 650 else 7.5
    name_size = _size(name, ((30, 30), (45, 24), (70, 19), (110, 15)), 12)
    title_size = _size(title, ((55, 18), (90, 15), (160, 12)), 10)
    company = _text(snapshot.get("company_name"), MAX_COMPANY_LENGTH)
    first = _outcomes_on_first_page(
        outcomes,
        outcome_size,
        taken=_lines(name, name_size, 574, 0.62) * name_size * 1.2
        + _lines(title, title_size, 574, 0.62) * title_size * 1.25
        + _lines(company, 7, 754, 0.55) * 9
        + (18 + 17 * math.ceil(len(competences) / 3) if competences else 0),
    )
    return {
        "lang": language,
        "l": labels,
        "name": name,
        "name_size": name_size,
        "company": company,
        "title": title,
        "title_size": title_size,
        "version": _text(snapshot.get("course_version"), 20),
        "course_language": LANGUAGE_NAMES[language].get(course_language, course_language),
        "issued_on": _date(snapshot.get("issued_on"), language),
        "valid_until": _date(snapshot.get("valid_until"), language),
        "workload": _workload(snapshot.get("workload_hours"), language),
        "outcomes": outcomes[:first],
        "more_outcomes": outcomes[first:],
        "outcome_size": outcome_size,
        "competences": competences,
        "assessment_type": _text(snapshot.get("assessment_type")),
        "assessment_result": _text(snapshot.get("assessment_result"), 100),
        "delivery_mode": labels[delivery.lower()]
        if delivery.lower() in DELIVERY_MODES
        else delivery,
        "level": labels["not applicable"] if level.lower() == "not applicable" else level,
        "quality_assurance": _text(snapshot.get("quality_assurance")),
        "awarding_body": _text(body.get("name"), 200),
        "partners": partners,
        "funding": _text(body.get("funding")),
        "country_region": _text(snapshot.get("country_region"), 200),
        "code": _text(snapshot.get("code"), 100),
        "verify_url": _text(verify_url, MAX_URL_LENGTH),
        "document_title": f"{labels['document']} – {name[:80]} – {title[:80]}",
    }
