"""Input fuzzing (SECURITY.md "Input"): every form and JSON endpoint, and every page that reads
its query string, fed generated bad input with Hypothesis.

The targets come from `app.url_map`, so a new route is fuzzed without a change here: every rule
with POST/PUT/PATCH/DELETE (form, multipart and JSON bodies) and every GET rule whose handler
reads a query parameter or takes a text path argument (slug, code, name). Each is sent as the
role that reaches its handler according to the role x route tables in tests/data/route_access/,
with the URL arguments of `route_arguments`, and with a valid CSRF token so that requests get
past CSRF into the parsing.

Which parameters a handler reads is observed, not listed: the test app's request class records
every key a view or form looks up in `request.args`/`request.form`/`request.files`. Values that
get past the first validation come from the real pages: every page the role can open is read
once, and each form's fields (select options, prefilled values, buttons) are kept by the
endpoint its action points to.

Each target gets a deterministic sweep (every parameter with a value of each kind of bad input)
and Hypothesis examples that mix valid and bad values, repeated and junk fields, JSON bodies
and non-JSON bodies. Properties, per request: never a 5xx; no stack trace, SQL or file path in
the body; when a request is rejected (a 4xx, a form shown again with errors, or a redirect
with an error message) the row count of every table is unchanged: nothing half-written. A GET
changes no count at all. Only `throttle_event`, the record of failed attempts, may grow.

Examples are derandomized (reproducible in CI); LMS_FUZZ_EXAMPLES raises their number for a
deeper run (`LMS_FUZZ_EXAMPLES=300 pytest tests/security/test_fuzz.py`), LMS_FUZZ_SHRINK=1
shrinks a failure to a minimal example (slow), LMS_FUZZ_STATS=1 (with -s) prints what each
route answered and which parameters it reads."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

import pytest
from flask import Flask, url_for
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import func, select
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from lms.extensions import db
from lms.sme import is_valid_uic
from tests.conftest import login, make_app

#: Hypothesis examples per write target (GET targets get a quarter); LMS_FUZZ_EXAMPLES raises it.
FORM_EXAMPLES = int(os.environ.get("LMS_FUZZ_EXAMPLES", "8"))
QUERY_EXAMPLES = max(3, FORM_EXAMPLES // 4)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Grows on purpose when a request is refused (failed logins, unknown certificate codes).
GROWS_ON_REJECTION = {"throttle_event"}
#: Downloads are fuzzed for their query strings but not read for forms.
BINARY_SUFFIXES = (".pdf", ".csv", ".xlsx", ".zip", ".json", ".jwt", ".gift")
PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
#: What an answer must never show (checked only when the request did not contain it).
INTERNALS = (
    "Traceback (most recent call last)",
    "[SQL:",
    "sqlalchemy.",
    "psycopg",
    "sqlite3.",
    "IntegrityError",
    "OperationalError",
    'File "/',
    "site-packages",
    PROJECT_ROOT,
)
ROUTE_TABLES = Path(__file__).resolve().parents[1] / "data" / "route_access"
ROLES = ("anonymous", "learner", "trainer", "coordinator", "admin")


# --- targets from the url_map and the role x route tables ----------------------------------


@dataclass(frozen=True)
class Target:
    endpoint: str
    method: str

    def __str__(self) -> str:
        return f"{self.endpoint}:{self.method}"


def load_table() -> dict[tuple[str, str], dict[str, int]]:
    """(endpoint, method) -> the expected status per role, from tests/data/route_access/."""
    table = {}
    for path in sorted(ROUTE_TABLES.glob("*.csv")):
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
        for row in csv.DictReader(lines):
            table[(row["endpoint"], row["method"])] = {role: int(row[role]) for role in ROLES}
    return table


def _targets() -> list[Target]:
    targets = set()
    for rule in make_app("sqlite://").url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            targets.add(Target(rule.endpoint, method))
    return sorted(targets, key=lambda t: (t.endpoint, t.method))


TARGETS = _targets()
WRITE_TARGETS = [t for t in TARGETS if t.method in WRITE_METHODS]


def reaching_role(target: Target, table: dict[tuple[str, str], dict[str, int]]) -> str:
    """The least privileged role whose request reaches the handler (not stopped by a role
    check or the login redirect), by the statuses the route tables expect."""
    expected = table.get((target.endpoint, target.method))
    if expected is None:  # no row yet: the access matrix test fails for it; fuzz as admin
        return "admin"

    def rank(role: str) -> int:
        status = expected[role]
        if status in (200, 400, 409, 413):
            return 0
        if status == 302 and role != "anonymous":
            return 1
        if status not in (302, 403, 404):
            return 2
        return 3 if status == 404 else 4

    return min(ROLES, key=lambda role: (rank(role), ROLES.index(role)))


def target_rule(app: Flask, target: Target) -> Rule:
    return next(
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint == target.endpoint and target.method in rule.methods
    )


def build_url(app: Flask, rule: Rule, arguments: dict[str, Any]) -> str | None:
    if any(name not in arguments for name in rule.arguments):
        return None
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})


def match_endpoint(app: Flask, path: str, method: str) -> str | None:
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method=method)
    except HTTPException:
        return None
    return endpoint


# --- which parameters a handler reads ------------------------------------------------------

_READ_KEYS: set[str] = set()
READS_ALL = "*"


def _read(key: object) -> None:
    if isinstance(key, str):
        _READ_KEYS.add(key)


class RecordingMultiDict(ImmutableMultiDict):
    """request.args/form/files that remember every key looked up (iterating reads "*")."""

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        _read(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002, ANN001, ANN201
        _read(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002, ANN001, ANN201
        _read(key)
        return super().getlist(key, type)

    def __contains__(self, key) -> bool:  # noqa: ANN001
        _read(key)
        return super().__contains__(key)

    def __iter__(self):  # noqa: ANN204
        _READ_KEYS.add(READS_ALL)
        return super().__iter__()

    def items(self, multi=False):  # noqa: ANN001, ANN201
        _READ_KEYS.add(READS_ALL)
        return super().items(multi)

    def to_dict(self, flat=True):  # noqa: ANN001, ANN201
        _READ_KEYS.add(READS_ALL)
        return super().to_dict(flat)


@contextmanager
def reading_keys() -> Iterator[set[str]]:
    _READ_KEYS.clear()
    found: set[str] = set()
    try:
        yield found
    finally:
        found.update(key for key in _READ_KEYS if not str(key).endswith("csrf_token"))
        _READ_KEYS.clear()


# --- the real forms and links of the pages -------------------------------------------------


@dataclass
class FormField:
    kind: str  # an <input> type, "select", "textarea" or "submit"
    values: list[str] = field(default_factory=list)  # what the page offers or prefills
    default: str | None = None  # what a browser sends untouched (None: nothing)
    required: bool = False
    attrs: dict[str, str] = field(default_factory=dict)  # min, max, accept


@dataclass
class HtmlForm:
    method: str
    action: str
    fields: dict[str, FormField] = field(default_factory=dict)


class PageParser(HTMLParser):
    """A page's forms with their fields (as a browser would submit them) and its links'
    query parameters."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.links: list[str] = []
        self._form: HtmlForm | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(
        self,
        name: str | None,
        kind: str,
        value: str | None,
        sent: bool = False,
        attrs: dict[str, str | None] | None = None,
    ) -> None:
        if not name or self._form is None:
            return
        entry = self._form.fields.setdefault(name, FormField(kind))
        if value is not None and value not in entry.values:
            entry.values.append(value)
        if sent and entry.default is None:
            entry.default = value
        attrs = attrs or {}
        entry.required = entry.required or "required" in attrs
        entry.attrs.update({k: v for k, v in attrs.items() if k in ("min", "max", "accept") and v})

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._form = HtmlForm((a.get("method") or "get").upper(), a.get("action") or "")
            self.forms.append(self._form)
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            value = a.get("value")
            if kind in ("checkbox", "radio"):
                self._add(a.get("name"), kind, value or "on", sent="checked" in a, attrs=a)
            else:
                self._add(a.get("name"), kind, value or "", sent=kind != "file", attrs=a)
        elif tag == "button" and a.get("name"):
            self._add(a.get("name"), "submit", a.get("value") or "")
        elif tag == "select":
            self._select = a.get("name")
            self._add(self._select, "select", None, attrs=a)
        elif tag == "option" and self._select:
            self._add(self._select, "select", a.get("value") or "", sent="selected" in a)
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._add(self._textarea, "textarea", None, attrs=a)
        elif tag == "a" and (a.get("href") or "").startswith(("/", "?")):
            self.links.append(a["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select and self._form is not None:
            entry = self._form.fields[self._select]
            if entry.default is None and entry.values:  # a browser sends the first option
                entry.default = entry.values[0]
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            entry = self._form.fields[self._textarea]
            if entry.default is None:
                entry.default = "".join(entry.values).lstrip("\r\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None and data.strip():
            self._add(self._textarea, "textarea", data)


@dataclass
class Page:
    """What pages hold, by the (endpoint, method) their forms and links point to: the
    fields (with the values links give a GET endpoint's keys), the addresses, and the pages
    holding them."""

    fields: dict[tuple[str, str], dict[str, FormField]] = field(default_factory=dict)
    paths: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    sources: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    status: int = 200

    def add(self, key: tuple[str, str], path: str, fields: dict[str, FormField], source: str):  # noqa: ANN201
        merge_fields(self.fields.setdefault(key, {}), fields)
        if path not in self.paths.setdefault(key, []):
            self.paths[key].append(path)
        self.sources.setdefault(key, set()).add(source)

    def merge(self, other: Page) -> None:
        for key, fields in other.fields.items():
            for path in other.paths[key]:
                for source in other.sources[key]:
                    self.add(key, path, fields, source)


_CRAWLS: dict[str, Page] = {}


def crawl(app: Flask, client, role: str, arguments: dict[str, Any], fresh: bool = False) -> Page:
    """Read every HTML page the role can open, once per run (the names and kinds of fields do
    not change between seeds; values that hold ids are read again per test, see `fields_of`).
    `fresh`: read them again, without keeping the result (a form that shows only once some
    state exists, see `STATE_FOR`)."""
    if role in _CRAWLS and not fresh:
        return _CRAWLS[role]
    result = Page()
    missed = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        if rule.rule.endswith(BINARY_SUFFIXES):
            continue
        url = build_url(app, rule, arguments)
        page = read_page(app, client, url, rule.endpoint) if url else None
        if page is None or page.status == 404:
            missed.append(rule.endpoint)
        else:
            result.merge(page)
    # Pages whose URL arguments name nothing (an indicator's name): through a link instead.
    for endpoint in missed:
        for path in result.paths.get((endpoint, "GET"), [])[:1]:
            result.merge(read_page(app, client, path, path))
    if not fresh:
        _CRAWLS[role] = result
    return result


def read_page(app: Flask, client, url: str, source: str) -> Page:
    """The forms and links of the page at `url`, which `source` names (an endpoint whose
    URL the route arguments give, or the path itself)."""
    response = client.get(url)
    found = Page(status=response.status_code)
    if response.status_code != 200 or response.mimetype != "text/html":
        return found
    parser = PageParser()
    parser.feed(response.get_data(as_text=True))
    for form in parser.forms:
        action = urlsplit(form.action).path or urlsplit(url).path
        endpoint = match_endpoint(app, action, form.method)
        if endpoint:
            found.add((endpoint, form.method), action, form.fields, source)
    for link in parser.links:
        parts = urlsplit(link)
        path = parts.path or urlsplit(url).path
        endpoint = match_endpoint(app, path, "GET")
        if endpoint and not parts.netloc:
            fields = {k: FormField("link", [v]) for k, v in parse_qsl(parts.query)}
            found.add((endpoint, "GET"), path, fields, source)
    return found


def merge_fields(into: dict[str, FormField], fields: dict[str, FormField]) -> None:
    for name, found in fields.items():
        entry = into.setdefault(name, FormField(found.kind))
        entry.values.extend(v for v in found.values if v not in entry.values)
        if entry.default is None:
            entry.default = found.default
        entry.required = entry.required or found.required
        entry.attrs = {**found.attrs, **entry.attrs}


def fields_of(
    app: Flask, client, target: Target, role: str, arguments: dict[str, Any]
) -> tuple[dict[str, FormField], list[str]]:
    """The target's fields and the addresses its forms post to, with this seed's values and
    ids: its forms read again from the pages that hold them."""
    key = (target.endpoint, target.method)
    crawled = crawl(app, client, role, arguments, fresh=target.endpoint in STATE_FOR)
    fields: dict[str, FormField] = {}
    paths: list[str] = []
    for source in sorted(crawled.sources.get(key, ())):  # an endpoint, or a page's path
        rule = next((r for r in app.url_map.iter_rules() if r.endpoint == source), None)
        url = build_url(app, rule, arguments) if rule else source
        page = read_page(app, client, url or "/", source)
        merge_fields(fields, page.fields.get(key, {}))
        paths += [path for path in page.paths.get(key, []) if path not in paths]
    merge_fields(fields, {k: v for k, v in crawled.fields.get(key, {}).items() if k not in fields})
    fields = {name: found for name, found in fields.items() if not name.endswith("csrf_token")}
    return fields, paths


# --- generated values ----------------------------------------------------------------------

HUNDRED_KB = 100_000
HUGE_NUMBERS = [
    str(2**31),
    str(2**63),
    str(2**64 + 1),
    str(10**30),
    "-" + str(2**64),
    "9" * 400,
    "1e309",
    "-1e309",
    "1e999999",
    "1e-400",
    "NaN",
    "inf",
    "-Infinity",
    "0x10",
    "1_000",
    "１２",
    "٣",
    "²",
    "12.5",
    "1,5",
]
NEGATIVE_NUMBERS = ["-1", "-0", "-2147483649", "-99999999999", "-0.01"]
BAD_DATES = [
    "2024-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "-0001-01-01",
    "2024-13-01",
    "2024-1-1",
    "31.12.2024",
    "2024-02-29T25:61",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "9999-12-31T23:59:59",
    "2024-06-01T12:00:00+99:00",
    "1970-01-01T00:00",
    "now",
]
NUL_STRINGS = ["\x00", "a\x00b", "\x00" * 8, "x\x00.png", "2030-01-01\x00"]
ODD_UNICODE = [
    "\u202eevil\u202c",
    "\u200b",
    "e\u0301",
    "\U0001d518\U0001d52b\U0001d526",
    "\U0001f600" * 8,
    "\ufeffBOM",
    "\uffff\ufffe",
    "\u2028\u2029",
    "\r\n\t",
    " ",
    "İı ß ǅ",
    "ＡＢＣ",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "{{7*7}}",
    "' OR 1=1--",
    "../../etc/passwd",
    "%s%n%x",
    "javascript:alert(1)",
    "//evil.example",
]
#: Sent as raw bytes in urlencoded bodies and query strings (never valid UTF-8).
NON_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xfe\xff\x00a", b"abc\x80", b"\xc0\xaf"]
JUNK_NAMES = [
    "id",
    "user_id",
    "is_admin",
    "roles",
    "active",
    "score",
    "passed",
    "owner_id",
    "company_id",
    "status",
    "__proto__",
    "a\x00b",
    "x" * 300,
    "q-99999999999999999999",
    "ids",
    "page",
    "sort",
]


def long_text(size: int) -> st.SearchStrategy[str]:
    return st.sampled_from(["a", "я", "\x00", "9", "<", " "]).map(lambda c: c * size)


#: The kinds of bad input, each its own branch so that every kind is drawn often.
BAD_KINDS: dict[str, st.SearchStrategy[Any]] = {
    "huge": st.sampled_from(HUGE_NUMBERS) | st.integers(min_value=2**31, max_value=2**90).map(str),
    "negative": st.sampled_from(NEGATIVE_NUMBERS)
    | st.integers(min_value=-(2**90), max_value=-1).map(str),
    "date": st.sampled_from(BAD_DATES),
    "nul": st.sampled_from(NUL_STRINGS),
    "unicode": st.sampled_from(ODD_UNICODE),
    "text": st.text(max_size=30) | st.floats().map(repr),
    "empty": st.just(""),
    "bytes": st.sampled_from(NON_UTF8) | st.binary(min_size=1, max_size=12),
}
#: Each field alone gets each of these (the others valid): NUL (PostgreSQL refuses it in
#: text), beyond 64 bits and beyond a float (no column takes it), negative, beyond what a
#: Decimal can round, a digit that int() refuses though str.isdigit() accepts it, and 100 kB
#: (longer than any column).
FIELD_SWEEP: list[Any] = ["a\x00b", "9" * 400, "-1", "1e999999", "²", "x" * HUNDRED_KB]
#: Then every field at once gets each of these.
ALL_FIELDS_SWEEP: list[Any] = ["\x00", "9999-12-31T23:59", "²", b"\xff\xfe", ""]
#: One representative per kind, for the sweeps of query parameters.
SWEEP_VALUES: list[Any] = [
    "²",
    str(2**64 + 1),
    str(2**63),
    "-1",
    "2024-02-30",
    "9999-12-31T23:59",
    "a\x00b",
    "\u202e\U0001f600\u200b",
    b"\xff\xfe",
    "",
]
bad_body_value = st.one_of(*BAD_KINDS.values(), long_text(HUNDRED_KB))
#: In a URL at most 1 kB: servers refuse longer request lines (gunicorn: 414 beyond 4 kB).
bad_url_value = st.one_of(*BAD_KINDS.values(), long_text(1000))
url_text = st.one_of(*(v for k, v in BAD_KINDS.items() if k != "bytes"), long_text(1000))

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**90), max_value=2**90),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(HUGE_NUMBERS + NUL_STRINGS + BAD_DATES),
    st.just("a" * HUNDRED_KB),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
RAW_JSON_BODIES = [
    b"",
    b"{",
    b"[" * 50_000,
    b'{"a":' * 50_000,
    b"\xff\xfe{}",
    b"null",
    b"1e999999",
    b'"\\ud800"',
    b"9" * 5000,
    b'{"body_md": "\\u0000"}',
    b"{'single': 'quotes'}",
    b"NaN",
]
#: Every write route gets these; Hypothesis draws from all of RAW_JSON_BODIES.
JSON_SWEEP = [b"[" * 50_000, b'{"a":' * 50_000, b"\xff\xfe{", b"[1, null]"]
#: A 1x1 PNG, for file inputs that accept images.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
FILE_CONTENTS = [
    PNG,
    b"",
    b"\x00" * 64,
    b"%PDF-1.4\n%junk",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
    b"PK\x03\x04" + b"\x00" * 26,
    b"email,name\nx@example.org,X\n",
    b"::Q:: 2+2? {=4 ~5}",
    b"\xff\xfe\x00\x00",
    "Име,Фирма\n".encode("cp1251"),
]
FILE_NAMES = ["x.png", "../../x.png", "a.png.html", "", "x\x00.png", "é.gift", "CON", "a" * 300]
PLAUSIBLE_BY_KIND = {
    "email": "fuzz@example.org",
    "number": "5",
    "date": "2030-06-01",
    "datetime-local": "2030-06-01T10:00",
    "time": "10:00",
    "url": "https://example.org/x",
    "password": "correct-horse-battery",
}


def _valid_uic() -> str:
    """A valid UIC that the fixtures do not use (they count up from the lowest)."""
    numbers = (f"{n}{c}" for n in range(99_999_999, 20_000_000, -1) for c in range(10))
    return next(uic for uic in numbers if is_valid_uic(uic))


#: Values that pass a field's own check where the page leaves a required field empty.
PLAUSIBLE_BY_NAME = {"uic": _valid_uic(), "slug": "fuzz-course", "email": "fuzz@example.org"}


def first_valid(name: str, found: FormField) -> Any:
    """What a browser sends for the field untouched, or a likely value where the page leaves
    a required field empty (None: nothing is sent)."""
    if found.kind == "file":
        image = "image" in found.attrs.get("accept", "")
        return (PNG, "figure.png") if image else (b"email,name\nx@example.org,X\n", "staff.csv")
    if found.default or (found.default == "" and not found.required):
        return found.default
    if found.default is None and not found.required:
        return None
    if found.kind == "number":
        return found.attrs.get("min", "5")
    short = name.rsplit("-", 1)[-1]
    return PLAUSIBLE_BY_NAME.get(short) or PLAUSIBLE_BY_KIND.get(found.kind, "Fuzz text")


def valid_value(name: str, found: FormField) -> st.SearchStrategy[Any]:
    """A value that passes the first checks: what the page offers, else a likely one."""
    offered = [v for v in found.values if v]
    first = first_valid(name, found)
    if found.kind == "file":
        return st.just(first)
    return st.sampled_from(
        offered + ([first] if first is not None and first not in offered else []) or [""]
    )


@st.composite
def form_pairs(draw: Callable, fields: dict[str, FormField]) -> list[tuple[str, Any]]:
    """Name/value pairs: most fields valid and some bad (how many varies per example),
    missing or repeated, plus junk fields."""
    bad_share = draw(st.sampled_from([0.1, 0.25, 0.5, 1.0]))
    pairs: list[tuple[str, Any]] = []
    for name, found in fields.items():
        roll = draw(st.integers(0, 99)) / 100
        if found.kind == "file":
            if roll < 0.9:
                content = draw(st.sampled_from(FILE_CONTENTS))
                pairs.append((name, (content, draw(st.sampled_from(FILE_NAMES)))))
            continue
        if roll >= bad_share:
            pairs.append((name, draw(valid_value(name, found))))
            continue
        how = draw(st.sampled_from(["missing", "bad", "bad", "bad", "repeated"]))
        if how == "bad":
            pairs.append((name, draw(bad_body_value)))
        elif how == "repeated":
            values = st.lists(valid_value(name, found) | bad_body_value, min_size=2, max_size=3)
            pairs.extend((name, value) for value in draw(values))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(JUNK_NAMES) | st.text(min_size=1, max_size=10))
        pairs.append((name, draw(bad_body_value)))
    return pairs


