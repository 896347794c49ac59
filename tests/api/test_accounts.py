"""Accounts against a real node, on SQLite and PostgreSQL: sign-up, tokens, profile, keys."""

from __future__ import annotations

import uuid

import httpx
import pytest

from kits.nodes import PASSWORD, Node

pytestmark = pytest.mark.postgres


def _email() -> str:
    return f"acc-{uuid.uuid4().hex[:10]}@example.org"


def _sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def _register(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "name": "Ann Lee"}
    )


def test_register_login_me(node: Node) -> None:
    email = _email()
    with node.client() as client:
        created = _register(client, email.upper())
        assert created.status_code == 201
        assert created.json()["email"] == email
        assert created.json()["role"] == "student"
        assert "password" not in created.text and "hash" not in created.text
        tokens = _sign_in(client, email)
        assert tokens.status_code == 200
        body = tokens.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] > 0 and body["refresh_token"]
    with node.client(body["access_token"]) as client:
        me = client.get("/api/v1/users/me")
        assert me.status_code == 200
        assert me.json()["email"] == email
        assert me.json()["id"] == created.json()["id"]


def test_duplicate_email_is_conflict_case_insensitively(node: Node) -> None:
    email = _email()
    with node.client() as client:
        assert _register(client, email).status_code == 201
        again = _register(client, email.title())
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "A"}, "body.email"),
        ({"email": "a@example.org", "password": "short", "name": "A"}, "body.password"),
        ({"email": "a@example.org", "password": PASSWORD, "name": ""}, "body.name"),
        ({"email": "a@example.org", "password": PASSWORD}, "body.name"),
        (
            {"email": "a@example.org", "password": PASSWORD, "name": "A", "role": "admin"},
            "body.role",
        ),
    ],
)
def test_register_rejects_bad_input(node: Node, payload: dict[str, str], field: str) -> None:
    with node.client() as client:
        response = client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}


def test_self_registration_cannot_choose_role(node: Node) -> None:
    with node.client() as client:
        response = client.post(
            "/api/v1/auth/register",
            json={"email": _email(), "password": PASSWORD, "name": "X", "role": "admin"},
        )
    assert response.status_code == 422


def test_wrong_password_and_unknown_account_look_the_same(node: Node) -> None:
    email, _ = node.register()
    with node.client() as client:
        wrong = _sign_in(client, email, "not-the-password")
        unknown = _sign_in(client, _email(), "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_refresh_rotates_and_reuse_revokes_the_family(node: Node) -> None:
    email, _ = node.register()
    with node.client() as client:
        first = _sign_in(client, email).json()
        second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200
        rotated = second.json()
        assert rotated["refresh_token"] != first["refresh_token"]
        # The old token is spent: presenting it again is treated as theft.
        reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reuse.status_code == 401
        # ... and the whole family, including the newest token, is revoked.
        after = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
        )
        assert after.status_code == 401
        # Another login session of the same account is unaffected.
        other = _sign_in(client, email).json()
        ok = client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
        assert ok.status_code == 200


def test_refresh_grant_on_token_endpoint(node: Node) -> None:
    email, _ = node.register()
    with node.client() as client:
        pair = _sign_in(client, email).json()
        response = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        )
        assert response.status_code == 200
        unsupported = client.post("/api/v1/auth/token", data={"grant_type": "magic"})
        assert unsupported.status_code == 422


def test_garbage_refresh_token(node: Node) -> None:
    with node.client() as client:
        response = client.post("/api/v1/auth/refresh", json={"refresh_token": "lcr_nope"})
        assert response.status_code == 401
        huge = client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 5000})
        assert huge.status_code == 422


def test_logout_ends_that_session_only(node: Node) -> None:
    email, _ = node.register()
    with node.client() as client:
        a = _sign_in(client, email).json()
        b = _sign_in(client, email).json()
    with node.client(a["access_token"]) as client:
        out = client.post("/api/v1/auth/logout", json={"refresh_token": a["refresh_token"]})
        assert out.status_code == 204
    with node.client() as client:
        dead = client.post("/api/v1/auth/refresh", json={"refresh_token": a["refresh_token"]})
        assert dead.status_code == 401
        alive = client.post("/api/v1/auth/refresh", json={"refresh_token": b["refresh_token"]})
        assert alive.status_code == 200


def test_logout_everywhere_invalidates_access_tokens(node: Node) -> None:
    email, token = node.register()
    with node.client() as client:
        other = _sign_in(client, email).json()
    with node.client(token) as client:
        assert client.post("/api/v1/auth/logout", json={"everywhere": True}).status_code == 204
        assert client.get("/api/v1/users/me").status_code == 401
    with node.client(other["access_token"]) as client:
        assert client.get("/api/v1/users/me").status_code == 401
    with node.client() as client:
        refresh = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}
        )
        assert refresh.status_code == 401
        assert _sign_in(client, email).status_code == 200


def test_profile_update(node: Node) -> None:
    email, token = node.register()
    new_email = _email()
    with node.client(token) as client:
        renamed = client.patch("/api/v1/users/me", json={"name": "  Grace Hopper "})
        assert renamed.status_code == 200
        assert renamed.json()["name"] == "Grace Hopper"
        no_password = client.patch("/api/v1/users/me", json={"email": new_email})
        assert no_password.status_code == 401
        moved = client.patch(
            "/api/v1/users/me", json={"email": new_email, "current_password": PASSWORD}
        )
        assert moved.status_code == 200
        assert client.get("/api/v1/users/me").json()["email"] == new_email
        assert client.patch("/api/v1/users/me", json={"role": "admin"}).status_code == 422
    with node.client() as client:
        assert _sign_in(client, new_email).status_code == 200
        assert _sign_in(client, email).status_code == 401


