"""Trainer Markdown to safe HTML, once, at save time.

Python-Markdown passes raw HTML and `javascript:` links through, so its output goes through nh3
with an allow-list. Images may only come from the course's own media; videos only from the
allowed providers, written on a line of their own as `@[video](URL)`, and rendered by us as a
privacy-friendly iframe (no scripts of ours, none inline).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import markdown as md
import nh3
from markupsafe import escape

EXTENSIONS = ["tables", "fenced_code", "footnotes", "admonition", "sane_lists"]
EXTENSION_CONFIGS = {"footnotes": {"BACKLINK_TITLE": ""}}

TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "s",
    "del",
    "mark",
    "sub",
    "sup",
    "small",
    "blockquote",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "code",
    "pre",
    "kbd",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "a",
    "img",
    "div",
    "span",
    "abbr",
    "figure",
    "figcaption",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "td": {"align", "colspan", "rowspan"},
    "abbr": {"title"},
    "ol": {"start"},
    "sup": {"id"},
    "li": {"id"},
}
ADMONITIONS = {
    "note",
    "tip",
    "hint",
    "important",
    "warning",
    "caution",
    "danger",
    "attention",
    "error",
    "info",
    "example",
}
ALLOWED_CLASSES = {
    "div": {"admonition", "footnote", *ADMONITIONS},
    "p": {"admonition-title"},
    "a": {"footnote-ref", "footnote-backref"},
}
MEDIA_PREFIX = "/courses/media/"
FOOTNOTE_ID = re.compile(r"^fn(ref)?:[\w.-]{1,40}$")
PACKAGE_IMAGE = re.compile(r"^(?:\.\./|\./)*images/([\w.-]{1,120})$")
VIDEO_LINE = re.compile(r"^@\[video\]\((\S{1,300})\)[ \t]*$", re.MULTILINE)
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
VIMEO_ID = re.compile(r"^\d{1,12}$")
PLACEHOLDER = "LMSVIDEOEMBED{}"


def video_embed_url(url: str) -> str | None:
    """The embeddable URL for a YouTube (no-cookie) or Vimeo link, or None if not allowed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https":
        return None
    host = (parts.hostname or "").lower()
    path = parts.path.strip("/")
    video_id = None
    if host in ("www.youtube.com", "youtube.com", "m.youtube.com"):
        if path == "watch":
            video_id = (parse_qs(parts.query).get("v") or [""])[0]
        elif path.startswith(("embed/", "shorts/", "live/")):
            video_id = path.split("/", 1)[1]
    elif host == "youtu.be":
        video_id = path
    elif host == "www.youtube-nocookie.com" and path.startswith("embed/"):
        video_id = path.split("/", 1)[1]
    if video_id is not None:
        if not YOUTUBE_ID.match(video_id):
            return None
        return f"https://www.youtube-nocookie.com/embed/{video_id}"
    if host in ("vimeo.com", "www.vimeo.com") and VIMEO_ID.match(path):
        return f"https://player.vimeo.com/video/{path}"
    if host == "player.vimeo.com" and path.startswith("video/") and VIMEO_ID.match(path[6:]):
        return f"https://player.vimeo.com/{path}"
    return None


def _video_html(embed_url: str, title: str) -> str:
    return (
        f'<div class="video"><iframe src="{escape(embed_url)}" title="{escape(title)}" loading="lazy" '
        'allow="fullscreen; picture-in-picture" referrerpolicy="strict-origin-when-cross-origin" '
        'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups">'
        "</iframe></div>"
    )


def render_markdown(
    source: str,
    resolve_image: Callable[[str], str | None] | None = None,
    video_title: str = "Video",
) -> str:
    """Markdown to sanitised HTML. `resolve_image(name)` maps a package image name
    (`images/name.svg`) to the URL of the stored media, or None if there is no such image."""
    videos: list[str] = []

    def take_video(match: re.Match[str]) -> str:
        embed = video_embed_url(match.group(1))
        if embed is None:
            return f"<{match.group(1)}>"  # shown as a plain link
        videos.append(_video_html(embed, video_title))
        return "\n" + PLACEHOLDER.format(len(videos) - 1) + "\n"

    source = VIDEO_LINE.sub(take_video, source.replace("\x00", ""))
    html = md.markdown(
        source, extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html"
    )

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "id":
            return value if FOOTNOTE_ID.match(value) else None
        if tag == "img" and attribute == "src":
            if value.startswith(MEDIA_PREFIX) and ".." not in value:
                return value
            found = PACKAGE_IMAGE.match(value)
            if found and resolve_image is not None:
                return resolve_image(found.group(1))
            return None
        return value

    clean = nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags={
            "script",
            "style",
            "iframe",
            "object",
            "embed",
            "template",
            "svg",
            "math",
            "noscript",
            "textarea",
            "select",
            "form",
        },
        attributes=ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes={"http", "https", "mailto"},
        allowed_classes=ALLOWED_CLASSES,
        link_rel="noopener noreferrer nofollow",
    )
    for index, video in enumerate(videos):
        clean = clean.replace(f"<p>{PLACEHOLDER.format(index)}</p>", video)
    return clean


def package_image_names(source: str) -> set[str]:
    """The names of package images (`images/x.png`) that a lesson refers to."""
    names = set()
    for target in re.findall(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)", source):
        found = PACKAGE_IMAGE.match(target)
        if found:
            names.add(found.group(1))
    return names
