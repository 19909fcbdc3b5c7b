"""Course packages: a course as a folder that trainers can keep in git, or a zip of it.

Layout (the demo packages in `courses/demo/` are complete examples)::

    <slug>/course.yaml                  course metadata (COURSE_KEYS; pass_mark and final_quiz
                                        belong to the quizzes plugin and are kept in Package.meta)
    <slug>/final-assessment.gift        files of other plugins, kept as text in Package.files
    <slug>/images/<name>.svg            images, referenced from lessons as ../images/<name>.svg
    <slug>/NN-module-key/module.yaml    title, summary, quiz (stored as Module.settings["quiz"])
    <slug>/NN-module-key/quiz.gift      kept as text in PackageModule.files
    <slug>/NN-module-key/NN-lesson-key.md   front matter (title, minutes) between --- lines,
                                            then the lesson in Markdown

Import reads everything into memory (it never writes to disk), checks it all and collects every
problem as a `PackageError(file, line, message)`. Only a package without any error changes the
database: a new slug makes a new course, a known slug updates that course, matching modules and
lessons by their key (the name without the NN- number) so that learners keep their progress on
lessons whose text did not change.

Other plugins take part through two collector signals of `courses.signals`:

* `get-package-importers` (sender None) answers objects with ``validate(package) -> list of
  PackageError`` (called for every import, before anything changes) and ``apply(package,
  course) -> None`` (called after modules and lessons are in place, before publication; each
  PackageModule then has its ``module_id``). Optional attributes: ``course_keys`` and
  ``module_keys`` (further keys the plugin owns in course.yaml or module.yaml) and
  ``file_patterns`` (fnmatch patterns, relative to the package root, of further text files it
  reads, e.g. ``"*/quiz.aiken"``).
* `get-package-exporters` (sender the Course) answers callables ``f(course, folder)`` that add
  their files after the course's own files are written (they may also rewrite course.yaml, e.g.
  to add ``final_quiz``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext as _
from sqlalchemy import select

from courses import services
from courses.markdown import package_image_names
from courses.models import Course, CourseStatus, Lesson, Media, Module
from courses.signals import get_package_exporters, get_package_importers
from lms.extensions import db
from lms.models import User
from lms.services import ServiceError
from lms.signals import collect
from lms.text import slugify

# Limits of what an import reads (a package is text and a few images).
MAX_ENTRIES = 2000
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_ARCHIVE_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed size of one zip entry
RATIO_CHECK_FROM = 1024 * 1024  # small files may compress well without being a bomb
MAX_YAML_NODES = 10_000
MAX_YAML_DEPTH = 20

MODULE_FOLDER = re.compile(r"^(\d{2})-([a-z0-9-]+)$")
LESSON_FILE = re.compile(r"^(\d{2})-([a-z0-9-]+)\.md$")
COURSE_KEYS = {
    "slug",
    "title",
    "summary",
    "topic",
    "language",
    "translation_of",
    "workload",
    "learning_outcomes",
    "greencomp",
    "delivery_mode",
    "assessment",
    "validity_months",
    "complete_on_scroll",
}
# Keys of course.yaml that the quizzes plugin owns: accepted, kept in Package.meta, not stored here.
PLUGIN_COURSE_KEYS = {"pass_mark", "final_quiz"}
WORKLOAD_KEYS = ("contact_hours", "self_study_hours", "assessment_hours")
MODULE_KEYS = {"title", "summary", "quiz"}
LESSON_KEYS = {"title", "minutes"}
ROOT_DOCUMENTS = re.compile(r"^(README|LICENSE|CHANGELOG)(\.(md|txt))?$", re.IGNORECASE)
MAX_KEY_LENGTH = 100


@dataclass(frozen=True)
class PackageError:
    """One problem: the file (relative to the package root), its line if known, a message."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class PackageInvalid(Exception):
    """The package has errors; nothing was changed."""

    def __init__(self, errors: list[PackageError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


class PackageForbidden(PackageInvalid):
    """The package's slug names a course that the importing user may not change."""


@dataclass
class PackageLesson:
    """One lesson file, e.g. 01-why-circular-ict/02-the-footprint-of-ict.md."""

    key: str  # the file name without number and .md: "the-footprint-of-ict"
    file: str  # path relative to the package root
    number: int  # the NN prefix (order)
    meta: dict[str, Any]  # the front matter: title, minutes
    body: str  # the Markdown after the front matter
    body_line: int  # the file line where the body starts
    lesson_id: int | None = None  # set during import, before importers' apply()

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or "").strip()

    @property
    def minutes(self) -> int:
        return self.meta.get("minutes")  # type: ignore[return-value]


@dataclass
class PackageModule:
    """One module folder, e.g. 01-why-circular-ict/."""

    key: str  # the folder name without number: "why-circular-ict"
    folder: str  # "01-why-circular-ict"
    number: int
    meta: dict[str, Any]  # module.yaml: title, summary, quiz
    lessons: list[PackageLesson] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # other text files: {"quiz.gift": ...}
    module_id: int | None = None  # set during import, before importers' apply()


@dataclass
class Package:
    """A course package read into memory. Every text is str (UTF-8, \\n line ends)."""

    meta: dict[str, Any]  # course.yaml as loaded (including other plugins' keys)
    modules: list[PackageModule] = field(default_factory=list)  # in NN order
    files: dict[str, str] = field(default_factory=dict)  # root text files: final-assessment.gift
    images: dict[str, bytes] = field(default_factory=dict)  # images/<name> by name
    key_lines: dict[str, int] = field(default_factory=dict, repr=False)  # course.yaml key -> line

    @property
    def slug(self) -> str:
        return str(self.meta.get("slug") or "")

    def line_of(self, key: str) -> int | None:
        """The line of a course.yaml key ("workload.contact_hours" for nested keys)."""
        return self.key_lines.get(key) or self.key_lines.get(key.split(".")[0])


# --- reading: folder or zip into {relative path: bytes} ----------------------------------


class _Errors(list):
    def add(self, file: str, line: int | None, message: str) -> None:
        self.append(PackageError(_display(file), line, str(message)))


def _display(name: str) -> str:
    """A file name fit to show (undecodable bytes of file names replaced)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _hidden(parts: Iterable[str]) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _read_folder(root: Path, errors: _Errors) -> dict[str, bytes]:
    """Every regular file under root, without following symbolic links; hidden files and
    folders (.git, .DS_Store) are left out."""
    if not root.is_dir():
        errors.add(root.name, None, _("This is neither a folder nor a .zip file."))
        return {}
    entries: dict[str, bytes] = {}
    count = total = 0
    pending = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with os.scandir(folder) as iterator:
                children = sorted(iterator, key=lambda e: e.name)
        except OSError:
            errors.add(prefix or ".", None, _("This folder cannot be read."))
            continue
        for entry in children:
            relative = prefix + entry.name
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                errors.add(relative, None, _("Symbolic links are not allowed in a package."))
                continue
            count += 1
            if count > MAX_ENTRIES:
                errors.add(
                    ".",
                    None,
                    _("The package has more than %(n)s files and folders.", n=MAX_ENTRIES),
                )
                return {}
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, relative + "/"))
                continue
            if not entry.is_file(follow_symlinks=False):
                errors.add(relative, None, _("Only ordinary files and folders are allowed."))
                continue
            size = entry.stat(follow_symlinks=False).st_size
            if size > MAX_FILE_BYTES:
                errors.add(
                    relative,
                    None,
                    _("The file is larger than %(mb)s MB.", mb=MAX_FILE_BYTES // 2**20),
                )
                continue
            total += size
            if total > MAX_TOTAL_BYTES:
                errors.add(
                    ".",
                    None,
                    _(
                        "The package is larger than %(mb)s MB in total.",
                        mb=MAX_TOTAL_BYTES // 2**20,
                    ),
                )
                return {}
            try:
                descriptor = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
                with os.fdopen(descriptor, "rb") as handle:
                    data = handle.read(MAX_FILE_BYTES + 1)
            except OSError:
                errors.add(relative, None, _("This file cannot be read."))
                continue
            if len(data) > MAX_FILE_BYTES:
                errors.add(
                    relative,
                    None,
                    _("The file is larger than %(mb)s MB.", mb=MAX_FILE_BYTES // 2**20),
                )
                continue
            entries[relative] = data
    return entries


def _path_problem(name: str) -> str | None:
    if "\\" in name:
        return _("Paths in a package use / between folders, not \\.")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return _("Absolute paths are not allowed in a package.")
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return _("Paths that lead out of the package (..) are not allowed.")
    if any(part in ("", ".") for part in parts) or any(ord(c) < 32 for c in name):
        return _("This path is not allowed in a package.")
    return None


def _read_zip(data: bytes, errors: _Errors) -> dict[str, bytes]:
    """Every file of a zip archive, checked before anything is decompressed."""
    if len(data) > MAX_ARCHIVE_BYTES:
        errors.add(
            ".", None, _("The archive is larger than %(mb)s MB.", mb=MAX_ARCHIVE_BYTES // 2**20)
        )
        return {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        errors.add(".", None, _("This file is not a valid zip archive."))
        return {}
    if len(infos) > MAX_ENTRIES:
        errors.add(
            ".",
            None,
            _(
                "The archive has %(count)s entries; at most %(n)s are allowed.",
                count=len(infos),
                n=MAX_ENTRIES,
            ),
        )
        return {}
    wanted: list[zipfile.ZipInfo] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        problem = _path_problem(name)
        if problem:
            errors.add(name, None, problem)
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            errors.add(name, None, _("Symbolic links are not allowed in a package."))
            continue
        if info.is_dir() or _hidden(name.split("/")):
            continue
        if name in seen:
            errors.add(name, None, _("The archive holds this file twice."))
            continue
        seen.add(name)
        if info.flag_bits & 0x1:
            errors.add(name, None, _("Encrypted files are not allowed."))
            continue
        if info.file_size > MAX_FILE_BYTES:
            errors.add(
                name, None, _("The file is larger than %(mb)s MB.", mb=MAX_FILE_BYTES // 2**20)
            )
            continue
        if info.file_size > RATIO_CHECK_FROM and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            errors.add(name, None, _("The file is compressed suspiciously well (a zip bomb?)."))
            continue
        total += info.file_size
        wanted.append(info)
    if total > MAX_TOTAL_BYTES:
        errors.add(
            ".",
            None,
            _("The package is larger than %(mb)s MB in total.", mb=MAX_TOTAL_BYTES // 2**20),
        )
        return {}
    if errors:
        return {}
    entries: dict[str, bytes] = {}
    actual = 0
    for info in wanted:
        try:
            with archive.open(info) as handle:
                content = handle.read(min(info.file_size, MAX_FILE_BYTES) + 1)
        except (
            zipfile.BadZipFile,
            zlib.error,
            NotImplementedError,
            RuntimeError,
            OSError,
            EOFError,
            ValueError,
        ):
            errors.add(
                info.filename,
                None,
                _("This file of the archive is damaged or uses an unsupported compression."),
            )
            continue
        if len(content) > info.file_size:
            errors.add(info.filename, None, _("The file is larger than the archive says."))
            continue
        actual += len(content)
        if actual > MAX_TOTAL_BYTES:
            errors.add(
                ".",
                None,
                _("The package is larger than %(mb)s MB in total.", mb=MAX_TOTAL_BYTES // 2**20),
            )
            return {}
        entries[info.filename] = content
    return entries


def _package_root(entries: dict[str, bytes], errors: _Errors) -> dict[str, bytes]:
    """Paths relative to the folder holding course.yaml: the top or its only folder."""
    if "course.yaml" in entries:
        return entries
    tops = {name.split("/", 1)[0] for name in entries}
    if len(tops) == 1 and all("/" in name for name in entries):
        prefix = tops.pop() + "/"
        if prefix + "course.yaml" in entries:
            return {name[len(prefix) :]: data for name, data in entries.items()}
    errors.add(
        "course.yaml",
        None,
        _("course.yaml is missing: put it at the top of the package or of its only folder."),
    )
    return {}


def _read_entries(source: Path | bytes, errors: _Errors) -> dict[str, bytes]:
    if isinstance(source, bytes | bytearray):
        entries = _read_zip(bytes(source), errors)
    elif Path(source).is_file():
        path = Path(source)
        if path.stat().st_size > MAX_ARCHIVE_BYTES:
            errors.add(
                path.name,
                None,
                _("The archive is larger than %(mb)s MB.", mb=MAX_ARCHIVE_BYTES // 2**20),
            )
            return {}
        entries = _read_zip(path.read_bytes(), errors)
    else:
        entries = _read_folder(Path(source), errors)
    if errors:
        return {}
    return _package_root(entries, errors)


# --- parsing ------------------------------------------------------------------------------


def _text(path: str, data: bytes, errors: _Errors) -> str | None:
    """UTF-8 text with \\n line ends, or None (with an error) for binary or other encodings."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        errors.add(path, line, _("The file contains a NUL byte; save it as UTF-8 text."))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        errors.add(path, line, _("The file is not UTF-8 text; save it with the UTF-8 encoding."))
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _too_big(value: object) -> bool:
    """True for YAML that expands (through aliases) or nests beyond reason."""
    budget = MAX_YAML_NODES
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0 or depth > MAX_YAML_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for pair in item.items() for v in pair)
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _yaml(path: str, text: str, errors: _Errors, first_line: int = 1) -> tuple[Any, dict]:
    """Load YAML with yaml.safe_load (no Python objects); return (value, key lines) where key
    lines maps top-level keys (and "parent.child" for nested mappings) to file lines.
    On error, return (None, {}) after recording it."""
    try:
        value = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + first_line if mark is not None else None
        problem = error.problem or error.context or ""
        errors.add(path, line, _("This is not valid YAML: %(problem)s.", problem=problem))
        return None, {}
    except (yaml.YAMLError, RecursionError):
        errors.add(path, None, _("This is not valid YAML."))
        return None, {}
    if _too_big(value):
        errors.add(path, None, _("The YAML is nested too deeply or is too large."))
        return None, {}
    lines: dict[str, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):  # pragma: no cover - loaded above
        node = None
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + first_line
            if key in seen:
                errors.add(path, line, _("The key %(key)s appears twice.", key=key))
            seen.add(key)
            lines.setdefault(key, line)
            if isinstance(value_node, yaml.MappingNode):
                for sub_key, _sub_value in value_node.value:
                    lines.setdefault(f"{key}.{sub_key.value}", sub_key.start_mark.line + first_line)
    return value, lines


