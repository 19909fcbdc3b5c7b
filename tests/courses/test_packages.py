"""Course packages: import of the demo packages, export and round trips, re-import as a new
version that keeps learners' progress, every kind of bad or hostile package (nothing changes),
other plugins' hooks, the command line and the upload page."""

from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from courses import packages, services
from courses.completion import done_lesson_ids
from courses.models import Course, Lesson, Media, Module
from courses.signals import get_package_exporters, get_package_importers
from lms.extensions import db
from tests.conftest import csrf_token, login

DEMO = Path(__file__).resolve().parents[2] / "courses" / "demo"
EN, BG = "circular-economy-ict", "circular-economy-ict-bg"
DEMOS = [EN, BG, "energy-efficiency-office-to-data-centre", "green-software-business-models"]

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
COURSE_YAML = """\
slug: tiny-course
title: A tiny course
summary: Small, for tests.
topic: green-innovation
language: en
translation_of: null
workload: {contact_hours: 1, self_study_hours: 2.5, assessment_hours: 0}
learning_outcomes:
  - Explain one thing.
greencomp: ["2.1"]
delivery_mode: blended
assessment: A short quiz
validity_months: 24
"""
LESSON = """\
---
title: First steps
minutes: 10
---
Hello.

![A square](../images/square.svg)
"""


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def counts() -> tuple[int, int, int, int]:
    return count(Course), count(Module), count(Lesson), count(Media)


def import_demo(owner, *names: str) -> dict[str, Course]:
    courses = {}
    for name in names:
        courses[name] = packages.import_package(DEMO / name, owners=[owner])
        db.session.commit()
    return courses


def write_tiny(root: Path) -> Path:
    """A small valid package folder: 2 modules, 3 lessons, 1 image."""
    (root / "images").mkdir(parents=True)
    (root / "images" / "square.svg").write_bytes(SVG)
    (root / "course.yaml").write_text(COURSE_YAML, encoding="utf-8")
    (root / "final-assessment.gift").write_text("::Q1:: 1+1? {=2 ~3}\n", encoding="utf-8")
    intro = root / "01-intro"
    intro.mkdir()
    (intro / "module.yaml").write_text(
        "title: Introduction\nsummary: Start here.\nquiz: {pass_mark: 60}\n", encoding="utf-8"
    )
    (intro / "01-first-steps.md").write_text(LESSON, encoding="utf-8")
    (intro / "02-second-steps.md").write_text(
        "---\ntitle: Second steps\nminutes: 5\n---\nMore.\n", encoding="utf-8"
    )
    (intro / "quiz.gift").write_text("::Q:: Yes? {T}\n", encoding="utf-8")
    practice = root / "02-practice"
    practice.mkdir()
    (practice / "module.yaml").write_text("title: Practice\n", encoding="utf-8")
    (practice / "01-do-it.md").write_text(
        "---\ntitle: Do it\nminutes: 20\n---\n## Now\n\nDo it.\n", encoding="utf-8"
    )
    return root


