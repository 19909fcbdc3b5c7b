"""Auth journeys in real Chromium against gunicorn: register with a company code, log out,
log in again, and the cookie from before logout is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import User

pytestmark = pytest.mark.browser


def test_register_with_company_code_log_out_and_in(page, live_server, create_company, tmp_path):
    company = create_company("Nessebar Networks Ltd.")
    page.goto(f"/register?code={company.invitation_code}")
    assert "Nessebar Networks Ltd." in page.content()
    page.get_by_label("Full name").fill("Radostina Petrova")
    page.get_by_label("Email").fill("radostina@example.org")
    page.get_by_label("Password", exact=True).fill("a-very-good-password")
    page.get_by_label("Repeat the password").fill("a-very-good-password")
    page.get_by_label("Preferred language").select_option("en")
    page.get_by_label("I have read the privacy notice.").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "Welcome, Radostina Petrova" in page.content()
    page.screenshot(path="/tmp/home.png", full_page=True)

    db.session.rollback()  # end the test's read snapshot to see what the server committed
    user = db.session.scalar(select(User).where(User.email == "radostina@example.org"))
    assert user is not None and user.memberships[0].company_id == company.id

    old_cookies = page.context.cookies()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "Log in" in page.content()

    # Replaying the cookie from before logout does not log anyone in.
    page.context.clear_cookies()
    page.context.add_cookies(old_cookies)
    page.goto("/account/")
    assert "/login" in page.url

    page.get_by_label("Email").fill("radostina@example.org")
    page.get_by_label("Password").fill("a-very-good-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/account/")  # back where the login was asked for
    assert "radostina@example.org" in page.content()


def test_keyboard_only_login(page, live_server, create_user):
    create_user("keys@example.org")
    page.goto("/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
    page.get_by_label("Email").focus()
    page.keyboard.type("keys@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    assert "Log out" in page.content()


def test_menu_collapses_on_a_phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto("/")
    assert not page.locator(".main-nav").is_visible()
    page.get_by_role("button", name="Menu").click()
    assert page.locator(".main-nav").get_by_role("link", name="Log in").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
    context.close()
