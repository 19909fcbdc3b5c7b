"""The admin's report journey in real Chromium against gunicorn: open the dashboard, filter a
period, download the XLSX and the PDF; both files open and hold the dashboard's totals."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from tests.conftest import PASSWORD
from tests.core.test_report_exports import EXPECTED_Q2, dashboard_figures, totals_from_rows
from tests.core.test_reports import report_data  # noqa: F401 - fixture
from tests.support.measure import read_xlsx

pytestmark = pytest.mark.browser


def test_admin_filters_and_downloads_the_report(page, live_server, create_user, report_data):  # noqa: ANN001, F811
    create_user("boss@example.org", roles=("admin",), name="Boss Admin")
    page.goto("/login")
    page.get_by_label("Email").fill("boss@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto("/admin/")
    page.get_by_role("link", name="Grant report").click()
    page.wait_for_url(re.compile(r".*/admin/reports/$"))
    page.get_by_label("From", exact=True).fill("2025-04-01")
    page.get_by_label("To", exact=True).fill("2025-06-30")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*from=2025-04-01&to=2025-06-30"))
    assert page.locator("#report-period").inner_text() == "2025-04-01 – 2025-06-30"
    shown = dashboard_figures(page.content())
    assert shown == EXPECTED_Q2
    page.screenshot(path="/tmp/report-dashboard.png", full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download XLSX").click()
    xlsx = info.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    with open(xlsx.path(), "rb") as handle:
        totals = totals_from_rows(read_xlsx(handle.read()))
    assert sorted(totals.values()) == sorted(shown.values())
    assert totals["2. Participants who completed a training course"] == 3

    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    pdf = info.value
    assert pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    assert "2025-04-01 – 2025-06-30" in text
    assert re.search(r"Participants who completed a training course .*? 3 ", text)
    assert re.search(r"Training hours delivered .*? 9 ", text)

    # Drill down from a figure to the people behind it.
    page.locator('[data-indicator="participants_completed"] a.figure').click()
    page.wait_for_url(re.compile(r".*/indicators/participants_completed\?.*"))
    rows = page.locator("#drill-table tbody tr")
    assert rows.count() == 3
    assert "Ana" in page.locator("#drill-table").inner_text()
