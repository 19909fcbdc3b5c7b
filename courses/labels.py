"""Human names, in both languages, for the courses plugin's codes (topics, modes, ...)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

TOPICS = {
    "circular-economy": _l("Circular economy"),
    "resource-energy-efficiency": _l("Resource and energy efficiency"),
    "green-innovation": _l("Green innovation"),
    "sustainable-business-models": _l("Sustainable business models"),
    "climate-neutrality": _l("Climate neutrality"),
}
DELIVERY_MODES = {"online": _l("Online"), "on-site": _l("On-site"), "blended": _l("Blended")}
LANGUAGES = {"bg": "Български", "en": "English"}
STATUSES = {"draft": _l("Draft"), "published": _l("Published"), "archived": _l("Archived")}
GREENCOMP = {
    "1.1": _l("Valuing sustainability"),
    "1.2": _l("Supporting fairness"),
    "1.3": _l("Promoting nature"),
    "2.1": _l("Systems thinking"),
    "2.2": _l("Critical thinking"),
    "2.3": _l("Problem framing"),
    "3.1": _l("Futures literacy"),
    "3.2": _l("Adaptability"),
    "3.3": _l("Exploratory thinking"),
    "4.1": _l("Political agency"),
    "4.2": _l("Collective action"),
    "4.3": _l("Individual initiative"),
}
GREENCOMP_AREAS = {
    "1": _l("Embodying sustainability values"),
    "2": _l("Embracing complexity in sustainability"),
    "3": _l("Envisioning sustainable futures"),
    "4": _l("Acting for sustainability"),
}


def template_globals() -> dict[str, object]:
    return {
        "topic_label": lambda code: TOPICS.get(code, code),
        "delivery_label": lambda code: DELIVERY_MODES.get(code, code),
        "language_label": lambda code: LANGUAGES.get(code, code),
        "status_label": lambda code: STATUSES.get(code, code),
        "greencomp_label": lambda code: GREENCOMP.get(code, code),
    }
