"""The audit log: what gets recorded, who may read it, and that nobody can change it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kits.nodes import PASSWORD, Node

pytestmark = pytest.mark.postgres


def _events(node: Node, **params: Any) -> list[dict[str, Any]]:
    with node.client(node.admin_token()) as admin:
        response = admin.get("/api/v1/audit-events", params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


def test_logins_are_recorded_success_and_failure(node: Node) -> None:
    email, _ = node.register()
    with node.client(headers={"X-Request-ID": "login-probe-1"}) as client:
        failed = client.post("/api/v1/auth/token", data={"username": email, "password": "wrong!"})
        assert failed.status_code == 401
    records = _events(node, action="auth.login", target_id=email)
    outcomes = [r["outcome"] for r in records]
    assert outcomes[:2] == ["failure", "success"]  # newest first; node.register logged in
    failure = records[0]
    assert failure["ip"] == "127.0.0.1"
    assert failure["request_id"] == "login-probe-1"
    assert failure["actor_id"] == node.user_id(email)
    assert datetime.fromisoformat(failure["at"]) > datetime.now(UTC) - timedelta(minutes=5)


def test_mutations_are_recorded_with_actor_and_target(node: Node) -> None:
    email, token = node.register()
    user_id = node.user_id(email)
    with node.client(token) as client:
        assert client.patch("/api/v1/users/me", json={"name": "Renamed"}).status_code == 200
    with node.client(node.admin_token()) as admin:
        assert (
            admin.patch(f"/api/v1/users/{user_id}", json={"role": "instructor"}).status_code == 200
        )
    update = _events(node, action="account.update", target_id=user_id)[0]
    assert update["actor_id"] == user_id and update["detail"]["fields"] == ["name"]
    grant = _events(node, action="account.admin_update", target_id=user_id)[0]
    assert grant["actor_id"] != user_id
    assert grant["detail"]["before"]["role"] == "student"
    assert grant["detail"]["after"]["role"] == "instructor"
    register = _events(node, action="account.register", target_id=user_id)
    assert len(register) == 1


def test_denied_access_is_recorded(node: Node) -> None:
    email, token = node.register()
    with node.client(token) as client:
        assert client.get("/api/v1/audit-events").status_code == 403
    denied = _events(node, outcome="denied", actor_id=node.user_id(email))
    assert denied[0]["action"] == "access.denied"
    assert denied[0]["target_id"] == "GET /api/v1/audit-events"


def test_filters_and_keyset_pagination(node: Node) -> None:
    email, _ = node.register()
    for _ in range(5):
        node.login(email)
    since = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    first = _events(node, action="auth.login", target_id=email, limit=2, since=since)
    assert len(first) == 2
    with node.client(node.admin_token()) as admin:
        page = admin.get(
            "/api/v1/audit-events",
            params={"action": "auth.login", "target_id": email, "limit": 2},
        ).json()
        seen = [e["id"] for e in page["items"]]
        while page["next_before"]:
            page = admin.get(
                "/api/v1/audit-events",
                params={
                    "action": "auth.login",
                    "target_id": email,
                    "limit": 2,
                    "before": page["next_before"],
                },
            ).json()
            seen += [e["id"] for e in page["items"]]
    assert len(seen) == len(set(seen)) == 6  # one login in register() plus five
    assert seen == sorted(seen, reverse=True)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert _events(node, target_id=email, since=future) == []
    assert _events(node, action_prefix="auth.", target_id=email)
    assert _events(node, actor_id=str(uuid.uuid4())) == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 100000},
        {"outcome": "maybe"},
        {"since": "yesterday"},
        {"actor_id": "not-a-uuid"},
        {"before": -1},
    ],
)
def test_bad_filters_are_422(node: Node, params: dict[str, Any]) -> None:
    with node.client(node.admin_token()) as admin:
        response = admin.get("/api/v1/audit-events", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_no_api_alters_records(node: Node, method: str) -> None:
    record = _events(node, limit=1)[0]
    with node.client(node.admin_token()) as admin:
        for path in ("/api/v1/audit-events", f"/api/v1/audit-events/{record['id']}"):
            response = admin.request(method, path, json={"outcome": "success"})
            assert response.status_code in (404, 405), (method, path, response.status_code)
    assert _events(node, limit=500)[-1]["id"] <= record["id"]
    assert any(r == record for r in _events(node, limit=500))


def test_audit_reader_needs_admin(node: Node) -> None:
    _, instructor = node.register("instructor")
    with node.client() as anonymous:
        assert anonymous.get("/api/v1/audit-events").status_code == 401
    with node.client(instructor) as client:
        assert client.get("/api/v1/audit-events").status_code == 403


def test_erasure_keeps_audit_records(node: Node) -> None:
    email, token = node.register()
    user_id = node.user_id(email)
    before = _events(node, actor_id=user_id, limit=500)
    with node.client(token) as client:
        assert (
            client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD}).status_code
            == 204
        )
    after = _events(node, actor_id=user_id, limit=500)
    assert {r["id"] for r in before} <= {r["id"] for r in after}
    assert after[0]["action"] == "account.erase"
