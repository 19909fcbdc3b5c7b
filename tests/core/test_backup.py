"""`flask lms backup PATH`: an online backup taken while writes go on restores to a working
app that verifies every certificate and shows the same progress."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from lms import services as lms_services
from lms.extensions import db
from lms.models import User
from tests.conftest import make_app


def _restore(backup: Path, source_url: str, tmp_path: Path) -> tuple[str, object]:
    """A database restored from `backup`, and a function that drops it afterwards."""
    url = make_url(source_url)
    if url.get_backend_name() == "sqlite":
        copy = tmp_path / "restored.sqlite3"
        shutil.copy(backup, copy)
        return f"sqlite:///{copy}", lambda: None
    name = f"lms_restore_{secrets.token_hex(4)}"
    server = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    target = url.set(drivername="postgresql+psycopg", database=name)
    env = dict(os.environ, PGPASSWORD=str(url.password or ""))
    command = ["pg_restore", "--no-owner", f"--dbname={name}"]
    command += [f"--host={url.host}"] if url.host else []
    command += [f"--port={url.port}"] if url.port else []
    command += [f"--username={url.username}"] if url.username else []
    subprocess.run([*command, str(backup)], env=env, check=True, capture_output=True)

    def drop() -> None:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()

    return target.render_as_string(hide_password=False), drop


def test_online_backup_restores_to_a_working_app(
    app, database_url, users, create_course, tmp_path
):
    from certificates import services as certificate_services
    from certificates.models import Certificate
    from courses import services as course_services
    from courses.models import LessonProgress

    learner = users["learner"]
    course = create_course("backed-up", modules=1, lessons=2)
    course_services.enrol(learner, course)
    for lesson in course.published_modules[0].published_lessons:
        course_services.complete_lesson(learner, lesson)
    other = create_course("half-done", modules=1, lessons=3)
    course_services.enrol(users["other_learner"], other)
    course_services.complete_lesson(
        users["other_learner"], other.published_modules[0].published_lessons[0]
    )
    db.session.commit()
    certificates = {c.code: c.pdf_sha256 for c in db.session.scalars(select(Certificate))}
    assert len(certificates) == 1
    progress = db.session.scalar(select(func.count()).select_from(LessonProgress))
    users_before = db.session.scalar(select(func.count()).select_from(User))

    # Writes go on while the backup runs.
    stop = threading.Event()
    written = []

    def write_load() -> None:
        with app.app_context():
            n = 0
            while not stop.is_set() and n < 200:
                lms_services.create_user(
                    lms_services.UserData(
                        email=f"load{n}@example.org", name=f"Load {n}", password="x" * 12
                    )
                )
                db.session.commit()
                written.append(n)
                n += 1
            db.session.remove()

    writer = threading.Thread(target=write_load)
    writer.start()
    try:
        backup = tmp_path / "nested" / "lms-backup.dump"
        result = app.test_cli_runner().invoke(args=["lms", "backup", str(backup)])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert backup.is_file() and "Backup written" in result.output
    assert not list(backup.parent.glob(".*partial"))
    assert written, "the writer did not run during the backup"

    restored_url, drop = _restore(backup, database_url, tmp_path)
    try:
        restored = make_app(restored_url)
        with restored.app_context():
            for code, sha256 in certificates.items():
                found = certificate_services.find_by_code(code)
                assert found is not None and found.pdf_sha256 == sha256
                assert certificate_services.verification(found).status.value == "valid"
                assert certificate_services.document_bytes(found) is not None
            assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == progress
            count = db.session.scalar(select(func.count()).select_from(User))
            assert users_before <= count <= users_before + len(written)
            db.session.remove()
    finally:
        drop()


def test_backup_refuses_what_it_cannot_back_up(tmp_path):
    from lms.backup import BackupError, backup_database

    with pytest.raises(BackupError):
        backup_database("sqlite://", tmp_path / "x")
    with pytest.raises(BackupError):
        backup_database("mysql://u@h/db", tmp_path / "x")
    assert not (tmp_path / "x").exists()