@st.composite
def json_body(draw: Callable, fields: dict[str, FormField]) -> bytes:
    kind = draw(st.sampled_from(["fields", "fields", "any", "raw"]))
    if kind == "raw":
        return draw(st.sampled_from(RAW_JSON_BODIES))
    if kind == "any":
        return json.dumps(draw(json_value)).encode()
    names = sorted(fields) or ["body_md", "title"]
    valid = {n: valid_value(n, found) for n, found in fields.items() if found.kind != "file"}
    value = draw(
        st.dictionaries(
            st.sampled_from(names),
            json_value | st.one_of(*valid.values()) if valid else json_value,
            max_size=len(names),
        )
    )
    return json.dumps(value).encode()


# --- requests and checks -------------------------------------------------------------------


def urlencode_pairs(pairs: list[tuple[str, Any]]) -> str:
    def enc(value: Any) -> str:
        return quote_plus(value if isinstance(value, bytes) else str(value).encode())

    return "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)


def multipart(pairs: list[tuple[str, Any]]) -> MultiDict:
    data: MultiDict = MultiDict()
    for name, value in pairs:
        if isinstance(value, tuple):
            content, filename = value
            data.add(name, (io.BytesIO(content), filename))
        elif isinstance(value, bytes):  # multipart parts are text here: invalid bytes replaced
            data.add(name, value.decode("utf-8", "replace"))
        else:
            data.add(name, value)
    return data