def _unknown_keys(path: str, meta: dict, allowed: set[str], lines: dict, errors: _Errors) -> None:
    for key in meta:
        if key not in allowed:
            errors.add(
                path,
                lines.get(str(key)),
                _(
                    "Unknown key %(key)s (allowed: %(allowed)s).",
                    key=key,
                    allowed=", ".join(sorted(allowed)),
                ),
            )


def _extra(importers: list, attribute: str) -> set[str]:
    names: set[str] = set()
    for importer in importers:
        names.update(getattr(importer, attribute, ()) or ())
    return names


def _front_matter(path: str, text: str, errors: _Errors) -> tuple[dict, dict, str, int] | None:
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        errors.add(
            path,
            1,
            _(
                "A lesson starts with front matter: a line ---, then title: and "
                "minutes:, then another line ---."
            ),
        )
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        errors.add(path, 1, _("The front matter is not closed: add a line --- after it."))
        return None
    before = len(errors)
    meta, key_lines = _yaml(path, "\n".join(lines[1:end]), errors, first_line=2)
    if len(errors) > before and meta is None:
        return None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        errors.add(path, 2, _("The front matter must be lines of key: value (title and minutes)."))
        return None
    return meta, key_lines, "\n".join(lines[end + 1 :]), end + 2


def _check_lesson(path: str, meta: dict, key_lines: dict, errors: _Errors) -> None:
    _unknown_keys(path, meta, LESSON_KEYS, key_lines, errors)
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > 200:
        errors.add(
            path,
            key_lines.get("title", 1),
            _("The front matter needs a title of at most 200 characters."),
        )
    if "minutes" not in meta:
        errors.add(path, 1, _("The front matter needs minutes: the reading time in minutes."))
    else:
        minutes = meta["minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 600:
            errors.add(
                path, key_lines.get("minutes"), _("minutes must be a whole number from 1 to 600.")
            )


def _check_module(
    path: str, meta: object, key_lines: dict, extra: set[str], errors: _Errors
) -> dict:
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        errors.add(path, 1, _("module.yaml must be lines of key: value (title, summary, quiz)."))
        return {}
    _unknown_keys(path, meta, MODULE_KEYS | extra, key_lines, errors)
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > 200:
        errors.add(
            path, key_lines.get("title", 1), _("A title of at most 200 characters is required.")
        )
    if meta.get("summary") is not None and not isinstance(meta["summary"], str):
        errors.add(path, key_lines.get("summary"), _("summary must be text."))
    if meta.get("quiz") is not None and not isinstance(meta["quiz"], dict):
        errors.add(path, key_lines.get("quiz"), _("quiz must be a set of key: value settings."))
    return meta


def _parse(entries: dict[str, bytes], importers: list, errors: _Errors) -> Package | None:
    """Sort the files of a package into a Package, recording every problem."""
    patterns = [p for importer in importers for p in (getattr(importer, "file_patterns", ()) or ())]
    texts: dict[str, str] = {}
    images: dict[str, bytes] = {}
    modules: dict[str, dict[str, str]] = {}  # folder -> {file name: text}
    bad_folders: set[str] = set()
    for name in sorted(entries):
        data = entries[name]
        parts = name.split("/")
        owned = any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
        if parts[0] == "images":
            if len(parts) != 2:
                errors.add(name, None, _("The images folder may not contain folders."))
            else:
                images[parts[1]] = data
            continue
        if len(parts) == 1:
            if not (
                name == "course.yaml"
                or name.endswith(".gift")
                or owned
                or ROOT_DOCUMENTS.match(name)
            ):
                errors.add(
                    name,
                    None,
                    _(
                        "Unknown file: the top of a package holds course.yaml, "
                        "final-assessment.gift, images/ and module folders."
                    ),
                )
                continue
            text = _text(name, data, errors)
            if text is not None:
                texts[name] = text
            continue
        folder = parts[0]
        if not MODULE_FOLDER.match(folder):
            if folder not in bad_folders:
                bad_folders.add(folder)
                errors.add(
                    folder,
                    None,
                    _(
                        "Module folders are named like 01-introduction: two "
                        "digits, a hyphen, then lower-case letters, digits "
                        "and hyphens."
                    ),
                )
            continue
        file_name = "/".join(parts[1:])
        if len(parts) > 2 and not owned:
            errors.add(name, None, _("A module folder may not contain folders."))
            continue
        if not (
            file_name == "module.yaml"
            or file_name.endswith(".gift")
            or owned
            or LESSON_FILE.match(file_name)
        ):
            if file_name.endswith(".md"):
                message = _(
                    "Lesson files are named like 01-introduction.md: two digits, a "
                    "hyphen, then lower-case letters, digits and hyphens."
                )
            else:
                message = _(
                    "Unknown file: a module folder holds module.yaml, lessons "
                    "(01-name.md) and quiz.gift."
                )
            errors.add(name, None, message)
            continue
        text = _text(name, data, errors)
        if text is not None:
            modules.setdefault(folder, {})[file_name] = text
        else:
            modules.setdefault(folder, {})
    # course.yaml
    meta: Any = None
    key_lines: dict = {}
    if "course.yaml" in texts:
        meta, key_lines = _yaml("course.yaml", texts.pop("course.yaml"), errors)
        if meta is not None and not isinstance(meta, dict):
            errors.add("course.yaml", 1, _("course.yaml must be lines of key: value."))
            meta = None
    elif "course.yaml" in entries:
        meta = None  # not text: already reported
    package = Package(
        meta=meta if isinstance(meta, dict) else {}, files=texts, images=images, key_lines=key_lines
    )
    # modules and lessons
    module_extra = _extra(importers, "module_keys")
    numbers: dict[int, str] = {}
    keys: set[str] = set()
    for folder in sorted(modules):
        number, key = MODULE_FOLDER.match(folder).groups()  # type: ignore[union-attr]
        if len(key) > MAX_KEY_LENGTH:
            errors.add(folder, None, _("The folder name is too long."))
        if int(number) in numbers:
            errors.add(
                folder,
                None,
                _(
                    "Two module folders have the number %(n)s: %(a)s and %(b)s.",
                    n=number,
                    a=numbers[int(number)],
                    b=folder,
                ),
            )
        if key in keys:
            errors.add(folder, None, _("Two module folders are called %(key)s.", key=key))
        numbers[int(number)] = folder
        keys.add(key)
        files = modules[folder]
        module_path = f"{folder}/module.yaml"
        module_meta: dict = {}
        if "module.yaml" in files:
            before = len(errors)
            loaded, lines = _yaml(module_path, files.pop("module.yaml"), errors)
            if loaded is not None or len(errors) == before:
                module_meta = _check_module(module_path, loaded, lines, module_extra, errors)
        elif f"{folder}/module.yaml" not in entries:
            errors.add(
                module_path, None, _("module.yaml is missing (it gives the module's title).")
            )
        module = PackageModule(key=key, folder=folder, number=int(number), meta=module_meta)
        lesson_numbers: dict[int, str] = {}
        lesson_keys: set[str] = set()
        for file_name in sorted(files):
            found = LESSON_FILE.match(file_name)
            if not found:
                module.files[file_name] = files[file_name]
                continue
            path = f"{folder}/{file_name}"
            lesson_number, lesson_key = found.groups()
            if len(lesson_key) > MAX_KEY_LENGTH:
                errors.add(path, None, _("The file name is too long."))
            if int(lesson_number) in lesson_numbers:
                errors.add(
                    path,
                    None,
                    _(
                        "Two lessons have the number %(n)s: %(a)s and %(b)s.",
                        n=lesson_number,
                        a=lesson_numbers[int(lesson_number)],
                        b=file_name,
                    ),
                )
            if lesson_key in lesson_keys:
                errors.add(path, None, _("Two lessons are called %(key)s.", key=lesson_key))
            lesson_numbers[int(lesson_number)] = file_name
            lesson_keys.add(lesson_key)
            parsed = _front_matter(path, files[file_name], errors)
            if parsed is None:
                continue
            lesson_meta, lesson_lines, body, body_line = parsed
            _check_lesson(path, lesson_meta, lesson_lines, errors)
            if len(body) > services.MAX_LESSON_CHARS:
                errors.add(path, body_line, _("The lesson is longer than 200,000 characters."))
            for image in sorted(package_image_names(body)):
                if image not in images:
                    where = next(
                        (i for i, text in enumerate(body.split("\n")) if f"images/{image}" in text),
                        0,
                    )
                    errors.add(
                        path,
                        body_line + where,
                        _(
                            "The image images/%(name)s is missing: add it to the images folder.",
                            name=image,
                        ),
                    )
            module.lessons.append(
                PackageLesson(
                    key=lesson_key,
                    file=path,
                    number=int(lesson_number),
                    meta=lesson_meta,
                    body=body,
                    body_line=body_line,
                )
            )
        module.lessons.sort(key=lambda lesson: lesson.number)
        package.modules.append(module)
    package.modules.sort(key=lambda module: module.number)
    for name, data in sorted(images.items()):
        for message in services.media_errors(name, data):
            errors.add(f"images/{name}", None, str(message))
    if meta is None:
        return None
    return package


# --- checking the course metadata ----------------------------------------------------------

_FIELD_KEYS = {
    "slug": "slug",
    "title": "title",
    "summary": "summary",
    "topic": "topic",
    "language": "language",
    "delivery_mode": "delivery_mode",
    "greencomp": "greencomp",
    "learning_outcomes": "learning_outcomes",
    "validity_months": "validity_months",
    "assessment": "assessment",
    "translation_of_slug": "translation_of",
    "complete_on_scroll": "complete_on_scroll",
    **{name: f"workload.{name}" for name in WORKLOAD_KEYS},
}


def _course_data(
    package: Package, errors: _Errors | None = None
) -> tuple[services.CourseData, set[str]]:
    """The CourseData of course.yaml; wrong types are recorded (when errors is given) and the
    keys that had them returned, so the service's rules only judge well-typed values."""
    meta = package.meta
    bad: set[str] = set()
    errors = errors if errors is not None else _Errors()

    def fail(key: str, message: str) -> None:
        bad.add(key)
        errors.add("course.yaml", package.line_of(key) or 1, message)

    def text(key: str, required: bool = False) -> str:
        value = meta.get(key)
        if value is None:
            if required:
                fail(key, _("%(key)s is required.", key=key))
            return ""
        if not isinstance(value, str):
            fail(key, _("%(key)s must be text.", key=key))
            return ""
        return value

    def text_list(key: str) -> list[str]:
        value = meta.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(
            isinstance(v, str) or (key == "greencomp" and isinstance(v, float)) for v in value
        ):
            fail(key, _("%(key)s must be a list of texts.", key=key))
            return []
        return [str(v) for v in value]

    workload = meta.get("workload") or {}
    hours: dict[str, object] = {}
    if not isinstance(workload, dict):
        fail(
            "workload",
            _("workload must hold contact_hours, self_study_hours and assessment_hours."),
        )
        workload = {}
    for key in workload:
        if key not in WORKLOAD_KEYS:
            fail(
                f"workload.{key}",
                _(
                    "Unknown key %(key)s (allowed: %(allowed)s).",
                    key=f"workload.{key}",
                    allowed=", ".join(WORKLOAD_KEYS),
                ),
            )
    for name in WORKLOAD_KEYS:
        value = workload.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float | type(None)):
            fail(
                f"workload.{name}", _("%(key)s must be a number of hours.", key=f"workload.{name}")
            )
            value = 0
        hours[name] = value or 0
    validity = meta.get("validity_months")
    if validity is not None and (isinstance(validity, bool) or not isinstance(validity, int)):
        fail("validity_months", _("validity_months must be a whole number of months or null."))
        validity = None
    scroll = meta.get("complete_on_scroll", True)
    if not isinstance(scroll, bool):
        fail("complete_on_scroll", _("complete_on_scroll must be true or false."))
        scroll = True
    translation = meta.get("translation_of")
    if translation is not None and not isinstance(translation, str):
        fail("translation_of", _("translation_of must be a course address (slug) or null."))
        translation = None
    data = services.CourseData(
        slug=text("slug", required=True),
        title=text("title", required=True),
        topic=text("topic", required=True),
        language=text("language", required=True),
        summary=text("summary"),
        assessment=text("assessment"),
        delivery_mode=text("delivery_mode") or "online",
        learning_outcomes=text_list("learning_outcomes"),
        greencomp=text_list("greencomp"),
        validity_months=validity,
        complete_on_scroll=scroll,
        translation_of_slug=translation or None,
        **hours,  # type: ignore[arg-type]
    )
    return data, bad