def zip_bytes(entries: dict[str, bytes], symlinks: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def folder_entries(root: Path, prefix: str = "") -> dict[str, bytes]:
    return {
        prefix + path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def snapshot(course: Course) -> dict:
    """What a package carries: metadata, live modules and lessons in order, images."""
    modules = sorted((m for m in course.modules if not m.deleted), key=lambda m: m.position)
    return {
        "meta": packages.course_meta(course),
        "modules": [
            (
                m.source_key,
                m.title,
                m.summary,
                m.settings,
                [
                    (x.source_key, x.title, x.minutes, x.body_md)
                    for x in sorted(m.lessons, key=lambda x: x.position)
                    if not x.deleted
                ],
            )
            for m in modules
        ],
        "media": sorted(
            (m.name, m.sha256, m.content_type)
            for m in db.session.scalars(select(Media).where(Media.course_id == course.id))
        ),
    }


def delete_all_courses() -> None:
    for course in db.session.scalars(select(Course)).all():
        db.session.delete(course)
    db.session.commit()
    db.session.expunge_all()
    assert counts() == (0, 0, 0, 0)


def errors_of(source, owners) -> list[packages.PackageError]:
    with pytest.raises(packages.PackageInvalid) as raised:
        packages.import_package(source, owners=owners)
    db.session.rollback()
    return raised.value.errors


# --- the demo packages ----------------------------------------------------------------------


def test_all_four_demo_packages_import_and_publish(app, users):
    courses = import_demo(users["trainer"], *DEMOS)
    for name, course in courses.items():
        meta = yaml.safe_load((DEMO / name / "course.yaml").read_text(encoding="utf-8"))
        course = db.session.get(Course, course.id)
        assert course.slug == meta["slug"] == name
        assert course.title == meta["title"]
        assert course.topic == meta["topic"] and course.language == meta["language"]
        assert course.learning_outcomes == meta["learning_outcomes"]
        assert course.greencomp == sorted(meta["greencomp"])
        assert float(course.workload_hours) == sum(meta["workload"].values())
        assert course.is_published and course.version == 1
        assert [o.id for o in course.owners] == [users["trainer"].id]
        folders = sorted(p for p in (DEMO / name).iterdir() if p.is_dir() and p.name != "images")
        assert [m.source_key for m in course.published_modules] == [f.name[3:] for f in folders]
        for module, folder in zip(course.published_modules, folders, strict=True):
            module_meta = yaml.safe_load((folder / "module.yaml").read_text(encoding="utf-8"))
            assert module.title == module_meta["title"]
            assert module.settings["quiz"] == module_meta["quiz"]
            lesson_files = sorted(folder.glob("*.md"))
            assert [x.source_key for x in module.published_lessons] == [
                f.stem[3:] for f in lesson_files
            ]
        images = sorted(p.name for p in (DEMO / name / "images").iterdir())
        media = db.session.scalars(select(Media).where(Media.course_id == course.id)).all()
        assert sorted(m.name for m in media) == images
        html = " ".join(x.published_html for m in course.published_modules for x in m.lessons)
        for item in media:  # images resolved to the stored media
            assert f'src="/courses/media/{item.id}/{item.name}"' in html
        assert "../images/" not in html
    assert courses[BG].translation_of_id == courses[EN].id
    assert courses[EN].translation_of_id is None


def test_translation_must_name_an_existing_course(app, users):
    errors = errors_of(DEMO / BG, [users["trainer"]])
    assert [(e.file, e.line) for e in errors] == [("course.yaml", 6)]
    assert "No other course" in errors[0].message
    assert counts() == (0, 0, 0, 0)


def test_package_object_gives_plugins_their_files(app):
    package = packages.read_package(DEMO / EN)
    assert package.slug == EN
    assert package.meta["final_quiz"]["pass_mark"] == 70 and package.meta["pass_mark"] == 70
    assert package.files["final-assessment.gift"].startswith(
        (DEMO / EN / "final-assessment.gift").read_text(encoding="utf-8")[:20]
    )
    first = package.modules[0]
    assert (first.key, first.folder, first.number) == ("why-circular-ict", "01-why-circular-ict", 1)
    assert first.meta["quiz"]["pass_mark"] == 70
    assert "quiz.gift" in first.files
    assert [x.key for x in first.lessons] == [
        "what-is-the-circular-economy",
        "the-footprint-of-ict",
    ]
    lesson = first.lessons[1]
    assert lesson.file == "01-why-circular-ict/02-the-footprint-of-ict.md"
    assert lesson.title == "The footprint of ICT" and lesson.minutes == 15
    assert lesson.body.startswith("Digital work") and lesson.body_line == 5
    assert set(package.images) == {"linear-vs-circular.svg"}


# --- export and round trips -------------------------------------------------------------------


def test_demo_round_trip_into_an_empty_database(app, users):
    courses = import_demo(users["trainer"], *DEMOS)
    before = {name: snapshot(db.session.get(Course, c.id)) for name, c in courses.items()}
    zips = {name: packages.export_zip(db.session.get(Course, c.id)) for name, c in courses.items()}
    assert packages.export_zip(db.session.get(Course, courses[EN].id)) == zips[EN]  # deterministic
    delete_all_courses()
    for name in DEMOS:  # English before its Bulgarian translation
        course = packages.import_package(zips[name], owners=[users["trainer"]])
        db.session.commit()
        assert snapshot(course) == before[name], name
    bg = packages.find_course_or_none(BG)
    assert bg.translation_of.slug == EN


def test_exported_folder_matches_the_demo_lessons(app, users, tmp_path):
    course = import_demo(users["trainer"], EN)[EN]
    packages.write_package(course, tmp_path / "out")
    for source in (DEMO / EN).rglob("*.md"):
        exported = tmp_path / "out" / source.relative_to(DEMO / EN)
        body = source.read_text(encoding="utf-8").split("---\n", 2)[2]
        assert exported.read_text(encoding="utf-8").split("---\n", 2)[2] == body
    for image in (DEMO / EN / "images").iterdir():
        assert (tmp_path / "out" / "images" / image.name).read_bytes() == image.read_bytes()
    meta = yaml.safe_load((tmp_path / "out" / "course.yaml").read_text(encoding="utf-8"))
    assert meta["workload"] == {"contact_hours": 2, "self_study_hours": 4, "assessment_hours": 1}
    assert meta["complete_on_scroll"] is True
    with pytest.raises(FileExistsError):
        packages.write_package(course, tmp_path / "out")


def test_round_trip_of_a_course_made_in_the_browser(app, users, create_course):
    course = create_course("browser-made", modules=2, lessons=2, owner=users["trainer"])
    media = services.add_media(course, "chart.svg", SVG)
    lesson = course.modules[0].lessons[0]
    services.update_lesson(
        lesson, "Диаграма на кръга", f"![c](/courses/media/{media.id}/chart.svg)", 7
    )
    services.update_module(course.modules[1], "Модул две", "")
    services.publish_course(course)
    db.session.commit()
    ids = sorted(x.id for m in course.modules for x in m.lessons)
    before = snapshot(course)
    data = packages.export_zip(course)
    assert "diagrama-na-kraga.md" in " ".join(zipfile.ZipFile(io.BytesIO(data)).namelist())
    # Re-imported into the same database: the same lessons (not copies), same text.
    again = packages.import_package(data, owners=[])
    db.session.commit()
    assert sorted(x.id for m in again.modules for x in m.lessons if not x.deleted) == ids
    assert again.version == 3
    html = lesson.body_html
    assert f"/courses/media/{media.id}/chart.svg" in html
    # Into an empty database: the same course; the image link now points at the package image.
    delete_all_courses()
    course = packages.import_package(data, owners=[users["trainer"]])
    db.session.commit()
    after = snapshot(course)
    assert after["meta"] == before["meta"] and after["media"] == before["media"]
    assert [m[1] for m in after["modules"]] == [m[1] for m in before["modules"]]
    first = after["modules"][0][4][0]
    assert first[3] == "![c](../images/chart.svg)"
    new_media = db.session.scalar(select(Media).where(Media.course_id == course.id))
    assert f"/courses/media/{new_media.id}/chart.svg" in course.modules[0].lessons[0].body_html


# --- re-import: a new version that keeps progress ----------------------------------------------


def test_reimport_is_a_new_version_and_keeps_progress_on_unchanged_lessons(app, users, tmp_path):
    course = import_demo(users["trainer"], EN)[EN]
    learner = users["learner"]
    services.enrol(learner, course)
    lessons = [x for m in course.published_modules for x in m.published_lessons]
    for lesson in lessons:
        services.complete_lesson(learner, lesson)
    db.session.commit()
    assert done_lesson_ids(learner.id, course.id) == {x.id for x in lessons}
    folder = tmp_path / "pkg"
    packages.write_package(course, folder)
    changed = folder / "02-eu-policy-frame" / "01-circular-economy-action-plan.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA new paragraph.\n", "utf-8")
    course = packages.import_package(folder, owners=[])
    db.session.commit()
    course = db.session.get(Course, course.id)
    assert course.version == 2 and course.is_published
    after = [x for m in course.published_modules for x in m.published_lessons]
    assert [x.id for x in after] == [x.id for x in lessons]  # same identity
    changed_lesson = next(x for x in after if x.source_key == "circular-economy-action-plan")
    assert "A new paragraph." in changed_lesson.published_html
    assert done_lesson_ids(learner.id, course.id) == {x.id for x in lessons} - {changed_lesson.id}


def test_reimport_follows_the_package_order_and_removes_what_it_lacks(app, users, tmp_path):
    root = write_tiny(tmp_path / "pkg")
    course = packages.import_package(root, owners=[users["trainer"]])
    db.session.commit()
    intro_id = course.published_modules[0].id
    # Swap the modules, drop a lesson, rename one module's title, add a lesson.
    (root / "01-intro").rename(root / "03-intro")
    (root / "03-intro" / "02-second-steps.md").unlink()
    (root / "02-practice" / "module.yaml").write_text("title: Practice now\n", "utf-8")
    (root / "02-practice" / "00-warm-up.md").write_text(
        "---\ntitle: Warm up\nminutes: 3\n---\nStretch.\n", "utf-8"
    )
    course = packages.import_package(root, owners=[], publish=True)
    db.session.commit()
    course = db.session.get(Course, course.id)
    modules = course.published_modules
    assert [m.published_title for m in modules] == ["Practice now", "Introduction"]
    assert modules[1].id == intro_id
    assert [x.published_title for x in modules[0].published_lessons] == ["Warm up", "Do it"]
    assert [x.published_title for x in modules[1].published_lessons] == ["First steps"]
    assert course.version == 2
    # A module dropped from the package leaves the course at the next publication.
    shutil.rmtree(root / "02-practice")
    course = packages.import_package(root, owners=[])
    db.session.commit()
    assert [m.source_key for m in db.session.get(Course, course.id).published_modules] == ["intro"]


def test_import_as_draft_changes_only_the_working_copy(app, users, tmp_path):
    root = write_tiny(tmp_path / "pkg")
    course = packages.import_package(root, owners=[users["trainer"]], publish=False)
    db.session.commit()
    assert course.status == "draft" and course.version == 0
    assert course.modules[0].settings == {"quiz": {"pass_mark": 60}}
    assert course.modules[1].settings == {}
    assert course.delivery_mode == "blended" and course.validity_months == 24
    assert float(course.self_study_hours) == 2.5


# --- bad and hostile packages: every error with its file and line, nothing changed -------------


def mutate(root: Path, name: str, text: str | bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def replace_in(root: Path, name: str, old: str, new: str) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


BILLION_LAUGHS = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)
)

