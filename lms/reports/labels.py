"""Words for the report's keys (splits, their values, row columns, measures): one place for the
dashboard, the exports and the PDF."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SPLIT_LABELS = {
    "gender": _l("Gender"),
    "age_band": _l("Age band"),
    "size_class": _l("Company size class"),
    "startup": _l("Start-up"),
    "sme": _l("SME"),
    "topic": _l("Topic"),
    "delivery_mode": _l("Delivery mode"),
    "month": _l("Month"),
}

VALUE_LABELS = {
    "female": _l("Female"),
    "male": _l("Male"),
    "other": _l("Other"),
    "prefer_not_to_say": _l("Prefer not to say"),
    "not_stated": _l("Not stated"),
    "under_25": _l("Under 25"),
    "25_34": "25–34",
    "35_44": "35–44",
    "45_54": "45–54",
    "55_64": "55–64",
    "65_plus": _l("65 and over"),
    "micro": _l("Micro"),
    "small": _l("Small"),
    "medium": _l("Medium"),
    "large": _l("Large"),
    "unknown": _l("Unknown"),
    "no_company": _l("No company"),
    "startup": _l("Start-up"),
    "not_startup": _l("Not a start-up"),
    "sme": _l("SME"),
    "not_sme": _l("Not an SME"),
    "circular-economy": _l("Circular economy"),
    "resource-energy-efficiency": _l("Resource and energy efficiency"),
    "green-innovation": _l("Green innovation"),
    "sustainable-business-models": _l("Sustainable business models"),
    "climate-neutrality": _l("Climate neutrality"),
    "online": _l("Online"),
    "on-site": _l("On-site"),
    "blended": _l("Blended"),
}

COLUMN_LABELS = {
    "person": _l("Person"),
    "email": _l("Email"),
    "company": _l("Company"),
    "uic": _l("UIC"),
    "first_date": _l("Date"),
    "date": _l("Date"),
    "reference": _l("Reference"),
    "size_class": _l("Size class"),
    "sme": _l("SME"),
    "startup": _l("Start-up"),
    "people": _l("People"),
    "course_id": _l("Number"),
    "topic": _l("Topic"),
    "delivery_mode": _l("Delivery mode"),
    "facts": _l("Records"),
    "hours": _l("Hours"),
}

MEASURE_LABELS = {
    "people": _l("people (each counted once)"),
    "companies": _l("enterprises (each counted once)"),
    "courses": _l("distinct courses"),
    "events": _l("distinct events"),
    "count": _l("records"),
    "hours": _l("hours"),
}

#: Row columns whose values are keys to translate.
TRANSLATED_COLUMNS = frozenset({"size_class", "sme", "startup", "topic", "delivery_mode"})


def value_label(value: object) -> str:
    if value is None:
        return "—"
    return str(VALUE_LABELS.get(str(value), value))


def split_label(name: str) -> str:
    return str(SPLIT_LABELS.get(name, name))


def column_label(name: str) -> str:
    return str(COLUMN_LABELS.get(name, name))


def translated_values() -> dict[str, str]:
    """VALUE_LABELS resolved once in the current language (exports label many rows)."""
    return {key: str(label) for key, label in VALUE_LABELS.items()}


def display_row(columns: tuple[str, ...], row: tuple, labels: dict[str, str] | None = None) -> list:
    """A row with its key values (size class, topic...) in words."""
    if labels is None:
        return [
            value_label(v) if c in TRANSLATED_COLUMNS and v is not None else v
            for c, v in zip(columns, row, strict=True)
        ]
    return [
        labels.get(v, v) if c in TRANSLATED_COLUMNS and v is not None else v
        for c, v in zip(columns, row, strict=True)
    ]
