"""Question texts as safe HTML: Markdown and HTML go through the same sanitiser as lessons."""

from __future__ import annotations

import functools

from markupsafe import Markup, escape

from courses.markdown import render_markdown


@functools.lru_cache(maxsize=4096)
def question_html(text: str, fmt: str) -> Markup:
    if fmt == "plain":
        return Markup("<p>{}</p>").format(escape(text))
    return Markup(render_markdown(text))  # noqa: S704 - sanitised by nh3