FOLDER_CASES = {
    "bad YAML": (
        lambda r: replace_in(r, "course.yaml", "delivery_mode: blended", "delivery_mode: [blended"),
        ("course.yaml", 12),
    ),
    "unknown course key": (
        lambda r: replace_in(r, "course.yaml", "assessment: A", "asessment: A"),
        ("course.yaml", 12),
    ),
    "unknown workload key": (
        lambda r: replace_in(r, "course.yaml", "contact_hours: 1,", "contact_hour: 1,"),
        ("course.yaml", 7),
    ),
    "python object tag": (
        lambda r: replace_in(
            r,
            "course.yaml",
            "summary: Small, for tests.",
            "summary: !!python/object/apply:os.system ['touch /tmp/pwned']",
        ),
        ("course.yaml", 3),
    ),
    "alias bomb": (
        lambda r: mutate(r, "course.yaml", COURSE_YAML + BILLION_LAUGHS),
        ("course.yaml", None),
    ),
    "bad topic": (
        lambda r: replace_in(r, "course.yaml", "topic: green-innovation", "topic: gardening"),
        ("course.yaml", 4),
    ),
    "bad language": (
        lambda r: replace_in(r, "course.yaml", "language: en", "language: de"),
        ("course.yaml", 5),
    ),
    "bad delivery mode": (
        lambda r: replace_in(r, "course.yaml", "delivery_mode: blended", "delivery_mode: by post"),
        ("course.yaml", 11),
    ),
    "bad greencomp": (
        lambda r: replace_in(r, "course.yaml", '["2.1"]', '["2.1", "9.9"]'),
        ("course.yaml", 10),
    ),
    "hours not a number": (
        lambda r: replace_in(r, "course.yaml", "self_study_hours: 2.5", "self_study_hours: lots"),
        ("course.yaml", 7),
    ),
    "unknown translation": (
        lambda r: replace_in(r, "course.yaml", "translation_of: null", "translation_of: nowhere"),
        ("course.yaml", 6),
    ),
    "missing title": (
        lambda r: replace_in(r, "course.yaml", "title: A tiny course\n", ""),
        ("course.yaml", 1),
    ),
    "course.yaml missing": (
        lambda r: (r / "course.yaml").unlink(),
        ("course.yaml", None),
    ),
    "no lessons": (
        lambda r: [shutil.rmtree(r / "01-intro"), shutil.rmtree(r / "02-practice")],
        ("course.yaml", None),
    ),
    "unknown module key": (
        lambda r: mutate(r, "02-practice/module.yaml", "title: Practice\ndescription: x\n"),
        ("02-practice/module.yaml", 2),
    ),
    "module.yaml missing": (
        lambda r: (r / "02-practice" / "module.yaml").unlink(),
        ("02-practice/module.yaml", None),
    ),
    "no front matter": (
        lambda r: mutate(r, "02-practice/01-do-it.md", "# Do it\n\nNo front matter.\n"),
        ("02-practice/01-do-it.md", 1),
    ),
    "unclosed front matter": (
        lambda r: mutate(r, "02-practice/01-do-it.md", "---\ntitle: Do it\nminutes: 3\nText\n"),
        ("02-practice/01-do-it.md", 1),
    ),
    "bad YAML in front matter": (
        lambda r: mutate(r, "02-practice/01-do-it.md", "---\ntitle: Do it\nminutes: [3\n---\nx\n"),
        ("02-practice/01-do-it.md", 3),
    ),
    "unknown front matter key": (
        lambda r: mutate(
            r, "02-practice/01-do-it.md", "---\ntitle: Do\nminutes: 3\nauthor: me\n---\n"
        ),
        ("02-practice/01-do-it.md", 4),
    ),
    "missing minutes": (
        lambda r: mutate(r, "02-practice/01-do-it.md", "---\ntitle: Do it\n---\nText\n"),
        ("02-practice/01-do-it.md", 1),
    ),
    "minutes out of range": (
        lambda r: mutate(r, "02-practice/01-do-it.md", "---\ntitle: Do it\nminutes: 601\n---\n"),
        ("02-practice/01-do-it.md", 3),
    ),
    "minutes not a number": (
        lambda r: mutate(r, "02-practice/01-do-it.md", "---\ntitle: Do it\nminutes: ten\n---\n"),
        ("02-practice/01-do-it.md", 3),
    ),
    "missing image": (
        lambda r: mutate(
            r,
            "02-practice/01-do-it.md",
            "---\ntitle: Do it\nminutes: 3\n---\nOne\n\nTwo ![x](../images/missing.png)\n",
        ),
        ("02-practice/01-do-it.md", 7),
    ),
    "unsafe SVG": (
        lambda r: mutate(
            r,
            "images/square.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        ),
        ("images/square.svg", None),
    ),
    "not an image": (
        lambda r: mutate(r, "images/photo.png", b"GIF89a not a png"),
        ("images/photo.png", None),
    ),
    "non-UTF-8 lesson": (
        lambda r: mutate(
            r,
            "02-practice/01-do-it.md",
            "---\ntitle: Do it\nminutes: 3\n---\nCaf\u00e9\n".encode("latin-1"),
        ),
        ("02-practice/01-do-it.md", 5),
    ),
    "NUL byte": (
        lambda r: mutate(r, "01-intro/module.yaml", b"title: Intro\nsummary: a\x00b\n"),
        ("01-intro/module.yaml", 2),
    ),
    "bad module folder name": (
        lambda r: (r / "02-practice").rename(r / "2-Practice"),
        ("2-Practice", None),
    ),
    "bad lesson file name": (
        lambda r: (r / "02-practice" / "01-do-it.md").rename(r / "02-practice" / "1 do it.md"),
        ("02-practice/1 do it.md", None),
    ),
    "unknown file": (
        lambda r: mutate(r, "02-practice/notes.txt", "x"),
        ("02-practice/notes.txt", None),
    ),
    "two modules with one number": (
        lambda r: (r / "02-practice").rename(r / "01-practice"),
        ("01-practice", None),
    ),
    "file too large": (
        lambda r: mutate(r, "02-practice/02-big.md", b"x" * (packages.MAX_FILE_BYTES + 1)),
        ("02-practice/02-big.md", None),
    ),
    "symlink in a folder": (
        lambda r: os.symlink("/etc/passwd", r / "02-practice" / "02-secret.md"),
        ("02-practice/02-secret.md", None),
    ),
    "symlinked folder": (
        lambda r: os.symlink("/etc", r / "03-etc"),
        ("03-etc", None),
    ),
}


@pytest.mark.parametrize("case", list(FOLDER_CASES), ids=list(FOLDER_CASES))
def test_bad_package_folder(app, users, create_course, tmp_path, case):
    existing = create_course("existing", owner=users["trainer"])
    services.add_media(existing, "x.svg", SVG)
    db.session.commit()
    before = counts()
    root = write_tiny(tmp_path / "pkg")
    change, expected = FOLDER_CASES[case]
    change(root)
    errors = errors_of(root, [users["trainer"]])
    assert expected in [(e.file, e.line) for e in errors], errors
    assert counts() == before
    assert packages.find_course_or_none("tiny-course") is None


def test_every_error_is_reported_at_once(app, users, tmp_path):
    root = write_tiny(tmp_path / "pkg")
    replace_in(root, "course.yaml", "topic: green-innovation", "topic: gardening")
    mutate(root, "02-practice/01-do-it.md", "---\ntitle: Do it\n---\nText\n")
    mutate(root, "images/square.svg", b"<svg onload='x()'></svg>")
    errors = errors_of(root, [users["trainer"]])
    assert [(e.file, e.line) for e in errors] == [
        ("02-practice/01-do-it.md", 1),
        ("images/square.svg", None),
        ("course.yaml", 4),
    ]
    assert str(errors[2]).startswith("course.yaml:4: ")


def test_a_new_course_needs_an_owner(app, tmp_path):
    errors = errors_of(write_tiny(tmp_path / "pkg"), [])
    assert [(e.file, e.line) for e in errors] == [("course.yaml", 1)]
    assert counts() == (0, 0, 0, 0)


def zip_of_tiny(tmp_path: Path, prefix: str = "tiny-course/") -> dict[str, bytes]:
    return folder_entries(write_tiny(tmp_path / "pkg"), prefix)


def test_zip_with_the_package_at_its_root_or_in_one_folder(app, users, tmp_path):
    entries = zip_of_tiny(tmp_path, prefix="")
    extra = {"__MACOSX/._course.yaml": b"\0\1", ".DS_Store": b"\0"}
    course = packages.import_package(zip_bytes(entries | extra), owners=[users["trainer"]])
    assert course.slug == "tiny-course"
    db.session.rollback()
    path = tmp_path / "pkg.zip"
    path.write_bytes(zip_bytes({f"download-main/{k}": v for k, v in entries.items()}))
    course = packages.import_package(path, owners=[users["trainer"]])
    assert [m.source_key for m in course.published_modules] == ["intro", "practice"]
    # Two top folders: which one is the package?
    both = {f"a/{k}": v for k, v in entries.items()} | {f"b/{k}": v for k, v in entries.items()}
    db.session.rollback()
    assert [e.file for e in errors_of(zip_bytes(both), [users["trainer"]])] == ["course.yaml"]


def test_failed_reimport_changes_nothing(app, users, tmp_path):
    root = write_tiny(tmp_path / "pkg")
    packages.import_package(root, owners=[users["trainer"]])
    db.session.commit()
    before = counts()
    replace_in(root, "course.yaml", "title: A tiny course", "title: Renamed")
    mutate(root, "03-more/module.yaml", "title: More\n")
    mutate(root, "03-more/01-x.md", "---\ntitle: X\nminutes: 0\n---\n")
    errors = errors_of(root, [])
    assert [(e.file, e.line) for e in errors] == [("03-more/01-x.md", 3)]
    course = packages.find_course_or_none("tiny-course")
    assert course.title == "A tiny course" and course.version == 1
    assert counts() == before


def test_an_archived_course_is_not_published_again(app, users, tmp_path):
    root = write_tiny(tmp_path / "pkg")
    course = packages.import_package(root, owners=[users["trainer"]])
    services.archive_course(course)
    db.session.commit()
    errors = errors_of(root, [])
    assert [(e.file, e.line) for e in errors] == [("course.yaml", 1)]
    course = packages.import_package(root, owners=[], publish=False)
    assert course.status == "archived" and course.version == 1


# --- other plugins' hooks -------------------------------------------------------------------


class QuizImporter:
    """What the quizzes plugin will do: check and keep the GIFT files."""

    course_keys = {"quiz_policy"}
    module_keys = {"badge"}
    file_patterns = ["*/notes.txt"]

    def __init__(self) -> None:
        self.applied: list[tuple[str, int | None, str]] = []

    def validate(self, package):
        return [
            packages.PackageError(f"{m.folder}/quiz.gift", 1, "Empty quiz.")
            for m in package.modules
            if m.files.get("quiz.gift", "x").strip() == ""
        ]

    def apply(self, package, course):
        for module in package.modules:
            assert db.session.get(Module, module.module_id).course_id == course.id
            self.applied.append((module.key, module.module_id, module.files.get("quiz.gift", "")))


def test_other_plugins_validate_apply_and_export_their_files(app, users, tmp_path):
    importer = QuizImporter()
    root = write_tiny(tmp_path / "pkg")
    mutate(root, "course.yaml", COURSE_YAML + "quiz_policy: strict\n")
    mutate(root, "02-practice/module.yaml", "title: Practice\nbadge: gold\n")
    mutate(root, "02-practice/notes.txt", "kept for the plugin")
    mutate(root, "02-practice/quiz.gift", "  \n")

    def importers(sender, **kwargs):
        return importer

    def exporter(course, folder):
        (folder / "final-assessment.gift").write_text(f"// {course.slug}\n", encoding="utf-8")

    def exporters(sender, **kwargs):
        return [exporter]

    with (
        get_package_importers.connected_to(importers),
        get_package_exporters.connected_to(exporters),
    ):
        errors = errors_of(root, [users["trainer"]])
        assert [(e.file, e.line, e.message) for e in errors] == [
            ("02-practice/quiz.gift", 1, "Empty quiz.")
        ]
        assert importer.applied == []
        mutate(root, "02-practice/quiz.gift", "::Q:: Ok? {T}\n")
        course = packages.import_package(root, owners=[users["trainer"]])
        assert [key for key, _, _ in importer.applied] == ["intro", "practice"]
        assert importer.applied[1][2] == "::Q:: Ok? {T}\n"
        names = zipfile.ZipFile(io.BytesIO(packages.export_zip(course))).namelist()
        assert "tiny-course/final-assessment.gift" in names
    # Without the plugin, its keys are unknown again.
    errors = errors_of(root, [users["trainer"]])
    assert ("course.yaml", 14) in [(e.file, e.line) for e in errors]


# --- command line -----------------------------------------------------------------------------


def test_cli_import_and_export(app, users, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["courses", "import", str(DEMO / EN), "--owner", "trainer@example.org"]
    )
    assert result.exit_code == 0, result.output
    assert "Imported circular-economy-ict (version 1, published)" in result.output
    out = tmp_path / "out.zip"
    result = runner.invoke(args=["courses", "export", EN, str(out)])
    assert result.exit_code == 0, result.output
    assert packages.read_package(out).slug == EN
    result = runner.invoke(args=["courses", "export", EN, str(tmp_path / "folder")])
    assert result.exit_code == 0 and (tmp_path / "folder" / "course.yaml").is_file()
    result = runner.invoke(args=["courses", "export", EN, str(tmp_path / "folder")])
    assert result.exit_code == 1 and "is not empty" in result.output
    result = runner.invoke(args=["courses", "import", str(out), "--draft"])
    assert result.exit_code == 0, result.output
    assert "version 1, published" in result.output  # a draft import leaves the published version
    assert runner.invoke(args=["courses", "export", "nope", str(tmp_path / "x.zip")]).exit_code == 1


def test_cli_import_lists_errors_and_changes_nothing(app, users, tmp_path):
    root = write_tiny(tmp_path / "pkg")
    replace_in(root, "course.yaml", "topic: green-innovation", "topic: gardening")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["courses", "import", str(root), "--owner", "trainer@example.org"])
    assert result.exit_code == 1
    assert "course.yaml:4: Unknown topic." in result.output
    assert "nothing was imported" in result.output
    result = runner.invoke(args=["courses", "import", str(root), "--owner", "who@example.org"])
    assert result.exit_code == 1 and "No account" in result.output
    assert counts() == (0, 0, 0, 0)


