"""The report's pages and files: exports match the dashboard figure for figure, formula
injection is neutralised, frozen snapshots never change, and only admins get in."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import openpyxl
import pypdf
import pytest
from sqlalchemy import func, select

from courses.models import Enrolment
from lms.extensions import db
from lms.models import User
from lms.reports.models import IndicatorDefinition, ReportSnapshot
from tests.conftest import login, post_form
from tests.core.test_reports import complete, report_data, utc  # noqa: F401 - fixture
from tests.support.measure import read_csv, read_xlsx

Q2 = "from=2025-04-01&to=2025-06-30"
EXPECTED_Q2 = {
    "courses_delivered": 2,
    "participants_completed": 3,
    "awareness_participants": 0,
    "enterprises_supported": 3,
    "certificates_issued": 3,
    "improved_skills": 0,
    "training_hours": 9,
    "certificates_revoked": 1,
}
REPORT_URLS = (
    "/admin/reports/",
    f"/admin/reports/?{Q2}",
    f"/admin/reports/indicators/participants_completed?{Q2}",
    f"/admin/reports/export.xlsx?{Q2}",
    f"/admin/reports/export.csv?{Q2}",
    f"/admin/reports/export.pdf?{Q2}",
    f"/admin/reports/evidence.zip?{Q2}",
    "/admin/reports/snapshots",
    "/admin/reports/snapshot?id=1",
    "/admin/reports/definitions",
    "/admin/reports/definitions/training_hours",
)


@pytest.fixture
def admin(client, create_user):  # noqa: ANN001, ANN201
    user = create_user("boss@example.org", roles=("admin",), name="Boss Admin")
    login(client, "boss@example.org")
    return user


def dashboard_figures(html: str) -> dict[str, int | float]:
    found = re.findall(r'data-indicator="([a-z_]+)".*?data-value="([0-9.]+)"', html, re.S)
    return {key: float(value) if "." in value else int(value) for key, value in found}


def drill_table(html: str) -> str:
    return re.search(r'<table id="drill-table">.*?</table>', html, re.S).group(0)


def totals_from_rows(rows: list[list], language_total: str = "Total") -> dict[str, object]:
    header = rows.index(next(r for r in rows if r and r[0] == "Indicator"))
    return {r[0]: r[3] for r in rows[header + 1 :] if r and r[1] == language_total}


def _as_number(value: object) -> int | float:
    text = str(value)
    return float(text) if "." in text else int(text)


def test_exports_match_the_dashboard_figure_for_figure(client, admin, report_data) -> None:  # noqa: ANN001, F811
    page = client.get(f"/admin/reports/?{Q2}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = dashboard_figures(html)
    assert shown == EXPECTED_Q2
    assert "2025-04-01 – 2025-06-30" in html
    names = {
        key: f"{d.position}. {d.name_en}"
        for d in __import__("lms.reports.definitions", fromlist=["DEFAULTS"]).DEFAULTS
        for key in [d.key]
    }

    csv_rows = read_csv(client.get(f"/admin/reports/export.csv?{Q2}"))
    csv_totals = {k: _as_number(v) for k, v in totals_from_rows(csv_rows).items()}
    assert csv_totals == {names[k]: v for k, v in shown.items()}

    response = client.get(f"/admin/reports/export.xlsx?{Q2}")
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    xlsx_rows = read_xlsx(response)
    assert xlsx_rows[0][0] == "ICT Greening Up Initiative"
    assert xlsx_rows[1][1].startswith("2025-04-01")
    assert totals_from_rows(xlsx_rows) == {names[k]: v for k, v in shown.items()}
    # The splits too: every breakdown row of the CSV is in the XLSX summary, same numbers.
    header = xlsx_rows.index(next(r for r in xlsx_rows if r and r[0] == "Indicator"))
    assert [[str(c) if c is not None else "" for c in r] for r in xlsx_rows[header:]] == csv_rows
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert len(workbook.sheetnames) == 1 + len(EXPECTED_Q2)
    people = workbook.worksheets[2]  # indicator 2: one row per person, once each
    assert people.max_row - 1 == shown["participants_completed"]
    hours = workbook.worksheets[7]
    assert sum(row[7] for row in hours.iter_rows(min_row=2, values_only=True)) == 9

    pdf = client.get(f"/admin/reports/export.pdf?{Q2}")
    assert pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert "ICT Greening Up Initiative" in text
    assert "2025-04-01 – 2025-06-30" in text
    flat = re.sub(r"\s+", " ", text)
    for key, value in shown.items():
        row = re.search(
            re.escape(f"{names[key].split('. ', 1)[0]}") + r" .*?" + rf" {value} ", flat
        )
        assert row, key
    assert "Signature" in text and "Position" in text


def test_drill_down_lists_the_people_behind_a_split(client, admin, report_data) -> None:  # noqa: ANN001, F811
    page = client.get(
        f"/admin/reports/indicators/participants_completed?{Q2}&split=gender&value=female"
    ).get_data(as_text=True)
    assert "Ana" in page and "Boris" not in page and "Vera" not in page
    page = client.get(f"/admin/reports/indicators/enterprises_supported?{Q2}").get_data(
        as_text=True
    )
    for name in ("Alpha Ltd.", "Beta Ltd.", "Gamma Ltd."):
        assert name in page
    assert (
        client.get(f"/admin/reports/indicators/participants_completed?{Q2}&split=x").status_code
        == 404
    )
    assert client.get(f"/admin/reports/indicators/nothing?{Q2}").status_code == 404


def test_charts_are_accessible_inline_svg(client, admin, report_data) -> None:  # noqa: ANN001, F811
    html = client.get(f"/admin/reports/?{Q2}").get_data(as_text=True)
    assert html.count('<svg class="chart"') == 4  # trend, gender, size class, topic
    assert 'role="img"' in html and '<title id="chart-trend-title">' in html
    assert '<desc id="chart-gender-desc">Female: 1; Male: 1; Not stated: 1</desc>' in html
    assert "style=" not in html and "<script>" not in html


def test_bad_period_is_a_readable_400(client, admin, report_data) -> None:  # noqa: ANN001, F811
    page = client.get("/admin/reports/?from=2025-13-01")
    assert page.status_code == 400
    assert "YYYY-MM-DD" in page.get_data(as_text=True)
    page = client.get("/admin/reports/?from=2025-06-01&to=2025-05-01")
    assert page.status_code == 400
    assert client.get("/admin/reports/export.xlsx?from=nope").status_code == 400


def test_evidence_pack_holds_register_and_enterprises(client, admin, report_data) -> None:  # noqa: ANN001, F811
    response = client.get(f"/admin/reports/evidence.zip?{Q2}")
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert set(archive.namelist()) == {
        "summary.csv",
        "supported-enterprises.csv",
        "certificate-register.csv",
    }
    register = read_csv(archive.read("certificate-register.csv"))
    codes = {row[0]: row for row in register[1:]}
    # Issued in Q2 (local dates): Boris's first (1 April, later revoked), Ana's two, the reissue.
    assert set(codes) == {"CERT-ANA-X", "CERT-ANA-Y", "CERT-BOR-1", "CERT-BOR-2"}
    assert codes["CERT-BOR-1"][7] == "revoked" and codes["CERT-BOR-1"][8] == "2025-05-20"
    enterprises = read_csv(archive.read("supported-enterprises.csv"))
    assert [(r[0], r[2]) for r in enterprises[1:]] == [
        ("Alpha Ltd.", "Micro"),
        ("Beta Ltd.", "Small"),
        ("Gamma Ltd.", "Small"),
    ]


def test_frozen_snapshot_never_changes(client, admin, report_data) -> None:  # noqa: ANN001, F811
    response = post_form(
        client,
        "/admin/reports/snapshots",
        {"first_day": "2025-04-01", "last_day": "2025-06-30", "note": "Interim report 2"},
    )
    assert response.status_code == 302
    snapshot = db.session.scalar(select(ReportSnapshot))
    assert snapshot.note == "Interim report 2"
    assert snapshot.frozen_by_name == "Boss Admin"
    assert snapshot.data["report"]["indicators"][1]["value"] == 3
    before_xlsx = read_xlsx(client.get(f"/admin/reports/export.xlsx?snapshot={snapshot.id}"))
    before_people = client.get(
        f"/admin/reports/indicators/participants_completed?snapshot={snapshot.id}"
    ).get_data(as_text=True)

    # Later: a new completion in the period, a person deleted, another renamed (anonymised).
    newcomer = User(email="late@example.org", name="Late", password_hash="x")
    db.session.add(newcomer)
    db.session.flush()
    complete(newcomer, report_data["x"], utc(2025, 6, 1, 10), company=report_data["alpha"])
    db.session.delete(db.session.get(User, report_data["boris"].id))
    db.session.get(User, report_data["ana"].id).name = "Erased person"
    db.session.commit()
    assert (
        db.session.scalar(
            select(func.count(Enrolment.id)).where(Enrolment.user_id == report_data["boris"].id)
        )
        == 0
    )

    live = dashboard_figures(client.get(f"/admin/reports/?{Q2}").get_data(as_text=True))
    assert live["participants_completed"] == 3  # Ana, Vera, Late (Boris is gone)
    frozen_page = client.get(f"/admin/reports/snapshot?id={snapshot.id}").get_data(as_text=True)
    assert dashboard_figures(frozen_page) == EXPECTED_Q2
    assert "Interim report 2" in frozen_page
    after_xlsx = read_xlsx(client.get(f"/admin/reports/export.xlsx?snapshot={snapshot.id}"))
    assert after_xlsx == before_xlsx
    after_people = client.get(
        f"/admin/reports/indicators/participants_completed?snapshot={snapshot.id}"
    ).get_data(as_text=True)
    # Snapshots are anonymous: no names stored, so neither the deleted nor the renamed person
    # appears, and the rows (companies, dates) are exactly those frozen.
    for name in ("Boris", "Ana", "Erased person"):
        assert name not in after_people and name not in before_people
    assert drill_table(after_people) == drill_table(before_people)
    assert drill_table(after_people).count("<tr>") == 4  # a header and the 3 people
    csv_rows = read_csv(client.get(f"/admin/reports/export.csv?snapshot={snapshot.id}"))
    assert ["2. Participants who completed a training course", "Total", "", "3", "", ""] in csv_rows
    listing = client.get("/admin/reports/snapshots").get_data(as_text=True)
    assert "2025-04-01 – 2025-06-30" in listing


def test_freezing_with_a_bad_form_stores_nothing(client, admin) -> None:  # noqa: ANN001
    response = post_form(client, "/admin/reports/snapshots", {"first_day": "2025-04-01"})
    assert response.status_code == 400
    response = post_form(
        client, "/admin/reports/snapshots", {"first_day": "2025-06-01", "last_day": "2025-05-01"}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(ReportSnapshot.id))) == 0
    assert client.get("/admin/reports/snapshot?id=99").status_code == 404
    assert client.get("/admin/reports/export.csv?snapshot=abc").status_code == 404


def test_admin_edits_a_definition_and_the_report_follows(client, admin, report_data) -> None:  # noqa: ANN001, F811
    form = {
        "name_en": "Persons trained",
        "name_bg": "Обучени лица",
        "target": "120",
        "enabled": "y",
        "sources": "courses.completions",
        "measure": "people",
        "course_ids": "",
        "event_ids": "",
        "min_hours": "",
    }
    response = post_form(client, "/admin/reports/definitions/participants_completed", form)
    assert response.status_code == 302
    row = db.session.scalar(
        select(IndicatorDefinition).where(IndicatorDefinition.key == "participants_completed")
    )
    assert row.name_en == "Persons trained" and int(row.target) == 120
    html = client.get(f"/admin/reports/?{Q2}").get_data(as_text=True)
    assert "Persons trained" in html
    assert "no contributions yet" not in html
    assert 'value="3"' in html  # progress 3 of 120 -> 2 %
    unanswered = post_form(
        client,
        "/admin/reports/definitions/improved_skills",
        {**form, "name_en": "Skills", "sources": "nobody.answers", "target": ""},
    )
    assert unanswered.status_code == 302
    html = client.get(f"/admin/reports/?{Q2}").get_data(as_text=True)
    assert "no contributions yet" in html
    assert dashboard_figures(html)["improved_skills"] == 0
    bad = post_form(
        client,
        "/admin/reports/definitions/participants_completed",
        {**form, "target": "lots", "course_ids": "1, x"},
    )
    assert bad.status_code == 400
    assert "Enter a number" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert int(db.session.get(IndicatorDefinition, row.id).target) == 120


def test_anonymous_is_sent_to_login(client) -> None:  # noqa: ANN001
    for url in REPORT_URLS:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_cumulative_preset_starts_at_project_start(client, admin, report_data, app) -> None:  # noqa: ANN001, F811
    app.config["REPORT_PROJECT_START"] = "2024-01-01"
    html = client.get("/admin/reports/?preset=cumulative").get_data(as_text=True)
    assert "2024-01-01 – " in html
    assert dashboard_figures(html)["participants_completed"] == 5
    assert date.today().year >= 2025


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "pdf"])
def test_cli_writes_the_report(app, report_data, tmp_path, fmt) -> None:  # noqa: ANN001, F811
    out = tmp_path / f"report.{fmt}"
    result = app.test_cli_runner().invoke(
        args=[
            "lms",
            "report",
            "--from",
            "2025-04-01",
            "--to",
            "2025-06-30",
            "--format",
            fmt,
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "2. Participants who completed a training course: 3" in result.output
    body = out.read_bytes()
    if fmt == "xlsx":
        totals = totals_from_rows(read_xlsx(body))
        assert totals["7. Training hours delivered"] == 9
    elif fmt == "csv":
        assert ["4. Enterprises supported", "Total", "", "3", "", ""] in read_csv(body)
    else:
        text = pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text()
        assert "2025-04-01 – 2025-06-30" in text


def test_cli_refuses_bad_dates(app, tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "r.xlsx"
    result = app.test_cli_runner().invoke(
        args=["lms", "report", "--from", "2025-31-01", "--out", str(out)]
    )
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    assert not out.exists()


def test_erasure_keeps_totals_and_hides_the_person(client, admin, report_data) -> None:  # noqa: ANN001, F811
    from lms import privacy

    frozen = post_form(
        client,
        "/admin/reports/snapshots",
        {"first_day": "2025-04-01", "last_day": "2025-06-30", "note": ""},
    )
    assert frozen.status_code == 302
    snapshot = db.session.scalar(select(ReportSnapshot))
    privacy.erase_user(db.session.get(User, report_data["ana"].id), by=None)
    db.session.commit()

    live = client.get(f"/admin/reports/?{Q2}").get_data(as_text=True)
    assert dashboard_figures(live) == EXPECTED_Q2  # indicator totals do not change
    people = client.get(f"/admin/reports/indicators/participants_completed?{Q2}").get_data(
        as_text=True
    )
    assert "Ana" not in people and "ana@example.org" not in people
    assert "Erased user" not in people and "Boris" in people
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/admin/reports/export.xlsx?{Q2}").get_data())
    )
    names = [row[0] for row in workbook.worksheets[2].iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["Boris", "Vera", "—"]
    # The frozen report keeps what was submitted: its figures and its (anonymous) rows.
    frozen_page = client.get(f"/admin/reports/snapshot?id={snapshot.id}").get_data(as_text=True)
    assert dashboard_figures(frozen_page) == EXPECTED_Q2
    frozen_people = client.get(
        f"/admin/reports/indicators/participants_completed?snapshot={snapshot.id}"
    ).get_data(as_text=True)
    assert drill_table(frozen_people).count("<tr>") == 4  # a header and the 3 people
    assert "Ana" not in frozen_people and "Boris" not in frozen_people
