"""The role × route matrix (SECURITY.md): built from `app.url_map`, checked against the tables
in tests/data/route_access/ (one file per area). A new route without a row fails until someone
decides who may use it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import login

TABLES = Path(__file__).resolve().parents[1] / "data" / "route_access"
ROLES = ("anonymous", "learner", "trainer", "coordinator", "admin")
SKIPPED_ENDPOINTS = {"static"}


def load_table() -> dict[tuple[str, str], dict[str, int]]:
    table = {}
    for path in sorted(TABLES.glob("*.csv")):
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
        for row in csv.DictReader(lines):
            key = (row["endpoint"], row["method"])
            assert key not in table, f"duplicate row {key} in {path.name}"
            table[key] = {role: int(row[role]) for role in ROLES}
    return table


def app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or rule.endpoint.endswith(".static"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((rule.endpoint, method))
    return routes


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


def test_every_route_has_a_row_and_every_row_a_route(app):
    table, routes = set(load_table()), app_routes(app)
    assert routes - table == set(), "routes missing from tests/data/route_access/*.csv"
    assert table - routes == set(), "rows in tests/data/route_access/ for routes that do not exist"


def test_role_route_matrix(app, users, route_arguments):
    from flask import url_for

    arguments = route_arguments
    table = load_table()
    failures = []
    # Every GET first, then the POSTs (which may change state: enrolments, deactivations),
    # role by role in ROLES order and route by route in sorted order, so results are stable.
    plan = [(phase, role, key) for phase in ("GET", "POST") for role in ROLES
            for key in sorted(table) if (key[1] == "GET") == (phase == "GET")]
    for _phase, role, (endpoint, method) in plan:
        expected = table[(endpoint, method)][role]
        client = app.test_client()
        if role != "anonymous":
            assert login(client, f"{role}@example.org").status_code == 302
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        with app.test_request_context():
            url = url_for(endpoint, **{a: arguments[a] for a in rule.arguments})
        response = client.open(url, method=method, data={})
        if response.status_code != expected:
            failures.append(
                f"{role:<11} {method:<5} {url}: {response.status_code}, expected {expected}"
            )
    assert not failures, "\n".join(failures)
