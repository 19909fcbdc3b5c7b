"""The whole UI exists in Bulgarian and English: every string in the code and templates is in
each package's catalogue, translated, with the same placeholders, and compiled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from lms.extensions import db
from lms.models import User
from tests.conftest import login, post_form

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    p
    for p in ("lms", "courses", "quizzes", "certificates")
    if (ROOT / p / "translations" / "bg").is_dir()
]
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalogue(package: str):
    with open(ROOT / package / "translations/bg/LC_MESSAGES/messages.po", "rb") as handle:
        return read_po(handle)


def source_messages(package: str) -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / package, METHOD_MAP, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_core_has_a_bulgarian_catalogue():
    assert "lms" in PACKAGES


@pytest.mark.parametrize("package", PACKAGES)
def test_every_ui_string_is_in_the_catalogue(package):
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(package) if m.id}
    missing = source_messages(package) - known
    assert not missing, f"run `make translations` and translate: {sorted(missing)[:10]}"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_string_is_translated_with_the_same_placeholders(package):
    problems = []
    for message in catalogue(package):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(ids[0])):
                problems.append(f"placeholders differ: {ids[0]!r}")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("package", PACKAGES)
def test_compiled_catalogue_matches_the_source(package):
    def key(value):  # plural entries come as lists from one reader, tuples from the other
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(ROOT / package / "translations/bg/LC_MESSAGES/messages.mo", "rb") as handle:
        compiled = {key(m.id): key(m.string) for m in read_mo(handle) if m.id}
    source = {key(m.id): key(m.string) for m in catalogue(package) if m.id and not m.fuzzy}
    assert compiled == source, "run `make translations` to compile the catalogue"


def test_pages_render_in_bulgarian(client):
    client.get("/")
    post_form(client, "/account/language", {"language": "bg", "next": "/login"})
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="bg">' in html
    assert "Вход" in html
    html = client.get("/").get_data(as_text=True)
    assert "Норвежки финансов механизъм" in html


def test_plugin_catalogues_are_loaded(client):
    html = client.get("/courses/", headers={"Accept-Language": "bg"}).get_data(as_text=True)
    assert ">Курсове<" in html  # the menu item and title of the courses plugin


def test_browser_language_is_used_for_visitors(client):
    html = client.get("/", headers={"Accept-Language": "bg-BG,bg;q=0.9"}).get_data(as_text=True)
    assert '<html lang="bg">' in html
    html = client.get("/", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_logged_in_user_language_is_remembered(app, client, create_user):
    user = create_user("ana@example.org", language="en")
    login(client, "ana@example.org")
    response = post_form(client, "/account/language", {"language": "bg", "next": "/account/"})
    assert response.headers["Location"] == "/account/"
    assert db.session.get(User, user.id).language == "bg"
    fresh = app.test_client()
    login(fresh, "ana@example.org")
    assert '<html lang="bg">' in fresh.get("/").get_data(as_text=True)


def test_language_switch_refuses_unknown_language_and_foreign_redirect(client):
    client.get("/")
    response = post_form(client, "/account/language", {"language": "xx", "next": "//evil.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
