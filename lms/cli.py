"""Operator commands: `flask --app wsgi lms ...`."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect, select, text

from lms import demo, services
from lms.config import DEFAULT_SECRET_KEY
from lms.database import write_intent
from lms.extensions import db
from lms.models import Company, User, count_users
from lms.signals import collect, get_check_results


@click.group("lms", cls=AppGroup, help="Platform administration: accounts, demo data, checks.")
def lms_group() -> None:
    pass


@lms_group.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--password", help="Omit to be prompted (recommended).")
def create_admin(email: str, name: str, password: str | None) -> None:
    """Create a cluster admin account (or give an existing account the admin role)."""
    user = services.find_user_by_email(email)
    if user is not None:
        services.set_roles(user, {r.role for r in user.role_rows} | {"admin"})
        db.session.commit()
        click.echo(f"{user.email} is now a cluster admin.")
        return
    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise click.ClickException("The passwords differ.")
    try:
        user = services.create_user(
            services.UserData(email=email, name=name, password=password, roles=("admin",))
        )
    except services.ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"Cluster admin {user.email} created.")


@lms_group.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no accounts yet.")
def load_demo(if_empty: bool) -> None:
    """Load demo companies, one account per role, and the plugins' demo content."""
    if current_app.config["ENV"] == "production":
        raise click.ClickException("Demo data is never loaded in production mode.")
    if if_empty and count_users() > 0:
        click.echo("The database already has accounts; demo data not loaded.")
        return
    demo.load_demo_data()
    db.session.commit()
    click.echo("Demo data is loaded. Demo accounts (password: demo-password):")
    for role, email in demo.DEMO_ACCOUNTS.items():
        click.echo(f"  {role:<12} {email}")


@lms_group.command("import-users")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--company", "uic", required=True, help="UIC/EIK of the company.")
@click.option("--only-valid", is_flag=True, help="Import the valid rows even if others fail.")
def import_users(csv_file: Path, uic: str, only_valid: bool) -> None:
    """Create the accounts of a company's staff from a CSV file."""
    from lms.sme import normalise_uic

    company = db.session.scalar(select(Company).where(Company.uic == normalise_uic(uic)))
    if company is None:
        raise click.ClickException(f"No company with UIC {uic}.")
    report = services.parse_user_csv(csv_file.read_bytes())
    for message in report.file_errors:
        click.echo(f"error: {message}", err=True)
    for row in report.invalid_rows:
        for message in row.errors:
            click.echo(f"line {row.line}: {message}", err=True)
    if report.file_errors or (report.invalid_rows and not only_valid):
        raise click.ClickException("Nothing imported. Fix the errors or use --only-valid.")
    with click.progressbar(length=len(report.valid_rows), label="Creating accounts") as bar:
        services.import_users(company, report, only_valid=only_valid, progress=bar.update)
    db.session.commit()
    click.echo(f"{report.imported} accounts created in {company.name}.")


@lms_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Take an online backup of the database into PATH (SQLite backup API or pg_dump),
    while the app keeps serving."""
    from lms.backup import BackupError, backup_database

    url = db.engine.url
    with click.progressbar(length=100, label="Backing up") as bar:
        done = [0]

        def progress(copied: int, total: int) -> None:
            step = int(copied * 100 / total) if total else 100
            bar.update(step - done[0])
            done[0] = step

        try:
            backup_database(url, path, progress)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
        bar.update(100 - done[0])
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")


@lms_group.command("purge-expired")
@click.option("--dry-run", is_flag=True, help="Only say how many accounts would be anonymised.")
def purge_expired(dry_run: bool) -> None:
    """Anonymise erased accounts once PRIVACY_RETENTION_UNTIL has passed (see lms/privacy.py)."""
    from lms import privacy

    until = privacy.retention_until()
    users = privacy.expired_users()
    if not users:
        click.echo(f"Nothing to anonymise (restricted data is kept until {until.isoformat()}).")
        return
    if dry_run:
        click.echo(f"{len(users)} erased accounts would be anonymised.")
        return
    with click.progressbar(users, label="Anonymising erased accounts") as bar:
        for user in bar:
            privacy.anonymise_user(user)
    db.session.commit()
    click.echo(f"{len(users)} erased accounts anonymised.")


@lms_group.command("check")
def check() -> None:
    """Report configuration problems and the database state. Exit 1 on any error."""
    with write_intent(False):  # read-only: never wait for, or take, the write lock
        results = _check_results()
    for level, message in results:
        click.echo(f"[{level:^7}] {message}")
    if any(level == "error" for level, _ in results):
        sys.exit(1)


def _check_results() -> list[tuple[str, str]]:
    results: list[tuple[str, str]] = []
    config = current_app.config
    production = config["ENV"] == "production"
    results.append(("ok", f"Mode: {config['ENV']}; plugins: {', '.join(config['PLUGINS'])}"))
    if config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        results.append(("error" if production else "warning", "SECRET_KEY is the default."))
    if production and not config["SESSION_COOKIE_SECURE"]:
        results.append(("error", "Session cookies are not marked Secure in production."))
    if production and not config["MAIL_SERVER"]:
        results.append(("warning", "No MAIL_SERVER: password-reset mail only goes to the log."))
    url = db.engine.url.render_as_string(hide_password=True)
    try:
        db.session.execute(text("SELECT 1"))
        results.append(("ok", f"Database reachable: {url}"))
        revision = _migration_state()
        results.append(revision)
        if revision[0] == "ok":
            users = count_users()
            demo_users = db.session.scalar(select(db.func.count(User.id)).where(User.is_demo))
            results.append(("ok", f"{users} accounts, {demo_users} of them demo accounts."))
            if production and demo_users:
                results.append(("error", "Demo accounts exist in a production database."))
    except Exception as error:  # noqa: BLE001 - reported, not raised
        results.append(("error", f"Database not usable ({url}): {type(error).__name__}"))
    results.extend(collect(get_check_results, current_app._get_current_object()))
    db.session.rollback()
    return results


def _migration_state() -> tuple[str, str]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate

    migrate: Migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config())
    heads = set(script.get_heads())
    connection = db.session.connection()
    current = set(MigrationContext.configure(connection).get_current_heads())
    if not current and not inspect(connection).get_table_names():
        return ("error", "The database is empty: run `flask --app wsgi db upgrade`.")
    if current != heads:
        return ("error", f"Schema at {sorted(current)}, newest is {sorted(heads)}: run db upgrade.")
    return ("ok", f"Schema is at the newest revision {', '.join(sorted(heads))}.")


def _add_report_command() -> None:
    from lms.reports.cli import report_command  # the grant report (lms.reports)

    lms_group.add_command(report_command)


_add_report_command()