def _importers() -> list:
    return collect(get_package_importers, None)


def find_course_or_none(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def read_package(source: Path | bytes | bytearray) -> Package:
    """Read and check a package's files without touching the database (for tools and the
    other plugins' tests); raises PackageInvalid."""
    errors = _Errors()
    importers = _importers()
    entries = _read_entries(source, errors)
    package = _parse(entries, importers, errors) if not errors else None
    if errors or package is None:
        raise PackageInvalid(list(errors))
    return package


def import_package(
    source: Path | bytes,
    owners: list[User],
    publish: bool = True,
    may_update: Callable[[Course], bool] | None = None,
) -> Course:
    """Import a package (a folder, a .zip file or zip bytes) as a new course or a new version
    of the course with its slug. Everything is checked first: on any error PackageInvalid lists
    them all and nothing changed. `may_update(course)` guards updating an existing course
    (PackageForbidden if it answers False). The caller commits."""
    errors = _Errors()
    importers = _importers()
    entries = _read_entries(source, errors)
    if errors:
        raise PackageInvalid(list(errors))
    package = _parse(entries, importers, errors)
    if package is None:
        raise PackageInvalid(list(errors))
    existing = find_course_or_none(package.slug) if package.slug else None
    if existing is not None and may_update is not None and not may_update(existing):
        raise PackageForbidden(
            [
                PackageError(
                    "course.yaml",
                    package.line_of("slug"),
                    _(
                        "There is no course %(slug)s that you may change. Choose another slug in "
                        "course.yaml.",
                        slug=package.slug,
                    ),
                )
            ]
        )
    _unknown_keys(
        "course.yaml",
        package.meta,
        COURSE_KEYS | PLUGIN_COURSE_KEYS | _extra(importers, "course_keys"),
        package.key_lines,
        errors,
    )
    data, bad = _course_data(package, errors)
    for name, message in services.course_errors(data, existing):
        key = _FIELD_KEYS.get(name, name)
        if key not in bad:
            errors.add("course.yaml", package.line_of(key), str(message))
    if not any(module.lessons for module in package.modules) and not any(
        e.file.endswith(".md") for e in errors
    ):
        errors.add(
            "course.yaml",
            None,
            _("The package has no lessons: add a module folder with at least one lesson."),
        )
    if existing is None and not owners:
        errors.add(
            "course.yaml",
            package.line_of("slug"),
            _("This is a new course and nobody was named to own it (give an owner)."),
        )
    if existing is not None and publish and existing.status == CourseStatus.ARCHIVED:
        errors.add(
            "course.yaml",
            package.line_of("slug"),
            _(
                "The course %(slug)s is archived and cannot be published again; import it without "
                "publishing.",
                slug=package.slug,
            ),
        )
    for importer in importers:
        errors.extend(importer.validate(package) or [])
    if errors:
        raise PackageInvalid(list(errors))
    try:
        with db.session.begin_nested():
            course = _apply(package, data, existing, owners, importers, publish)
    except ServiceError as error:
        raise PackageInvalid([PackageError("course.yaml", None, str(error.message))]) from None
    return course


# --- applying -----------------------------------------------------------------------------


def _slugify(title: str) -> str:
    return slugify(title, 60)


def _item_keys(items: list, fallback: str) -> list[str]:
    """Package keys of the live modules or lessons (in position order): their source_key, or
    for items made in the browser a key from the title. Export and re-import use the same
    rule, so an exported course re-imported keeps its lessons (and its learners' progress)."""
    reserved = {item.source_key for item in items if item.source_key}
    used: set[str] = set()
    keys = []
    for item in items:
        if item.source_key and item.source_key not in used:
            key = item.source_key
        else:
            base = _slugify(item.title) or fallback
            key, n = base, 2
            while key in used or key in reserved:
                key, n = f"{base}-{n}", n + 1
        used.add(key)
        keys.append(key)
    return keys


def _live(items: list) -> list:
    return sorted((item for item in items if not item.deleted), key=lambda item: item.position)


def _apply(
    package: Package,
    data: services.CourseData,
    course: Course | None,
    owners: list[User],
    importers: list,
    publish: bool,
) -> Course:
    if course is None:
        course = services.create_course(data, owners)
    else:
        services.update_course(course, data)
    stored = {
        m.name: m.sha256
        for m in db.session.scalars(select(Media).where(Media.course_id == course.id))
    }
    for name, content in sorted(package.images.items()):
        if stored.get(name) != hashlib.sha256(content).hexdigest():
            services.add_media(course, name, content)
    live = _live(course.modules)
    by_key = dict(zip(_item_keys(live, "module"), live, strict=True))
    deleted = {m.source_key: m for m in course.modules if m.deleted and m.source_key}
    order: list[int] = []
    for package_module in package.modules:
        meta = package_module.meta
        module = by_key.pop(package_module.key, None) or deleted.get(package_module.key)
        settings = dict(module.settings or {}) if module is not None else {}
        if meta.get("quiz") is not None:
            settings["quiz"] = meta["quiz"]
        else:
            settings.pop("quiz", None)
        title, summary = str(meta.get("title", "")), str(meta.get("summary") or "")
        if module is None:
            module = services.add_module(course, title, summary, settings)
        else:
            module.deleted = False
            services.update_module(module, title, summary)
            module.settings = settings
        module.source_key = package_module.key
        _apply_lessons(module, package_module)
        package_module.module_id = module.id
        order.append(module.id)
    for module in by_key.values():
        services.delete_module(module)
    services.reorder(_live(course.modules), order)
    for importer in importers:
        importer.apply(package, course)
    if publish:
        services.publish_course(course)
    return course


def _apply_lessons(module: Module, package_module: PackageModule) -> None:
    live = _live(module.lessons)
    by_key = dict(zip(_item_keys(live, "lesson"), live, strict=True))
    deleted = {x.source_key: x for x in module.lessons if x.deleted and x.source_key}
    order: list[int] = []
    for package_lesson in package_module.lessons:
        lesson: Lesson | None = by_key.pop(package_lesson.key, None) or deleted.get(
            package_lesson.key
        )
        title, minutes = package_lesson.title, package_lesson.minutes
        if lesson is None:
            lesson = services.add_lesson(module, title, package_lesson.body, minutes)
        else:
            lesson.deleted = False
            services.update_lesson(lesson, title, package_lesson.body, minutes)
        lesson.source_key = package_lesson.key
        package_lesson.lesson_id = lesson.id
        order.append(lesson.id)
    for lesson in by_key.values():
        services.delete_lesson(lesson)
    db.session.flush()
    services.reorder(_live(module.lessons), order)


# --- export -------------------------------------------------------------------------------


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _dump(value: object) -> bytes:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100).encode()