def test_email_change_to_taken_address_conflicts(node: Node) -> None:
    taken, _ = node.register()
    _, token = node.register()
    with node.client(token) as client:
        response = client.patch(
            "/api/v1/users/me", json={"email": taken, "current_password": PASSWORD}
        )
    assert response.status_code == 409


def test_password_change_signs_out_everywhere(node: Node) -> None:
    email, token = node.register()
    new_password = "a-much-better-passphrase"
    with node.client(token) as client:
        wrong = client.post(
            "/api/v1/users/me/password",
            json={"current_password": "nope-nope-nope", "new_password": new_password},
        )
        assert wrong.status_code == 401
        weak = client.post(
            "/api/v1/users/me/password", json={"current_password": PASSWORD, "new_password": "x"}
        )
        assert weak.status_code == 422
        changed = client.post(
            "/api/v1/users/me/password",
            json={"current_password": PASSWORD, "new_password": new_password},
        )
        assert changed.status_code == 204
        assert client.get("/api/v1/users/me").status_code == 401
    with node.client() as client:
        assert _sign_in(client, email).status_code == 401
        assert _sign_in(client, email, new_password).status_code == 200


def test_admin_grants_instructor_and_deactivates(node: Node) -> None:
    email, token = node.register()
    user_id = node.user_id(email)
    with node.client(node.admin_token()) as admin:
        promoted = admin.patch(f"/api/v1/users/{user_id}", json={"role": "instructor"})
        assert promoted.status_code == 200 and promoted.json()["role"] == "instructor"
        listed = admin.get("/api/v1/users", params={"role": "instructor", "q": email})
        assert [u["email"] for u in listed.json()["items"]] == [email]
    with node.client(token) as client:
        # The role is read from the database on every request, not frozen in the token.
        assert client.get("/api/v1/users/me").json()["role"] == "instructor"
    with node.client(node.admin_token()) as admin:
        locked = admin.patch(f"/api/v1/users/{user_id}", json={"is_active": False})
        assert locked.status_code == 200
        assert admin.patch(f"/api/v1/users/{user_id}", json={"role": "root"}).status_code == 422
        missing = admin.patch(f"/api/v1/users/{uuid.uuid4()}", json={"role": "student"})
        assert missing.status_code == 404
    with node.client(token) as client:
        assert client.get("/api/v1/users/me").status_code == 401
    with node.client() as client:
        assert _sign_in(client, email).status_code == 401


def test_admin_cannot_demote_themselves(node: Node) -> None:
    _, token = node.register("admin")
    with node.client(token) as client:
        me = client.get("/api/v1/users/me").json()
        response = client.patch(f"/api/v1/users/{me['id']}", json={"role": "student"})
        assert response.status_code == 403
        assert client.get("/api/v1/users/me").json()["role"] == "admin"


def test_api_keys_are_scoped_and_revocable(node: Node) -> None:
    _, token = node.register("instructor")
    with node.client(token) as client:
        created = client.post(
            "/api/v1/api-keys", json={"name": "lms sync", "scopes": ["profile:read"]}
        )
        assert created.status_code == 201
        key = created.json()["key"]
        key_id = created.json()["id"]
        listed = client.get("/api/v1/api-keys").json()
        assert [k["id"] for k in listed] == [key_id]
        assert "key" not in listed[0] and key not in client.get("/api/v1/api-keys").text
        too_broad = client.post("/api/v1/api-keys", json={"name": "x", "scopes": ["audit:read"]})
        assert too_broad.status_code == 422
    with node.client(key) as integration:
        assert integration.get("/api/v1/users/me").status_code == 200
        # Scope profile:read does not include profile:write.
        assert integration.patch("/api/v1/users/me", json={"name": "Bot"}).status_code == 403
        assert integration.get("/api/v1/api-keys").status_code == 403
    with node.client(token) as client:
        assert client.delete(f"/api/v1/api-keys/{key_id}").status_code == 204
        assert client.delete(f"/api/v1/api-keys/{key_id}").status_code == 204
        assert client.get("/api/v1/api-keys").json()[0]["revoked_at"] is not None
    with node.client(key) as integration:
        assert integration.get("/api/v1/users/me").status_code == 401
    with node.client(key[:-2] + "xx") as forged:
        assert forged.get("/api/v1/users/me").status_code == 401


def test_students_cannot_make_api_keys_and_nobody_sees_others_keys(node: Node) -> None:
    _, student = node.register()
    _, owner = node.register("instructor")
    _, other = node.register("instructor")
    with node.client(student) as client:
        response = client.post("/api/v1/api-keys", json={"name": "x", "scopes": ["profile:read"]})
        assert response.status_code == 403
    with node.client(owner) as client:
        key_id = client.post(
            "/api/v1/api-keys", json={"name": "mine", "scopes": ["profile:read"]}
        ).json()["id"]
    with node.client(other) as client:
        assert client.get("/api/v1/api-keys").json() == []
        assert client.delete(f"/api/v1/api-keys/{key_id}").status_code == 404
    with node.client(owner) as client:
        assert client.get("/api/v1/api-keys").json()[0]["revoked_at"] is None