# --- the upload page and the download ---------------------------------------------------------


def upload(client, data: bytes, publish: bool = True):
    form = {
        "csrf_token": csrf_token(client, "/courses/manage/import"),
        "file": (io.BytesIO(data), "package.zip"),
    }
    if publish:
        form["publish"] = "y"
    return client.post("/courses/manage/import", data=form, content_type="multipart/form-data")


def test_trainer_imports_a_package_and_owns_it(client, users, tmp_path):
    login(client, "trainer@example.org")
    page = client.get("/courses/manage/import")
    assert page.status_code == 200 and 'type="file"' in page.get_data(as_text=True)
    response = upload(client, zip_bytes(zip_of_tiny(tmp_path)))
    assert response.status_code == 302
    assert "tiny-course" in response.headers["Location"]
    course = packages.find_course_or_none("tiny-course")
    assert course.is_published and [o.email for o in course.owners] == ["trainer@example.org"]
    # A second upload without "publish" updates only the working copy.
    response = upload(client, zip_bytes(zip_of_tiny(tmp_path / "again")), publish=False)
    assert response.status_code == 302
    assert db.session.get(Course, course.id).version == 1


def test_upload_lists_every_error_and_imports_nothing(client, users, tmp_path):
    login(client, "trainer@example.org")
    entries = zip_of_tiny(tmp_path)
    entries["tiny-course/course.yaml"] = entries["tiny-course/course.yaml"].replace(
        b"topic: green-innovation", b"topic: <script>alert(1)</script>"
    )
    entries["tiny-course/02-practice/01-do-it.md"] = b"---\ntitle: Do it\n---\n"
    response = upload(client, zip_bytes(entries))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<code>course.yaml</code></td><td>4</td><td>Unknown topic.</td>" in html
    assert "<code>02-practice/01-do-it.md</code></td><td>1</td>" in html
    assert "<script>alert" not in html
    assert counts() == (0, 0, 0, 0)
    response = upload(client, b"not a zip at all")
    assert response.status_code == 400 and "not a valid zip" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0, 0)


