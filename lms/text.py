"""Text helpers shared by the core and the plugins."""

from __future__ import annotations

import re
import unicodedata

# The official Bulgarian transliteration (Transliteration Act 2009).
_BG_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sht",
    "ъ": "a", "ь": "y", "ю": "yu", "я": "ya",
}  # fmt: skip
_BG_LATIN_CASED = {**_BG_LATIN, **{k.upper(): v.capitalize() for k, v in _BG_LATIN.items()}}


def to_ascii(text: str, keep_case: bool = True) -> str:
    """Bulgarian Cyrillic transliterated, other accents dropped, anything else non-ASCII
    removed. Without `keep_case`, Cyrillic capitals become lower-case Latin."""
    if keep_case:
        latin = "".join(_BG_LATIN_CASED.get(ch, ch) for ch in text)
    else:
        latin = "".join(_BG_LATIN.get(ch.lower(), ch) for ch in text)
    return unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode("ascii")


def slugify(text: str, max_length: int = 80) -> str:
    """Lower-case letters, digits and single hyphens: a web address or a file key."""
    slug = re.sub(r"[^a-z0-9]+", "-", to_ascii((text or "").lower())).strip("-")
    return slug[:max_length].rstrip("-")