BOUNDARY = "fuzz-boundary-7f3a"


def nameless_parts(token: str | None, pairs: list[tuple[str, str]]) -> bytes:
    """A multipart body as only a hand-made client sends it: besides the fields, a part and
    a file without a name, and a part whose name breaks its header."""
    parts = [(f'form-data; name="{name}"', value) for name, value in pairs]
    if token:
        parts.insert(0, ('form-data; name="csrf_token"', token))
    parts += [
        ("form-data", "no name"),
        ('form-data; filename="x.txt"', "a file without a name"),
        ('form-data; name="a\r\nb"', "broken header"),
    ]
    chunks = [
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n"
        for disposition, value in parts
    ]
    return ("".join(chunks) + f"--{BOUNDARY}--\r\n").encode()


def row_counts() -> dict[str, int]:
    tables = db.metadata.sorted_tables
    statement = select(
        *[select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables]
    )
    db.session.rollback()
    row = db.session.execute(statement).one()
    db.session.rollback()
    return dict(zip([t.name for t in tables], row, strict=True))


class Fuzzer:
    """A client logged in as the target's role (again whenever a request ended its session),
    with a new client address per request (the login throttle then measures the fuzzer, not
    the app) and the session's CSRF token."""

    def __init__(self, app: Flask, role: str) -> None:
        self.app, self.role = app, role
        self.client = app.test_client()
        self.requests = 0
        self.outcomes: dict[str, int] = {}  # status (or "form errors") -> count, for reports
        self.ensure_login()

    def environ(self) -> dict[str, str]:
        self.requests += 1
        n = self.requests
        return {"REMOTE_ADDR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}

    def ensure_login(self) -> None:
        if self.role == "anonymous":
            return
        with self.client.session_transaction() as session:
            logged_in = "_user_id" in session
        if not logged_in:
            login(self.client, f"{self.role}@example.org", environ_base=self.environ())

    def csrf(self) -> str:
        """The token a page of this session would carry (Flask-WTF's signed session token)."""
        with self.client.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = session["csrf_token"] = os.urandom(20).hex()
        secret = self.app.config.get("WTF_CSRF_SECRET_KEY") or self.app.config["SECRET_KEY"]
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)

    def error_flashes(self) -> list[str]:
        with self.client.session_transaction() as session:
            flashes = session.pop("_flashes", [])
        return [message for category, message in flashes if category == "error"]

    def send(self, method: str, url: str, **kwargs: Any):
        return self.client.open(url, method=method, environ_base=self.environ(), **kwargs)

    def check(self, target: Target, method: str, url: str, sent: Any, **kwargs: Any):  # noqa: ANN201
        """Send one request and check the properties."""
        text = repr(sent)
        where = f"{method} {url[:300]} {text[:800]}{'...' if len(text) > 800 else ''}"
        before = row_counts()
        response = self.send(method, url, **kwargs)
        textual = response.mimetype.startswith("text/") or response.mimetype.endswith("json")
        body = response.get_data(as_text=True) if textual else ""
        response.close()  # as a server does: a streamed download's file is closed
        assert response.status_code < 500, f"{target}: {response.status_code} for {where}"
        for marker in INTERNALS:
            if marker not in text + url:
                assert marker not in body, f"{target}: {marker!r} in the answer to {where}"
        rejected = bool(self.error_flashes()) or response.status_code >= 400
        if response.mimetype == "text/html" and not rejected:
            rejected = "field-error" in body or "error-summary" in body
        outcome = (
            "form errors" if rejected and response.status_code < 400 else str(response.status_code)
        )
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if method == "GET" or rejected:
            after = row_counts()
            changed = {
                name: (before[name], after[name])
                for name in before
                if before[name] != after[name] and name not in GROWS_ON_REJECTION
            }
            assert not changed, (
                f"{target}: {response.status_code}, rows changed {changed} by {where}"
            )
        return response


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        # Drawing happens between requests (st.data), which Hypothesis would time as slow
        # generation on a busy machine.
        suppress_health_check=[HealthCheck.too_slow],
        # Shrinking a failure costs minutes here; the failing request is printed whole.
        phases=(Phase.explicit, Phase.generate)
        + ((Phase.shrink,) if os.environ.get("LMS_FUZZ_SHRINK") else ()),
    )


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by the apps of this module (each test makes a new app,
    which would compile every template again)."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = MemoryBytecodeCache()


