"""Operator commands."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from lms.extensions import db
from lms.models import Company, User
from tests.conftest import login, make_app


def test_demo_loads_one_account_per_role_and_is_idempotent(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    for email in DEMO_ACCOUNTS.values():
        assert email in result.output
    users = db.session.scalar(select(func.count(User.id)))
    companies = db.session.scalar(select(func.count(Company.id)))
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    assert db.session.scalar(select(func.count(User.id))) == users
    assert db.session.scalar(select(func.count(Company.id))) == companies
    roles = {
        role: db.session.scalar(select(User).where(User.email == email)).roles
        for role, email in DEMO_ACCOUNTS.items()
    }
    for role, held in roles.items():
        assert role in held


def test_all_four_demo_accounts_log_in(app):
    app.test_cli_runner().invoke(args=["lms", "demo"])
    for email in DEMO_ACCOUNTS.values():
        client = app.test_client()
        assert login(client, email, DEMO_PASSWORD).status_code == 302, email


def test_demo_if_empty_leaves_a_used_database_alone(app, create_user):
    create_user("someone@example.org")
    result = app.test_cli_runner().invoke(args=["lms", "demo", "--if-empty"])
    assert "not loaded" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_demo_is_refused_in_production(database_url):
    app = make_app(database_url, ENV="production")
    result = app.test_cli_runner().invoke(args=["lms", "demo"])
    assert result.exit_code != 0 and "never loaded in production" in result.output


def test_demo_accounts_cannot_log_in_in_production(app, database_url):
    app.test_cli_runner().invoke(args=["lms", "demo"])
    production = make_app(database_url, ENV="production")
    client = production.test_client()
    assert login(client, DEMO_ACCOUNTS["admin"], DEMO_PASSWORD).status_code == 200


def test_create_admin(app):
    result = app.test_cli_runner().invoke(
        args=[
            "lms",
            "create-admin",
            "--email",
            "Boss@Example.org",
            "--name",
            "Boss",
            "--password",
            "long-enough-pass",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert user.roles == {"admin"}


def test_create_admin_refuses_weak_password(app):
    result = app.test_cli_runner().invoke(
        args=["lms", "create-admin", "--email", "a@example.org", "--name", "A", "--password", "x"]
    )
    assert result.exit_code != 0 and "at least 10 characters" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_check_reports_state(app):
    result = app.test_cli_runner().invoke(args=["lms", "check"])
    assert result.exit_code == 0, result.output
    assert "newest revision" in result.output and "SECRET_KEY" not in result.output


def test_check_fails_on_an_empty_database(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = app.test_cli_runner().invoke(args=["lms", "check"])
    assert result.exit_code == 1 and "db upgrade" in result.output


def test_import_users_from_csv(app, create_company, tmp_path):
    company = create_company(uic="175074752")
    csv_file = tmp_path / "staff.csv"
    csv_file.write_text("email;name\nx@example.org;X Person\ny@example.org;Y Person\n")
    result = app.test_cli_runner().invoke(
        args=["lms", "import-users", str(csv_file), "--company", "BG175074752"]
    )
    assert result.exit_code == 0, result.output
    assert "2 accounts created" in result.output
    assert {m.user.email for m in db.session.get(Company, company.id).memberships} == {
        "x@example.org",
        "y@example.org",
    }


def test_import_users_with_errors_imports_nothing(app, create_company, tmp_path):
    create_company(uic="175074752")
    csv_file = tmp_path / "staff.csv"
    csv_file.write_text("email,name\nx@example.org,X\nbroken,Y\n")
    result = app.test_cli_runner().invoke(
        args=["lms", "import-users", str(csv_file), "--company", "175074752"]
    )
    assert result.exit_code != 0 and "line 3" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0
