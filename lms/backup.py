"""Online backups of the database, taken while the app keeps serving.

SQLite: the SQLite online backup API copies a consistent snapshot page by page, in steps, so
writers are only briefly held up (WAL mode lets readers go on throughout). PostgreSQL: `pg_dump`
in its custom format (a consistent snapshot by MVCC, no lock on writers), restored with
`pg_restore`. Either way the copy is written next to the destination and renamed into place, so
a backup file is whole or absent.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL, make_url

#: Pages copied per step of the SQLite backup; between steps other connections may write.
PAGES_PER_STEP = 256


class BackupError(RuntimeError):
    pass


def backup_database(
    database_url: str | URL,
    destination: Path,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Back up the database at `database_url` into `destination` (a file path)."""
    url = make_url(database_url)
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            _backup_sqlite(url, partial, progress)
        elif url.get_backend_name() == "postgresql":
            _backup_postgresql(url, partial)
        else:
            raise BackupError(f"no backup method for {url.get_backend_name()} databases")
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def _backup_sqlite(url: URL, target: Path, progress: Callable[[int, int], None] | None) -> None:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:

        def report(status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        source.backup(copy, pages=PAGES_PER_STEP, progress=report)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        copy.close()
        source.close()


def _backup_postgresql(url: URL, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (Debian package postgresql-client)")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where ps shows it
    command = [pg_dump, "--format=custom", "--no-owner", f"--file={target}"]
    if url.host:
        command.append(f"--host={url.host}")
    if url.port:
        command.append(f"--port={url.port}")
    if url.username:
        command.append(f"--username={url.username}")
    command.append(f"--dbname={url.database}")
    # An argument list, no shell; every value comes from the configured database URL.
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