def test_learners_may_not_import_or_export(client, users, create_course, tmp_path):
    create_course("someone-elses", owner=users["trainer"])
    login(client, "learner@example.org")
    assert client.get("/courses/manage/import").status_code == 403
    assert upload_forbidden(client, zip_bytes(zip_of_tiny(tmp_path))) == 403
    assert client.get("/courses/manage/someone-elses/export").status_code == 403
    assert counts()[0] == 1


def upload_forbidden(client, data: bytes) -> int:
    token = csrf_token(client, "/")
    return client.post(
        "/courses/manage/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "p.zip")},
        content_type="multipart/form-data",
    ).status_code


def test_a_trainer_cannot_overwrite_a_foreign_course_but_an_admin_can(
    client, users, create_user, create_course, tmp_path
):
    create_course("tiny-course", title="Someone else's", owner=users["trainer"])
    create_user("other.trainer@example.org", roles=("trainer",))
    before = counts()
    data = zip_bytes(zip_of_tiny(tmp_path))
    login(client, "other.trainer@example.org")
    response = upload(client, data)
    assert response.status_code == 404
    assert "There is no course tiny-course that you may change" in response.get_data(as_text=True)
    course = packages.find_course_or_none("tiny-course")
    assert course.title == "Someone else's" and course.version == 1 and counts() == before
    assert client.get("/courses/manage/tiny-course/export").status_code == 404
    admin = client.application.test_client()
    login(admin, "admin@example.org")
    assert upload(admin, data).status_code == 302
    course = db.session.get(Course, course.id)
    assert course.title == "A tiny course" and course.version == 2
    assert [o.email for o in course.owners] == ["trainer@example.org"]  # owners unchanged


def test_owner_downloads_the_package(client, users, tmp_path):
    course = import_demo(users["trainer"], EN)[EN]
    login(client, "trainer@example.org")
    response = client.get(f"/courses/manage/{EN}/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == f"attachment; filename={EN}.zip"
    assert response.data == packages.export_zip(db.session.get(Course, course.id))
    assert packages.read_package(response.data).slug == EN
    assert client.get("/courses/manage/no-such-course/export").status_code == 404


def test_a_plugin_refusing_in_apply_leaves_nothing_behind(app, users, tmp_path):
    from lms.services import ServiceError

    class Refuser:
        def validate(self, package):
            return []

        def apply(self, package, course):
            raise ServiceError("The quiz bank is full.")

    def importers(sender, **kwargs):
        return Refuser()

    root = write_tiny(tmp_path / "pkg")
    with (
        get_package_importers.connected_to(importers),
        pytest.raises(packages.PackageInvalid) as raised,
    ):
        packages.import_package(root, owners=[users["trainer"]])
    errors = raised.value.errors
    assert [(e.file, e.message) for e in errors] == [("course.yaml", "The quiz bank is full.")]
    assert counts() == (0, 0, 0, 0)  # undone already, before the caller rolls back
