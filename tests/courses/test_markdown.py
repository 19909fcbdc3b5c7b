"""Trainer Markdown is sanitised: the XSS corpus of SECURITY.md never survives rendering."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from courses.markdown import render_markdown, video_embed_url

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<img src=/courses/media/1/a.png onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<svg onload="alert(1)"><circle r="10"/></svg>',
    '<svg><script>alert(1)</script></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<style>body{background:url(javascript:alert(1))}</style>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p onmouseover="alert(1)">hover</p>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<form action="https://evil.example"><input name=x></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<a href="https://ok.example" target="_blank">ok</a>',
    '"><svg onload=alert(1)>',
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    '<a href="vbscript:msgbox(1)">x</a>',
    "@[video](javascript:alert(1))",
    "@[video](https://evil.example/watch?v=dQw4w9WgXcQ)",
    "@[video](https://www.youtube.com/watch?v=dQw4w9WgXcQ\"onload=\"alert(1))",
]
FORBIDDEN_TAGS = {"script", "style", "object", "embed", "svg", "math", "form", "input", "meta",
                  "base", "link", "details", "video", "source", "template"}
SAFE_SCHEMES = ("http:", "https:", "mailto:", "/", "#")
VIDEO_HOSTS = ("https://www.youtube-nocookie.com/embed/", "https://player.vimeo.com/video/")


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def dangerous_parts(html: str) -> list[str]:
    """Every tag or attribute in `html` that could run script or load from elsewhere."""
    collector = TagCollector()
    collector.feed(html)
    problems = []
    for tag, attrs in collector.tags:
        if tag in FORBIDDEN_TAGS:
            problems.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                problems.append(f"{tag}[{name}]")
            if name in ("href", "src") and not value.startswith(SAFE_SCHEMES):
                problems.append(f"{tag}[{name}={value}]")
            if tag == "iframe" and name == "src" and not value.startswith(VIDEO_HOSTS):
                problems.append(f"iframe to {value}")
            if tag == "img" and name == "src" and not value.startswith("/courses/media/"):
                problems.append(f"img from {value}")
    return problems


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_corpus_is_neutralised(payload):
    html = render_markdown(f"Before\n\n{payload}\n\nAfter")
    assert dangerous_parts(html) == [], html
    html = html.lower()
    assert "before" in html  # unclosed dangerous tags may swallow what follows them


def test_allowed_markdown_features_survive():
    source = (
        "## Heading\n\nSome **bold** and *italic* text with a [link](https://example.org).\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```python\nprint('hi')\n```\n\n"
        "A footnote[^1].\n\n[^1]: The note.\n\n"
        '!!! tip "Try this"\n    Switch it off.\n'
    )
    html = render_markdown(source)
    assert "<h2>Heading</h2>" in html and "<strong>bold</strong>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">link</a>' in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "<pre><code>print(&#39;hi&#39;)" in html or "<pre><code>print('hi')" in html
    assert 'class="footnote"' in html and 'id="fn:1"' in html
    assert '<div class="admonition tip">' in html and "Try this" in html


def test_images_only_from_own_media():
    html = render_markdown(
        "![a](https://tracker.example/pixel.png) ![b](/courses/media/7/b.png) "
        "![c](../images/c.svg) ![d](/courses/media/../../etc/passwd)",
        resolve_image=lambda name: f"/courses/media/9/{name}" if name == "c.svg" else None,
    )
    assert "tracker.example" not in html
    assert 'src="/courses/media/7/b.png"' in html
    assert 'src="/courses/media/9/c.svg"' in html
    assert "passwd" not in html


@pytest.mark.parametrize(
    ("url", "embed"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871"),
        ("http://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
        ("https://www.youtube.com/watch?v=short", None),
        ("https://evil.example/embed/dQw4w9WgXcQ", None),
        ("https://vimeo.com/abc", None),
    ],
)
def test_video_providers_allow_list(url, embed):
    assert video_embed_url(url) == embed


def test_video_embed_is_rendered_without_scripts():
    html = render_markdown("Intro\n\n@[video](https://youtu.be/dQw4w9WgXcQ)\n\nOutro")
    assert '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in html
    assert "<script" not in html


def test_template_syntax_is_literal():
    html = render_markdown("{{7*7}} {% if 1 %}x{% endif %}")
    assert "{{7*7}}" in html and "49" not in html


def test_the_checker_itself_catches_what_it_must():
    assert sorted(dangerous_parts('<img src="x" onerror="a()">')) == [
        "img from x", "img[onerror]", "img[src=x]"]
    assert dangerous_parts('<a href="javascript:x()">') == ["a[href=javascript:x()]"]
    assert dangerous_parts("<svg><script></script></svg>") == ["<svg>", "<script>"]