@pytest.fixture
def fuzz_app(app: Flask) -> Flask:
    """The test app, recording which request parameters each handler reads."""
    app.request_class = type(
        "RecordingRequest", (app.request_class,), {"parameter_storage_class": RecordingMultiDict}
    )
    app.jinja_env.bytecode_cache = _TEMPLATES
    return app


# --- state some write routes need before they read a form --------------------------------


def _pending_erasure(users: dict, arguments: dict[str, Any]) -> dict[str, Any]:
    """A new person who has asked for erasure: the admin's erase/cancel forms apply to them.
    A new one for every request, since erasing or cancelling uses the request up."""
    import secrets

    from lms import privacy
    from lms.models import User

    person = User(
        email=f"erase-{secrets.token_hex(6)}@example.org", name="To Erase", password_hash="-"
    )
    db.session.add(person)
    db.session.flush()
    privacy.request_erasure(person)
    db.session.commit()
    return {"user_id": person.id}


def _attended_event(users: dict, arguments: dict[str, Any]) -> dict[str, Any]:
    """The event (`event_id`) has started and the learner was there: they may rate it."""
    from datetime import timedelta

    from courses.models import Attendance, LiveEvent
    from lms.models import utcnow

    event = db.session.get(LiveEvent, arguments["event_id"])
    event.starts_at = utcnow() - timedelta(hours=2)
    learner = users["learner"]
    db.session.add(Attendance(event_id=event.id, user_id=learner.id, name=learner.name))
    db.session.commit()
    return {}


