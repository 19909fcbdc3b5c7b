"""The role × route matrix (SECURITY.md): built from `app.url_map`, checked against
tests/data/route_access.csv. A new route without a row fails until someone decides who may
use it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import login

TABLE = Path(__file__).resolve().parents[1] / "data" / "route_access.csv"
ROLES = ("anonymous", "learner", "trainer", "coordinator", "admin")
SKIPPED_ENDPOINTS = {"static"}


def load_table() -> dict[tuple[str, str], dict[str, int]]:
    lines = [line for line in TABLE.read_text().splitlines() if not line.startswith("#")]
    table = {}
    for row in csv.DictReader(lines):
        key = (row["endpoint"], row["method"])
        assert key not in table, f"duplicate row {key}"
        table[key] = {role: int(row[role]) for role in ROLES}
    return table


def app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or rule.endpoint.split(".")[0] in ("static",):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((rule.endpoint, method))
    return routes


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


def test_every_route_has_a_row_and_every_row_a_route(app):
    table, routes = set(load_table()), app_routes(app)
    assert routes - table == set(), "routes missing from tests/data/route_access.csv"
    assert table - routes == set(), "rows in route_access.csv for routes that do not exist"


def test_role_route_matrix(app, users):
    from flask import url_for

    arguments = {
        "company_id": users["coordinator"].memberships[0].company_id,
        "user_id": users["learner"].id,
        "token": "forged-token",
    }
    table = load_table()
    failures = []
    for role in ROLES:
        for (endpoint, method), expected in sorted(table.items()):
            client = app.test_client()
            if role != "anonymous":
                assert login(client, f"{role}@example.org").status_code == 302
            rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
            with app.test_request_context():
                url = url_for(endpoint, **{a: arguments[a] for a in rule.arguments})
            response = client.open(url, method=method, data={})
            if response.status_code != expected[role]:
                failures.append(
                    f"{role:<11} {method:<5} {url}: {response.status_code}, "
                    f"expected {expected[role]}"
                )
    assert not failures, "\n".join(failures)
