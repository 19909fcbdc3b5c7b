"""`flask --app wsgi quizzes ...`: GIFT import and export."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from courses.packages import find_course_or_none
from lms.extensions import db
from lms.services import ServiceError
from quizzes import services
from quizzes.handlers import _gift_of


@click.group("quizzes", cls=AppGroup, help="Quizzes: GIFT import and export.")
def quizzes_group() -> None:
    pass


def _course(slug: str):  # noqa: ANN202
    course = find_course_or_none(slug)
    if course is None:
        raise click.ClickException(f"No course {slug}.")
    return course


@quizzes_group.command("import-gift")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--course", "slug", required=True, help="Slug of the course.")
@click.option(
    "--module",
    "module_number",
    type=int,
    help="Make the questions the quiz of module N (1 = first); without it they only "
    "join the course's question bank.",
)
def import_gift(file: Path, slug: str, module_number: int | None) -> None:
    """Import a GIFT file. Every error is reported with its line; nothing is imported from a
    file with errors."""
    course = _course(slug)
    text = file.read_text(encoding="utf-8-sig")
    module = None
    if module_number is not None:
        live = [m for m in course.modules if not m.deleted]
        live.sort(key=lambda m: m.position)
        if not 1 <= module_number <= len(live):
            raise click.ClickException(f"The course has modules 1 to {len(live)}.")
        module = live[module_number - 1]
    from quizzes import gift

    result = gift.parse_gift(text)
    for line, message in result.errors:
        click.echo(f"{file}:{line}: {message}", err=True)
    if result.errors:
        raise click.ClickException(f"{len(result.errors)} error(s); nothing was imported.")
    try:
        made = services.import_gift(course, text, module)
        if module is not None:
            existing = services.quiz_for(course, module)
            settings = {"title": existing.title if existing else f"Check: {module.title}"}
            services.set_quiz(course, module, settings, made)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(
        f"{len(made)} questions imported into {course.slug}"
        + (f", module {module_number}." if module else ".")
    )


@quizzes_group.command("export-gift")
@click.option("--course", "slug", required=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_gift(slug: str, file: Path) -> None:
    """Export every quiz of a course to one GIFT file (a $CATEGORY per quiz)."""
    course = _course(slug)
    from sqlalchemy import select

    from quizzes.models import Quiz

    parts = []
    for quiz in db.session.scalars(
        select(Quiz).where(Quiz.course_id == course.id).order_by(Quiz.module_id.is_(None), Quiz.id)
    ):
        parts.append(f"$CATEGORY: {quiz.title.replace(chr(10), ' ')}\n\n{_gift_of(quiz)}")
    file.write_text("\n".join(parts), encoding="utf-8")
    click.echo(f"Exported {len(parts)} quizzes to {file}.")