def _essay_waiting(users: dict, arguments: dict[str, Any]) -> dict[str, Any]:
    """The course (`slug`) has a final assessment with an essay the learner has submitted:
    the grading queue shows its grade form."""
    from courses.models import Course
    from quizzes import services as quiz_services

    course = db.session.get(Course, arguments["course_id"])
    made = quiz_services.import_gift(course, "::essay::Why does repair keep value? {}")
    quiz = quiz_services.set_quiz(course, None, {"title": "Final", "pass_mark": 50}, made)
    attempt = quiz_services.start_attempt(quiz, users["learner"])
    quiz_services.submit_attempt(attempt, {made[0].id: {"text": "Because it does."}})
    db.session.commit()
    return {}


#: Write routes that refuse before reading their form unless something exists first (a
#: pending request, an attended event, an essay to grade): made before they are fuzzed. Each
#: returns the URL arguments it changes.
STATE_FOR: dict[str, Callable[[dict, dict[str, Any]], dict[str, Any]]] = {
    "privacy.admin_erase": _pending_erasure,
    "privacy.admin_cancel": _pending_erasure,
    "courses.event_feedback": _attended_event,
    "quizzes.grading": _essay_waiting,
}
#: Of those, the routes whose success uses the state up: made again before every request.
STATE_FOR_EACH_REQUEST = {"privacy.admin_erase", "privacy.admin_cancel"}