def _portable(body: str, media: dict[int, str]) -> str:
    """Image links to this course's stored media become package links (../images/name)."""

    def swap(match: re.Match[str]) -> str:
        media_id, name = int(match.group(2)), match.group(3)
        if media.get(media_id) == name:
            return f"{match.group(1)}../images/{name}"
        return match.group(0)

    return re.sub(r"(!\[[^\]]*\]\(\s*<?)/courses/media/(\d+)/([\w.-]+)", swap, body)


def course_meta(course: Course) -> dict[str, Any]:
    """The course.yaml of a course."""
    return {
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "topic": course.topic,
        "language": course.language,
        "translation_of": course.translation_of.slug if course.translation_of else None,
        "workload": {
            "contact_hours": _number(course.contact_hours),
            "self_study_hours": _number(course.self_study_hours),
            "assessment_hours": _number(course.assessment_hours),
        },
        "learning_outcomes": list(course.learning_outcomes or []),
        "greencomp": list(course.greencomp or []),
        "delivery_mode": course.delivery_mode,
        "assessment": course.assessment,
        "validity_months": course.validity_months,
        "complete_on_scroll": course.complete_on_scroll,
    }


def write_package(course: Course, folder: Path) -> None:
    """Write the course's working copy as a package folder (which must be new or empty apart
    from hidden entries such as .git). Other plugins add their files through
    `get-package-exporters`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if any(not entry.name.startswith(".") for entry in folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty")
    (folder / "course.yaml").write_bytes(_dump(course_meta(course)))
    media = list(
        db.session.scalars(select(Media).where(Media.course_id == course.id).order_by(Media.name))
    )
    if media:
        (folder / "images").mkdir()
        for item in media:
            (folder / "images" / item.name).write_bytes(item.data)
    names = {item.id: item.name for item in media}
    modules = _live(course.modules)
    for m_number, (module, m_key) in enumerate(
        zip(modules, _item_keys(modules, "module"), strict=True), start=1
    ):
        module_folder = folder / f"{m_number:02d}-{m_key}"
        module_folder.mkdir()
        module_meta: dict[str, Any] = {"title": module.title, "summary": module.summary}
        if (module.settings or {}).get("quiz") is not None:
            module_meta["quiz"] = module.settings["quiz"]
        (module_folder / "module.yaml").write_bytes(_dump(module_meta))
        lessons = _live(module.lessons)
        for l_number, (lesson, l_key) in enumerate(
            zip(lessons, _item_keys(lessons, "lesson"), strict=True), start=1
        ):
            front = _dump({"title": lesson.title, "minutes": lesson.minutes})
            body = _portable(lesson.body_md or "", names).encode()
            (module_folder / f"{l_number:02d}-{l_key}.md").write_bytes(
                b"---\n" + front + b"---\n" + body
            )
    for exporter in collect(get_package_exporters, course):
        exporter(course, folder)


def export_zip(course: Course) -> bytes:
    """The package as a zip (one top folder named after the slug), byte for byte the same for
    the same course: sorted entries, fixed dates and permissions."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="course-export-") as temporary:
        root = Path(temporary) / course.slug
        write_package(course, root)
        files = sorted(
            (path.relative_to(root).as_posix(), path)
            for path in root.rglob("*")
            if path.is_file() and not path.is_symlink()
        )
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for relative, path in files:
                info = zipfile.ZipInfo(f"{course.slug}/{relative}", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()
