"""Personal-data export and erasure."""

from __future__ import annotations

import pytest

from kits.nodes import PASSWORD, Node

pytestmark = pytest.mark.postgres


def test_export_contains_everything_about_me_and_nothing_secret(node: Node) -> None:
    email, token = node.register("instructor")
    with node.client(token) as client:
        key = client.post("/api/v1/api-keys", json={"name": "sync", "scopes": ["profile:read"]})
        assert key.status_code == 201
        export = client.get("/api/v1/users/me/export")
    assert export.status_code == 200
    data = export.json()
    assert data["account"]["profile"]["email"] == email
    assert data["account"]["profile"]["role"] == "instructor"
    assert len(data["account"]["sessions"]) >= 1
    assert data["account"]["api_keys"][0]["name"] == "sync"
    assert any(e["action"] == "auth.login" for e in data["audit_events"])
    text = export.text
    assert key.json()["key"] not in text
    assert "argon2" not in text and "password_hash" not in text and "token_hash" not in text


def test_erasure_anonymises_and_frees_the_email(node: Node) -> None:
    email, token = node.register()
    user_id = node.user_id(email)
    with node.client(token) as client:
        wrong = client.request("DELETE", "/api/v1/users/me", json={"password": "not-it-at-all"})
        assert wrong.status_code == 401
        missing = client.request("DELETE", "/api/v1/users/me")
        assert missing.status_code == 422
        assert client.get("/api/v1/users/me").status_code == 200
        erased = client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD})
        assert erased.status_code == 204
        assert client.get("/api/v1/users/me").status_code == 401
    with node.client() as client:
        login = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert login.status_code == 401
    with node.client(node.admin_token()) as admin:
        row = admin.get(f"/api/v1/users/{user_id}").json()
        assert row["email"] != email and email.split("@")[0] not in row["email"]
        assert row["name"] == "Deleted user" and row["is_active"] is False
        listed = admin.get("/api/v1/users", params={"q": email}).json()
        assert listed["items"] == []
    # The address can be used for a new account.
    again, _ = node.register(email=email)
    assert again == email