# --- write routes: form, multipart and JSON bodies -----------------------------------------


@pytest.mark.parametrize("target", WRITE_TARGETS, ids=str)
def test_fuzz_form_and_json_bodies(target: Target, fuzz_app: Flask, users, route_arguments):
    app = fuzz_app
    role = reaching_role(target, load_table())
    arguments = dict(route_arguments)
    if target.endpoint in STATE_FOR:
        arguments.update(STATE_FOR[target.endpoint](users, arguments))
    fuzzer = Fuzzer(app, role)
    address = [build_url(app, target_rule(app, target), arguments)]
    assert address[0], f"{target}: a URL argument is missing from route_arguments"
    fields, paths = fields_of(app, fuzzer.client, target, role, arguments)
    # An empty form first, which tells the keys the handler reads; where the URL arguments
    # name nothing there (an indicator's name), the address of a form on the pages instead.
    for candidate in [address[0], *paths]:
        with reading_keys() as read:
            empty = {"csrf_token": fuzzer.csrf()}
            status = fuzzer.check(target, target.method, candidate, {}, data=empty).status_code
        if status != 404:
            address[0] = candidate
            break
    for name in sorted(read - set(fields) - {READS_ALL}):
        fields[name] = FormField("read")
    has_file = any(found.kind == "file" for found in fields.values())

    def send(sent: Any, **kwargs: Any) -> None:
        fuzzer.ensure_login()
        if target.endpoint in STATE_FOR_EACH_REQUEST:
            arguments.update(STATE_FOR[target.endpoint](users, arguments))
            address[0] = build_url(app, target_rule(app, target), arguments)
        response = fuzzer.check(target, target.method, address[0], sent, **kwargs)
        # A saved change of the address (a course's slug) moves the target with it.
        moved = urlsplit(response.location or "").path
        if moved and match_endpoint(app, moved, target.method) == target.endpoint:
            address[0] = moved

    def send_form(pairs: list[tuple[str, Any]], encoding: str, accept: str) -> None:
        pairs = [("csrf_token", fuzzer.csrf()), *pairs]
        if encoding == "urlencoded":
            body: Any = urlencode_pairs(pairs)
            content_type = "application/x-www-form-urlencoded"
        else:
            body, content_type = multipart(pairs), "multipart/form-data"
        send(pairs, data=body, content_type=content_type, headers={"Accept": accept})

    # The sweeps: every field alone with each kind of bad value while the others hold what
    # the page offers (so that the request gets past the other checks), every field at once,
    # then the form as a browser sends it (last: it may use up a one-off action).
    encoding = "multipart" if has_file else "urlencoded"
    baseline = {n: v for n, found in fields.items() if (v := first_valid(n, found)) is not None}
    for name, found in fields.items():
        if found.kind == "file":
            continue
        others = [(other, value) for other, value in baseline.items() if other != name]
        for value in FIELD_SWEEP:
            send_form([*others, (name, value)], encoding, "text/html")
    for value in ALL_FIELDS_SWEEP:
        pairs = [(name, value) for name, found in fields.items() if found.kind != "file"]
        send_form(pairs, encoding, "application/json")
    # Bodies that are not what they claim: JSON nested too deep, not JSON, not an object.
    for body in JSON_SWEEP:
        headers = {"Accept": "application/json", "X-CSRFToken": fuzzer.csrf()}
        send(body, data=body, content_type="application/json", headers=headers)
    # Hand-made multipart bodies: parts without a name, with and without the CSRF token.
    for token in (fuzzer.csrf(), None):
        body = nameless_parts(token, [(n, v) for n, v in baseline.items() if isinstance(v, str)])
        send(body, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    send_form(list(baseline.items()), encoding, "text/html")

    @fuzz_settings(FORM_EXAMPLES)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        accept = data.draw(st.sampled_from(["text/html", "text/html", "application/json"]))
        encodings = ["multipart"] if has_file else ["urlencoded", "urlencoded", "multipart"]
        encoding = data.draw(st.sampled_from([*encodings, "json"]))
        if encoding != "json":
            send_form(data.draw(form_pairs(fields)), encoding, accept)
            return
        body = data.draw(json_body(fields))
        headers = {"Accept": accept, "X-CSRFToken": fuzzer.csrf()}
        send(body, data=body, content_type="application/json", headers=headers)

    run()
    if os.environ.get("LMS_FUZZ_STATS"):
        print(f"\n{target} as {role}: {fuzzer.outcomes}")


# --- read routes: query strings and text path arguments ------------------------------------

TEXT_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_query_strings(role: str, fuzz_app: Flask, users, route_arguments):
    """Every GET route, as the role that reaches it (one seed per role, since a GET changes
    no row, which is checked after each request): the query parameters its handler reads,
    swept with each kind of bad value and then generated, and its text path arguments."""
    app = fuzz_app
    table = load_table()
    fuzzer = Fuzzer(app, role)
    crawled = crawl(app, fuzzer.client, role, route_arguments)
    failures = []
    for target in TARGETS:
        if target.method != "GET" or reaching_role(target, table) != role:
            continue
        try:
            fuzz_read_route(app, fuzzer, target, route_arguments, crawled)
        except Exception as error:  # noqa: BLE001 - every route's failure is reported
            failures.append(str(error)[:2000])
    assert not failures, "\n\n".join(failures)


def fuzz_read_route(app: Flask, fuzzer: Fuzzer, target: Target, arguments, crawled) -> None:  # noqa: ANN001
    rule = target_rule(app, target)
    url = build_url(app, rule, arguments)
    assert url, f"{target}: a URL argument is missing from route_arguments"
    for candidate in [url, *crawled.paths.get((target.endpoint, "GET"), [])]:
        with reading_keys() as read:
            status = fuzzer.check(target, "GET", candidate, {}).status_code
        if status != 404:
            url = candidate
            break
    offered = crawled.fields.get((target.endpoint, "GET"), {})
    keys = sorted((read | set(offered)) - {READS_ALL})
    if READS_ALL in read:
        keys += ["page", "sort", "q", "filter"]
    text_arguments = [
        name
        for converter, name in TEXT_ARGUMENT.findall(rule.rule)
        if converter in ("", "string", "path")
    ]
    if os.environ.get("LMS_FUZZ_STATS"):
        print(f"\n{target} as {fuzzer.role}: keys {keys}, path {text_arguments}")
    if not keys and not text_arguments:
        return  # reads nothing that a visitor chooses but the ids of the URL

    for key in keys:
        for value in SWEEP_VALUES:
            fuzzer.ensure_login()
            fuzzer.check(target, "GET", f"{url}?{urlencode_pairs([(key, value)])}", {key: value})

    def valid(key: str) -> st.SearchStrategy[str]:
        found = offered.get(key)
        return valid_value(key, found) if found else st.sampled_from(["1", "x"])

    @fuzz_settings(QUERY_EXAMPLES)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        fuzzer.ensure_login()
        changed = dict(arguments)
        for name in text_arguments:
            if data.draw(st.booleans()):
                changed[name] = data.draw(url_text.filter(lambda s: s not in ("", ".", "..")))
        pairs = []
        for key in keys:
            how = data.draw(st.sampled_from(["valid", "bad", "bad", "missing", "repeated"]))
            if how == "valid":
                pairs.append((key, data.draw(valid(key))))
            elif how == "bad":
                pairs.append((key, data.draw(bad_url_value)))
            elif how == "repeated":
                pairs += [(key, data.draw(bad_url_value | valid(key))) for _ in range(2)]
        if data.draw(st.booleans()):
            pairs.append((data.draw(st.sampled_from(JUNK_NAMES)), data.draw(bad_url_value)))
        address = (build_url(app, rule, changed) if changed != arguments else None) or url
        fuzzer.check(target, "GET", f"{address}?{urlencode_pairs(pairs)}", pairs)

    run()


def test_the_fuzzer_reaches_the_forms(fuzz_app: Flask, users, route_arguments):
    """The fuzzer finds the fields of the forms (else it would only send junk): a sample of
    write routes whose forms live on other pages, as their roles."""
    app = fuzz_app
    table = load_table()
    expected = {
        "courses.manage_new": {"title", "slug", "topic"},
        "admin.company_new": {"name", "uic"},
        "quizzes.attempt": {"action"},
        "courses.manage_module_add": {"module-title", "module-summary"},
    }
    for endpoint, names in expected.items():
        target = Target(endpoint, "POST")
        role = reaching_role(target, table)
        fuzzer = Fuzzer(app, role)
        fields, _ = fields_of(app, fuzzer.client, target, role, route_arguments)
        assert names <= set(fields), f"{endpoint} as {role}: {sorted(fields)}"
    # With the state they need, the routes that refuse without it show their forms.
    prepared = {
        "privacy.admin_erase": {"confirm"},
        "courses.event_feedback": {"satisfaction", "comment"},
        "quizzes.grading": {"answer_id", "grade", "comment"},
    }
    for endpoint, names in prepared.items():
        target = Target(endpoint, "POST")
        role = reaching_role(target, table)
        arguments = {**route_arguments, **STATE_FOR[endpoint](users, route_arguments)}
        fuzzer = Fuzzer(app, role)
        fields, _ = fields_of(app, fuzzer.client, target, role, arguments)
        assert names <= set(fields), f"{endpoint} as {role}: {sorted(fields)}"
    with reading_keys() as read:
        Fuzzer(app, "admin").send("GET", "/admin/users")
    assert {"q", "role", "page"} <= read

    # The values it starts from pass the form's checks: a new course is really created.
    target = Target("courses.manage_new", "POST")
    fuzzer = Fuzzer(app, "trainer")
    fields, _ = fields_of(app, fuzzer.client, target, "trainer", route_arguments)
    baseline = [(n, v) for n, found in fields.items() if (v := first_valid(n, found)) is not None]
    before = row_counts()["courses_course"]
    body = urlencode_pairs([("csrf_token", fuzzer.csrf()), *baseline])
    response = fuzzer.send(
        "POST", "/courses/manage/new", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert row_counts()["courses_course"] == before + 1
