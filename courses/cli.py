"""`flask --app wsgi courses ...`: course packages from and to folders or zip files."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from courses import packages
from lms.extensions import db
from lms.models import User


@click.group("courses", cls=AppGroup, help="Courses: import and export course packages.")
def courses_group() -> None:
    pass


@courses_group.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--owner", "owner_email", help="Email of the trainer who owns a new course.")
@click.option("--draft", is_flag=True, help="Import without publishing.")
def import_command(path: Path, owner_email: str | None, draft: bool) -> None:
    """Import a course package (a folder or a .zip). Everything is checked first; nothing
    changes when anything is wrong. Re-importing a slug updates that course as a new version."""
    owners = []
    if owner_email:
        owner = db.session.scalar(select(User).where(User.email == owner_email.strip().lower()))
        if owner is None:
            raise click.ClickException(f"No account {owner_email}.")
        owners.append(owner)
    try:
        course = packages.import_package(path, owners=owners, publish=not draft)
    except packages.PackageInvalid as invalid:
        db.session.rollback()
        for error in invalid.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(
            f"{len(invalid.errors)} error(s); nothing was imported."
        ) from None
    db.session.commit()
    click.echo(f"Imported {course.slug} (version {course.version}, {course.status}).")


@courses_group.command("export")
@click.argument("slug")
@click.argument("path", type=click.Path(path_type=Path))
def export_command(slug: str, path: Path) -> None:
    """Export a course as a package: a .zip file, or a folder if PATH does not end in .zip
    (a new or empty folder; hidden entries such as .git may be there)."""
    course = packages.find_course_or_none(slug)
    if course is None:
        raise click.ClickException(f"No course {slug}.")
    if path.suffix == ".zip":
        path.write_bytes(packages.export_zip(course))
    else:
        try:
            packages.write_package(course, path)
        except FileExistsError:
            raise click.ClickException(
                f"{path} is not empty; export into a new or empty folder."
            ) from None
    click.echo(f"Exported {slug} to {path}.")
