"""Registration, login, logout, password change and reset, in the test client.

Assertions check the database as well as the responses (SECURITY.md)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Membership, User
from tests.conftest import PASSWORD, login, logout, post_form

REGISTRATION = {
    "name": "Dimitar Ivanov",
    "email": "Dimitar@Example.org",
    "password": "a-long-password-1",
    "password_confirm": "a-long-password-1",
    "language": "en",
    "gender": "male",
    "age_band": "25_34",
    "job_role": "Developer",
    "accept_privacy": "y",
}


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_register_with_company_code_joins_the_company(client, create_company):
    company = create_company("Green Bytes Ltd.")
    page = client.get(f"/register?code={company.invitation_code}").get_data(as_text=True)
    assert "Green Bytes Ltd." in page  # the visitor sees which company they join
    response = post_form(
        client, "/register", {**REGISTRATION, "company_code": company.invitation_code}
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "dimitar@example.org"))
    assert user is not None and user.roles == {"learner"}
    assert [m.company_id for m in user.memberships] == [company.id]
    assert user.gender == "male" and user.age_band == "25_34"
    assert client.get("/").get_data(as_text=True).count("Dimitar Ivanov") >= 1


def test_register_with_wrong_company_code_stores_nothing(client, create_company):
    create_company()
    response = post_form(client, "/register", {**REGISTRATION, "company_code": "not-a-code"})
    assert response.status_code == 200
    assert "invitation code is not valid" in response.get_data(as_text=True)
    assert count_users() == 0


def test_register_without_company_is_allowed(client):
    response = post_form(client, "/register", REGISTRATION)
    assert response.status_code == 302
    user = db.session.scalar(select(User))
    assert user.memberships == []


def test_register_rejects_duplicate_email_whatever_the_case(client, create_user):
    create_user("dimitar@example.org")
    response = post_form(client, "/register", REGISTRATION)
    assert "already exists" in response.get_data(as_text=True)
    assert count_users() == 1


def test_register_rejects_short_password_and_unknown_choices(client):
    data = {**REGISTRATION, "password": "short", "password_confirm": "short", "gender": "robot"}
    response = post_form(client, "/register", data)
    html = response.get_data(as_text=True)
    assert "Not a valid choice" in html
    assert count_users() == 0
    data = {**REGISTRATION, "password": "short", "password_confirm": "short"}
    html = post_form(client, "/register", data).get_data(as_text=True)
    assert "at least 10 characters" in html
    assert count_users() == 0


def test_register_requires_privacy_confirmation(client):
    data = {k: v for k, v in REGISTRATION.items() if k != "accept_privacy"}
    post_form(client, "/register", data)
    assert count_users() == 0


def test_login_and_logout(client, create_user):
    create_user("ana@example.org")
    response = login(client, "ANA@example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Log out" in client.get("/").get_data(as_text=True)
    assert logout(client).status_code == 302
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_password_change_needs_current_password(client, create_user):
    create_user("ana@example.org")
    login(client, "ana@example.org")
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": "wrong",
            "password": "new-password-123",
            "password_confirm": "new-password-123",
        },
    )
    assert "current password is not right" in response.get_data(as_text=True)
    user = db.session.scalar(select(User))
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_password_reset_flow_is_single_use(app, client, create_user):
    create_user("ana@example.org")
    response = post_form(client, "/password/forgot", {"email": "ana@example.org"})
    assert response.status_code == 302
    outbox = app.extensions["lms_outbox"]
    assert len(outbox) == 1 and outbox[0]["To"] == "ana@example.org"
    link = re.search(r"http://localhost(/password/reset/\S+)", outbox[0].get_content()).group(1)
    assert client.get(link).status_code == 200
    response = post_form(
        client, link, {"password": "brand-new-pass-1", "password_confirm": "brand-new-pass-1"}
    )
    assert response.status_code == 302
    assert login(app.test_client(), "ana@example.org", "brand-new-pass-1").status_code == 302
    assert client.get(link).status_code == 400  # used once, never again


def test_membership_is_unique(app, create_user, create_company):
    company = create_company()
    user = create_user(company=company)
    assert db.session.scalar(select(func.count(Membership.id))) == 1
    assert user.primary_company.id == company.id
