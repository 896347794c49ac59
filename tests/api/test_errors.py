"""Every error a real node returns is an RFC 9457 problem document, never a stack trace:
routing errors, validation, oversized and undecodable bodies, huge request lines and bad
credentials, on SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from kits.nodes import PASSWORD, Node, start_node

MAX_BYTES = 4096
SECRET = "errors-test-secret-" + "s" * 32
REGISTER = "/api/v1/auth/register"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def err_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node with a small body limit and a secret this module knows."""
    yield from start_node(
        tmp_path_factory.mktemp("errors"),
        request.param,
        request,
        LIVECLASS_MAX_REQUEST_BYTES=str(MAX_BYTES),
        LIVECLASS_SECRET_KEY=SECRET,
    )


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check ``response`` is a problem document with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert body["type"] == "about:blank" or body["type"].startswith("https://")
    assert isinstance(body["title"], str) and body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


def fields(body: dict[str, Any]) -> set[str]:
    """The field names a validation problem blames."""
    return {error["field"] for error in body["errors"]}


def raw_request(node: Node, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes (for requests httpx refuses to make); return status, headers, body."""
    with socket.create_connection(("127.0.0.1", node.server.port), timeout=30) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


# ------------------------------------------------------------------- routing


def test_unknown_route_is_a_404_problem(err_node: Node) -> None:
    response = httpx.get(err_node.url + "/api/v1/no-such-thing")
    assert_problem(response, 404)


def test_wrong_method_is_a_405_problem_with_allow(err_node: Node) -> None:
    response = httpx.delete(err_node.url + "/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


# ---------------------------------------------------------------- validation


def test_malformed_json_is_a_422_naming_the_body(err_node: Node) -> None:
    response = httpx.post(
        err_node.url + REGISTER,
        content=b'{"email": "a@example.org", ',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert fields(body) == {"body"}
    assert "JSON" in body["errors"][0]["message"]


def test_missing_fields_are_each_named(err_node: Node) -> None:
    body = assert_problem(httpx.post(err_node.url + REGISTER, json={}), 422)
    assert fields(body) == {"body.email", "body.password", "body.name"}
    assert "body.email" in body["detail"]


def test_wrong_types_are_each_named(err_node: Node) -> None:
    response = httpx.post(
        err_node.url + REGISTER, json={"email": 12, "password": ["x"], "name": {"a": 1}}
    )
    body = assert_problem(response, 422)
    assert fields(body) == {"body.email", "body.password", "body.name"}
    assert all(error["message"] for error in body["errors"])


def test_extra_fields_are_rejected_by_name(err_node: Node) -> None:
    response = httpx.post(
        err_node.url + REGISTER,
        json={
            "email": f"extra-{uuid.uuid4().hex[:8]}@example.org",
            "password": "correct-horse-battery",
            "name": "Extra",
            "role": "admin",
        },
    )
    body = assert_problem(response, 422)
    assert fields(body) == {"body.role"}


def test_bad_path_and_query_parameters_are_named(err_node: Node) -> None:
    with err_node.client(err_node.admin_token()) as client:
        body = assert_problem(client.get("/api/v1/users/not-a-uuid"), 422)
        assert fields(body) == {"path.user_id"}
        body = assert_problem(client.get("/api/v1/users", params={"limit": "many"}), 422)
        assert fields(body) == {"query.limit"}
        body = assert_problem(client.get("/api/v1/users", params={"limit": 10**6}), 422)
        assert fields(body) == {"query.limit"}


# ------------------------------------------------------------- size and bytes


def test_oversized_body_with_content_length_is_413(err_node: Node) -> None:
    payload = b'{"name": "' + b"x" * (MAX_BYTES + 1) + b'"}'
    response = httpx.post(
        err_node.url + REGISTER, content=payload, headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 413)
    assert body["type"].endswith("/body-too-large")
    assert str(MAX_BYTES) in body["detail"]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        (REGISTER, "application/json"),
        ("/api/v1/auth/token", "application/x-www-form-urlencoded"),
    ],
    ids=["json", "form"],
)
def test_oversized_chunked_body_is_413(err_node: Node, path: str, content_type: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BYTES // 512 + 4):
            yield b"a" * 512

    response = httpx.post(
        err_node.url + path, content=chunks(), headers={"content-type": content_type}
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    body = assert_problem(response, 413)
    assert body["type"].endswith("/body-too-large")


def test_a_chunked_body_under_the_limit_is_accepted(err_node: Node) -> None:
    email = f"chunked-{uuid.uuid4().hex[:8]}@example.org"
    payload = (
        b'{"email": "' + email.encode() + b'", "password": "correct-horse-battery", "name": "C"}'
    )
    response = httpx.post(
        err_node.url + REGISTER,
        content=iter([payload[:10], payload[10:]]),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text


def test_non_utf8_json_body_is_a_client_error(err_node: Node) -> None:
    response = httpx.post(
        err_node.url + REGISTER,
        content=b'{"email": "\xff\xfe@example.org", "password": "x", "name": "\xc3"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)


def test_non_utf8_form_body_is_a_client_error(err_node: Node) -> None:
    response = httpx.post(
        err_node.url + "/api/v1/auth/token",
        content=b"username=\xff\xfe&password=\xc3",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)


def test_nul_characters_are_refused_alike_on_every_database(err_node: Node) -> None:
    """PostgreSQL cannot store NUL in text and SQLite can: both refuse it, naming the field,
    before any route runs (ops/nul.py)."""
    with err_node.client(err_node.admin_token()) as client:
        cases = {
            "body.name": client.post(
                REGISTER, json={"email": "nul@example.org", "password": PASSWORD, "name": "a\x00b"}
            ),
            "body.password": client.post(
                REGISTER, json={"email": "nul@example.org", "password": "pass\x00word1"}
            ),
            "body.title": client.post("/api/v1/rooms", json={"title": "\x00"}),
            "body.name.0.x": client.patch("/api/v1/users/me", json={"name": [{"x": "\x00"}]}),
            "body": client.post(REGISTER, json={"na\x00me": "x"}),
            "query.q": client.get("/api/v1/users", params={"q": "a\x00b"}),
            "query.ip": client.get("/api/v1/audit-events", params={"ip": "\x00"}),
            "body.username": client.post(
                "/api/v1/auth/token", data={"username": "a\x00@b.org", "password": "x"}
            ),
            "path": client.get("/api/v1/users/%00"),
        }
    for field, response in cases.items():
        body = assert_problem(response, 422)
        assert body["type"].endswith("/validation"), body
        assert fields(body) == {field}, (field, body)
        assert "NUL" in body["errors"][0]["message"]
    # Not a NUL: a backslash followed by "u0000" is ordinary text.
    with err_node.client() as client:
        email = f"backslash-{uuid.uuid4().hex[:8]}@example.org"
        name = "a\\u0000b"
        created = client.post(REGISTER, json={"email": email, "password": PASSWORD, "name": name})
        assert created.status_code == 201, created.text
        assert created.json()["name"] == name


# ------------------------------------------------------------ request lines


def test_long_query_string_reaches_validation(err_node: Node) -> None:
    with err_node.client(err_node.admin_token()) as client:
        response = client.get("/api/v1/users", params={"q": "q" * 30_000})
    body = assert_problem(response, 422)
    assert fields(body) == {"query.q"}


def test_huge_query_string_is_a_400_problem(err_node: Node) -> None:
    """Past what the HTTP parser buffers, the server still answers with a problem."""
    query = b"q=" + b"a" * 200_000
    status, headers, body = raw_request(
        err_node, b"GET /healthz?" + query + b" HTTP/1.1\r\nHost: test\r\n\r\n"
    )
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-request-id"]
    assert headers["x-content-type-options"] == "nosniff"
    assert b'"status":400' in body
    assert httpx.get(err_node.url + "/healthz").status_code == 200


def test_garbage_instead_of_http_is_a_400_problem(err_node: Node) -> None:
    status, headers, body = raw_request(err_node, b"HELLO THERE\r\n\r\n")
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert b"Traceback" not in body


# --------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Digest username=x", "abc.def.ghi"],
)
def test_bad_authorization_schemes_are_401_with_challenge(
    err_node: Node, authorization: str
) -> None:
    response = httpx.get(
        err_node.url + "/api/v1/users/me", headers={"Authorization": authorization}
    )
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_no_credentials_is_401_with_challenge(err_node: Node) -> None:
    response = httpx.get(err_node.url + "/api/v1/users/me")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def _claims_of(node: Node) -> tuple[str, dict[str, Any]]:
    """A valid token of a fresh account and its claims."""
    _, token = node.register()
    return token, jwt.decode(token, options={"verify_signature": False})


def _assert_rejected(node: Node, token: str) -> None:
    with node.client(token) as client:
        response = client.get("/api/v1/users/me")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_real_token_works(err_node: Node) -> None:
    token, _ = _claims_of(err_node)
    with err_node.client(token) as client:
        assert client.get("/api/v1/users/me").status_code == 200


def test_token_signed_with_another_key_is_401(err_node: Node) -> None:
    _, claims = _claims_of(err_node)
    _assert_rejected(err_node, jwt.encode(claims, "not-the-server-secret-" + "x" * 32))


def test_expired_token_is_401(err_node: Node) -> None:
    _, claims = _claims_of(err_node)
    past = datetime.now(UTC) - timedelta(hours=2)
    claims.update(iat=int(past.timestamp()), exp=int((past + timedelta(minutes=5)).timestamp()))
    _assert_rejected(err_node, jwt.encode(claims, SECRET, algorithm="HS256"))


def test_unsigned_token_is_401(err_node: Node) -> None:
    _, claims = _claims_of(err_node)
    _assert_rejected(err_node, jwt.encode(claims, None, algorithm="none"))


def test_token_with_tampered_subject_is_401(err_node: Node) -> None:
    token, _ = _claims_of(err_node)
    other_token, _ = _claims_of(err_node)
    header, _, signature = token.split(".")
    _assert_rejected(err_node, f"{header}.{other_token.split('.')[1]}.{signature}")


def test_token_for_a_nonexistent_user_is_401(err_node: Node) -> None:
    _, claims = _claims_of(err_node)
    claims["sub"] = str(uuid.uuid4())
    _assert_rejected(err_node, jwt.encode(claims, SECRET, algorithm="HS256"))


def test_forged_api_key_is_401(err_node: Node) -> None:
    _assert_rejected(err_node, "lck_" + "A" * 43)
