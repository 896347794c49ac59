"""Values the database cannot hold answer 422, never 500 (found by the schemathesis runs):
a date whose offset takes it before year 1 in UTC, a group weight past its column's
precision, ids past the Integer keys they look up."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from kits.nodes import Node


@pytest.fixture(scope="module")
def admin(node: Node) -> str:
    return node.register("admin")[1]


@pytest.fixture(scope="module")
def course(node: Node, admin: str) -> dict[str, Any]:
    with node.client(admin) as client:
        made = client.post(
            "/api/v1/courses", json={"code": f"OR-{uuid.uuid4().hex[:6]}", "title": "Range"}
        )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return dict(response.json())


def test_a_date_before_year_one_in_utc(node: Node, admin: str, course: dict[str, Any]) -> None:
    body = {"title": "Early", "available_from": "0001-01-01T00:00:01+14:41"}
    with node.client(admin) as client:
        refused = client.post(f"/api/v1/courses/{course['id']}/assignments", json=body)
        listed = client.get(f"/api/v1/courses/{course['id']}/assignments")
    assert _problem(refused, 422)["type"].endswith("/out-of-range")
    assert listed.status_code == 200 and listed.json()["items"] == []


def test_a_weight_past_the_columns_precision(
    node: Node, admin: str, course: dict[str, Any]
) -> None:
    path = f"/api/v1/courses/{course['id']}/gradebook/groups"
    body = {"name": "Labs", "weight": 1000.0, "drop_lowest": 40}
    with node.client(admin) as client:
        _problem(client.post(path, json=body), 422)
        made = client.post(path, json={**body, "weight": 999.9999})
        assert made.status_code == 201, made.text
        changed = client.patch(f"{path}/{made.json()['id']}", json={"weight": 1000.0})
        _problem(changed, 422)
        # Cut to the column's places: the answer is what is stored, not a float's exponent.
        tiny = client.patch(f"{path}/{made.json()['id']}", json={"weight": 2.2250738585072014e-308})
        assert tiny.status_code == 200, tiny.text
        assert tiny.json()["weight"] == "0.0000"
        again = client.get(f"/api/v1/courses/{course['id']}/gradebook").json()
    assert [g["weight"] for g in again["groups"] if g["id"] == made.json()["id"]] == ["0.0000"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/payments/reconciliation/runs/4611686018427387903",
        "/api/v1/payments/reconciliation/runs/4611686018427387903/differences",
    ],
)
def test_ids_past_an_integer_key(node: Node, admin: str, path: str) -> None:
    with node.client(admin) as client:
        _problem(client.get(path), 422)


def test_help_request_ids_past_an_integer_key(node: Node, admin: str) -> None:
    lab = uuid.uuid4()
    with node.client(admin) as client:
        for action in ("take", "resolve"):
            _problem(client.post(f"/api/v1/labs/{lab}/help/17971338695/{action}"), 422)
            assert client.post(f"/api/v1/labs/{lab}/help/7/{action}").status_code == 404
