"""Confined HTML-to-PDF rendering with xhtml2pdf, for every document the product prints
(certificates, attendance sheets, the grant report).

SECURITY.md item 5: only the project's own templates reach xhtml2pdf, rendered by a private
Jinja environment that escapes every value, and xhtml2pdf may read nothing but the asset
folders it is given (plus the ``data:`` URIs made for this render) and never the network:

* a ``link_callback`` resolves only bare file names inside the asset folders; anything else
  (URLs, absolute paths, parent steps, foreign ``data:`` URIs) is pointed at a file that does
  not exist. (An *empty* answer would not do: xhtml2pdf then falls back to the URI as written.)
* where the installed xhtml2pdf has a resource policy, it is set to the same folders with no
  network at all, as a second wall.

The embedded DejaVu fonts (with Cyrillic) live in ``FONTS_DIR``, shipped with the project, so
output never depends on the fonts a machine happens to have. Templates name them by file name:
``@font-face { font-family: "Sans"; src: url("DejaVuSans.ttf"); }``.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from xhtml2pdf import pisa

try:  # a resource policy exists in hardened xhtml2pdf releases only
    from xhtml2pdf.config.resources import ResourceAccessPolicy
except ImportError:  # pragma: no cover - depends on the installed xhtml2pdf
    ResourceAccessPolicy = None  # type: ignore[assignment,misc]

FONTS_DIR = Path(__file__).resolve().parent / "static" / "lms" / "pdf"
#: Where refused resources are pointed: a file that never exists.
REFUSED = str(FONTS_DIR / "refused.invalid")


class RenderError(RuntimeError):
    """xhtml2pdf reported errors: the document was not made."""


def link_callback(
    assets: Sequence[Path], allowed_data_uris: Iterable[str] = ()
) -> Callable[..., str]:
    """xhtml2pdf's resolver for one render: bare file names in `assets` (searched in order)
    and the given ``data:`` URIs; everything else is refused."""
    folders = [Path(folder).resolve() for folder in assets]
    allowed = frozenset(allowed_data_uris)

    def resolve(uri: object, rel: object = None) -> str:
        if not isinstance(uri, str) or not uri or "\x00" in uri:
            return REFUSED
        if uri.startswith("data:"):
            return uri if uri in allowed else REFUSED
        # A bare relative file name: no scheme, no absolute path, no drive, no parent step.
        if ":" in uri or "\\" in uri or uri.startswith("/") or "?" in uri or "#" in uri:
            return REFUSED
        for folder in folders:
            candidate = (folder / uri).resolve()
            if candidate.parent == folder and candidate.is_file():
                return str(candidate)
        return REFUSED

    return resolve


def html_to_pdf(
    html: str,
    *,
    assets: Sequence[Path] = (FONTS_DIR,),
    allowed_data_uris: Iterable[str] = (),
    meta: Mapping[str, str] | None = None,
) -> bytes:
    """The PDF of `html`; xhtml2pdf may read `assets` and `allowed_data_uris`, no more."""
    folders = [Path(folder).resolve() for folder in assets]
    options: dict[str, Any] = {}
    if ResourceAccessPolicy is not None:
        options["resource_policy"] = ResourceAccessPolicy.server(
            folders[0],
            extra_roots=tuple(folders[1:]),
            allow_remote=False,
            allowed_hosts=frozenset(),
        )
    out = io.BytesIO()
    status = pisa.CreatePDF(
        html,
        dest=out,
        encoding="utf-8",
        link_callback=link_callback(folders, allowed_data_uris),
        context_meta=dict(meta or {}),
        **options,
    )
    if status.err:
        raise RenderError(f"the PDF could not be rendered ({status.err} errors)")
    return out.getvalue()


#: Bidirectional overrides and isolates: a name holding them would print reading differently
#: from what it is (as on certificates, each becomes a space).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _printable(value: Any) -> Any:
    if isinstance(value, str) and _BIDI_CONTROLS.search(value):
        cleaned = _BIDI_CONTROLS.sub(" ", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned  # noqa: S704 - was markup
    return value


@functools.cache
def template_environment(folder: Path) -> jinja2.Environment:
    """A private Jinja environment for one folder of PDF templates: nothing else is loaded,
    every value is escaped (bidirectional controls removed) and an undefined name is an
    error."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        finalize=_printable,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_pdf(
    folder: Path,
    template: str,
    context: Mapping[str, Any],
    *,
    assets: Sequence[Path] = (FONTS_DIR,),
    allowed_data_uris: Iterable[str] = (),
    meta: Mapping[str, str] | None = None,
) -> bytes:
    """Render `template` from `folder` with `context` and print it (see `html_to_pdf`)."""
    html = template_environment(Path(folder)).get_template(template).render(**context)
    return html_to_pdf(html, assets=assets, allowed_data_uris=allowed_data_uris, meta=meta)
