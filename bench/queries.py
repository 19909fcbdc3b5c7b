"""SQL statements per page, counted in-process, for a small and a larger population."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from lms import services
from lms.app import create_app
from lms.extensions import db


def _populate(companies: int, users_per_company: int) -> None:
    for c in range(companies):
        company = services.create_company(
            services.CompanyData(name=f"Bench {c}", uic=_uic(c)),
            services.FiguresData(reference_year=2025, headcount=10),
        )
        for u in range(users_per_company):
            services.create_user(
                services.UserData(
                    email=f"b{c}-{u}@example.org", name=f"B {c} {u}", password="bench-password-1"
                ),
                company=company,
            )
    db.session.commit()


def _uic(n: int) -> str:
    from lms.sme import is_valid_uic

    base = 300_000_000 + n * 10
    return next(str(base + d) for d in range(10) if is_valid_uic(str(base + d)))


def _count(app, email: str) -> int:  # noqa: ANN001
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post(
        "/login", data={"csrf_token": token, "email": email, "password": "bench-password-1"}
    )
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def count_home_page_queries(directory: Path) -> tuple[dict[str, int], dict[str, int]]:
    results = []
    for name, companies, per_company in (("small", 5, 10), ("large", 100, 10)):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / f'queries-{name}.sqlite3'}",
                "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            }
        )
        with app.app_context():
            db.create_all()
            _populate(companies, per_company)
        queries = _count(app, "b0-0@example.org")
        results.append(
            {"companies": companies, "users": companies * per_company, "queries": queries}
        )
    return results[0], results[1]
