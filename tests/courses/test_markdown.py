"""Trainer Markdown: the features that survive sanitising and the video embeds. The XSS corpus
(tests/data/payloads/markdown_xss.txt) is checked in tests/security/test_content.py."""

from __future__ import annotations

import pytest

from courses.markdown import render_markdown, video_embed_url


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
