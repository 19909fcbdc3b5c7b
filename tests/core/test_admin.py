"""Cluster administration: companies with validated UIC and computed class, users, roles,
deactivation, staff CSV import, and coordinators kept to their own company."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Company, CompanyFigures, Membership, User
from tests.conftest import login, post_form


def admin_client(app, users):
    client = app.test_client()
    login(client, "admin@example.org")
    return client


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


COMPANY = {
    "name": "Pomorie Pixels Ltd.",
    "uic": "BG 175074752",
    "registered_on": "2024-02-01",
    "nace_code": "62.01",
    "nuts3": "BG341",
    "fig-reference_year": "2025",
    "fig-headcount": "12",
    "fig-turnover_eur": "2500000",
    "fig-balance_sheet_eur": "1800000",
}


def test_admin_registers_a_company_and_sees_its_class(app, users):
    client = admin_client(app, users)
    before = count(Company)
    response = post_form(client, "/admin/companies/new", COMPANY)
    assert response.status_code == 302
    company = db.session.scalar(select(Company).where(Company.uic == "175074752"))
    assert company.name == "Pomorie Pixels Ltd." and count(Company) == before + 1
    assert company.size_class == "small"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "small" in page and company.invitation_code in page


def test_company_with_bad_uic_is_refused_and_nothing_stored(app, users):
    client = admin_client(app, users)
    before = count(Company), count(CompanyFigures)
    response = post_form(client, "/admin/companies/new", {**COMPANY, "uic": "175074751"})
    assert "not valid" in response.get_data(as_text=True)
    assert (count(Company), count(CompanyFigures)) == before


def test_company_uic_is_unique(app, users):
    client = admin_client(app, users)
    post_form(client, "/admin/companies/new", COMPANY)
    response = post_form(client, "/admin/companies/new", {**COMPANY, "uic": "175074752"})
    assert "already registered" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Company.uic == "175074752")) == 1


def test_large_company_warns_that_it_is_not_an_sme(app, users):
    client = admin_client(app, users)
    data = {**COMPANY, "fig-headcount": "300"}
    response = post_form(client, "/admin/companies/new", data, follow_redirects=True)
    assert "not an SME" in response.get_data(as_text=True)


def test_figures_per_year_are_kept_apart(app, users):
    client = admin_client(app, users)
    post_form(client, "/admin/companies/new", {**COMPANY, "fig-headcount": "8"})
    company = db.session.scalar(select(Company).where(Company.uic == "175074752"))
    response = post_form(
        client,
        f"/admin/companies/{company.id}/figures",
        {"fig-reference_year": "2026", "fig-headcount": "60", "fig-turnover_eur": "1"},
    )
    assert response.status_code == 302
    db.session.refresh(company)
    assert [(f.reference_year, f.size_class) for f in company.figures] == [
        (2026, "medium"),
        (2025, "micro"),
    ]
    assert company.figures_for(2025).size_class == "micro"


def test_admin_creates_user_with_roles_and_company(app, users):
    client = admin_client(app, users)
    company_id = users["learner"].memberships[0].company_id
    response = post_form(
        client,
        "/admin/users/new",
        {
            "name": "New Trainer",
            "email": "new.trainer@example.org",
            "language": "en",
            "roles": ["trainer", "learner"],
            "company_id": str(company_id),
            "coordinator": "y",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.trainer@example.org"))
    assert user.roles == {"trainer", "learner", "coordinator"}


def test_admin_cannot_remove_own_admin_role_or_deactivate_self(app, users):
    client = admin_client(app, users)
    admin_id = users["admin"].id
    response = post_form(
        client,
        f"/admin/users/{admin_id}",
        {
            "name": "A",
            "email": "admin@example.org",
            "language": "en",
            "roles": ["learner"],
            "company_id": "0",
        },
    )
    assert "own admin role" in response.get_data(as_text=True)
    post_form(client, f"/admin/users/{admin_id}/active", {"active": "0"})
    assert db.session.get(User, admin_id).active


def csv_upload(text: str, only_valid: bool = False) -> dict:
    data = {"file": (io.BytesIO(text.encode()), "staff.csv")}
    if only_valid:
        data["only_valid"] = "y"
    return data


STAFF_CSV = (
    "email,name,language,gender,age_band,job_role,coordinator\n"
    "maria@example.org,Мария Петрова,bg,female,25_34,Developer,no\n"
    "not-an-email,Broken Row,bg,,,,\n"
    "stefan@example.org,Стефан Колев,en,male,35_44,Tester,yes\n"
    "maria@example.org,Duplicate Maria,bg,,,,\n"
    "elena@example.org,Elena,xx,robot,,,\n"
)


def test_csv_import_with_errors_imports_nothing_and_reports_each_line(app, users):
    client = admin_client(app, users)
    company_id = users["learner"].memberships[0].company_id
    before = count(User)
    response = post_form(
        client,
        f"/admin/companies/{company_id}/import",
        csv_upload(STAFF_CSV),
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert count(User) == before
    assert "not a valid email address" in html and "Duplicate of line 2" in html
    assert "Unknown language" in html and "Unknown gender" in html
    for line in ("<td>3</td>", "<td>5</td>", "<td>6</td>"):
        assert line in html


def test_csv_import_of_valid_rows_only_when_asked(app, users):
    client = admin_client(app, users)
    company_id = users["learner"].memberships[0].company_id
    before = count(User)
    response = post_form(
        client,
        f"/admin/companies/{company_id}/import",
        csv_upload(STAFF_CSV, only_valid=True),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert count(User) == before + 2
    stefan = db.session.scalar(select(User).where(User.email == "stefan@example.org"))
    assert stefan.roles == {"learner", "coordinator"}
    assert stefan.memberships[0].company_id == company_id


def test_csv_import_refuses_binary_and_missing_columns(app, users):
    client = admin_client(app, users)
    company_id = users["learner"].memberships[0].company_id
    before = count(User)
    for body, message in (
        ("\x00\x01\x02binary", "NUL bytes"),
        ("mail;fullname\nx@example.org;X\n", "Missing column"),
        ("email,name\n", "no data rows"),
    ):
        response = post_form(
            client,
            f"/admin/companies/{company_id}/import",
            csv_upload(body),
            content_type="multipart/form-data",
        )
        assert message in response.get_data(as_text=True)
    latin1 = {
        "file": (io.BytesIO("email,name\nx@example.org,J\xf6rg\n".encode("latin-1")), "a.csv")
    }
    response = post_form(
        client, f"/admin/companies/{company_id}/import", latin1, content_type="multipart/form-data"
    )
    assert "not UTF-8" in response.get_data(as_text=True)
    assert count(User) == before


def test_coordinator_renews_invitation_code(app, users):
    client = app.test_client()
    login(client, "coordinator@example.org")
    company = db.session.get(Company, users["coordinator"].memberships[0].company_id)
    old = company.invitation_code
    assert post_form(client, f"/company/{company.id}/invitation").status_code == 302
    db.session.refresh(company)
    assert company.invitation_code != old
    assert db.session.scalar(select(func.count(Membership.id))) == 4  # nobody moved
