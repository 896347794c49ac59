"""No credential ever reaches a log: a real node logging at DEBUG is given join tokens on
the room and Yjs channels, access and refresh tokens at login and refresh, and then every
line it wrote is searched for those tokens."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kits.nodes import PASSWORD, Node, start_node
from kits.rooms import RoomClient, create_room, join_token, register, ws_base
from kits.yjs import RawClient
from lms.accounts.tokens import API_KEY_PREFIX, REFRESH_PREFIX
from ops.redact import LEAK, TOKEN_PREFIXES, redact


def json_lines(node: Node) -> list[dict[str, Any]]:
    """Every JSON log entry the node wrote."""
    return [json.loads(x) for x in node.server.log().splitlines() if x.startswith("{")]


async def test_a_debug_log_holds_no_token(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    secrets: list[str] = []
    with contextlib.contextmanager(start_node)(
        tmp_path, "sqlite", request, LIVECLASS_LOG_LEVEL="debug", LIVECLASS_LOG_FORMAT="json"
    ) as node:
        host = register(node, "instructor")
        secrets.append(host.token)
        room = await create_room(node, host)

        # The room channel and the Yjs channel, each with a join token in the query string.
        token = await join_token(node, host, room)
        secrets.append(token)
        client = await RoomClient.open(node, room, token)
        await client.ack({"type": "chat.send", "text": "hello"})
        await client.close()
        token = await join_token(node, host, room)
        secrets.append(token)
        yjs = await RawClient.open(node, f"rooms/{room}/notes", token)
        await yjs.insert("notes")
        await yjs.close()

        # A refused token (signed with another key) is logged as refused, not in full.
        forged = jwt.encode(
            {"sub": str(uuid.uuid4()), "exp": datetime.now(UTC) + timedelta(minutes=5)},
            "another-secret-" + "x" * 32,
        )
        secrets.append(forged)
        async with connect(f"{ws_base(node)}/ws/rooms/{room}?token={forged}") as refused:
            with pytest.raises(ConnectionClosed):
                await refused.recv()
        assert refused.close_code is not None and refused.close_code >= 4000

        # Login, refresh and a token put where it does not belong: in a query string.
        with node.client() as http:
            signed_in = http.post(
                "/api/v1/auth/token", data={"username": host.email, "password": PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
            pair = signed_in.json()
            refreshed = http.post(
                "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
            )
            assert refreshed.status_code == 200, refreshed.text
            rotated = refreshed.json()
            stray = http.get("/api/v1/users/me", params={"access_token": rotated["access_token"]})
            assert stray.status_code == 401
        with node.client(rotated["access_token"]) as http:
            assert http.get("/api/v1/users/me").status_code == 200
        secrets += [pair["access_token"], pair["refresh_token"]]
        secrets += [rotated["access_token"], rotated["refresh_token"]]

    log = node.server.log()
    entries = json_lines(node)
    assert any(e["level"] == "debug" for e in entries), "the node did not log at DEBUG"
    # The channels were logged, with the token's value taken out.
    accepted = [e["message"] for e in entries if "WebSocket /ws/rooms/" in e["message"]]
    assert accepted, "no WebSocket line was logged"
    assert all("token=[redacted]" in line for line in accepted), accepted
    assert any("WebSocket /yjs/rooms/" in e["message"] for e in entries)
    for secret in secrets:
        assert secret not in log
        assert secret.rsplit(".", 1)[-1] not in log  # not even a JWT's signature
    assert LEAK.search(log) is None, LEAK.search(log)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '1.2.3.4:5 - "WebSocket /ws/rooms/r?token=eyJhbGciOi.eyJzdWIiOi.c2ln" [accepted]',
            '1.2.3.4:5 - "WebSocket /ws/rooms/r?token=[redacted]" [accepted]',
        ),
        (
            "GET /x?a=1&access_token=abc&refresh_token=def&client_secret=s&b=2",
            "GET /x?a=1&access_token=[redacted]&refresh_token=[redacted]"
            "&client_secret=[redacted]&b=2",
        ),
        ("username=ada&password=hunter2", "username=ada&password=[redacted]"),
        ("< Authorization: Bearer abc.def.ghi", "< Authorization: Bearer [redacted]"),
        ("(b'authorization', b'Basic dXNlcjpwYXNz')", "(b'authorization', b'Basic [redacted]')"),
        ("{'cookie': 'session=1'}", "{'cookie': '[redacted]'}"),
        ("sent Bearer abcdefghijklmnopqrstuvwx", "sent Bearer [redacted]"),
        ("refresh lcr_abcdefghijklmnopqrstuvwxyz0123", "refresh lcr_[redacted]"),
        ("key lck_abcdefghijklmnopqrstuvwxyz0123", "key lck_[redacted]"),
        ("postgresql+asyncpg://app:pw@db/x", "postgresql+asyncpg://app:[redacted]@db/x"),
        (
            "('$argon2id$v=19$m=65536,t=3,p=4$Cs5mu3jbH9ABOQg$2Kv8qQQIr5bbtw', 'x')",
            "('[redacted]', 'x')",
        ),
        ("password=$1secret&password=?x", "password=[redacted]&password=[redacted]"),
        # Upper case, and a header name with nothing else a credential needs ("=", "://").
        ("< AUTHORIZATION: Basic dXNlcjpwYXNz", "< AUTHORIZATION: Basic [redacted]"),
        ("X-API-Key: k1", "X-API-Key: [redacted]"),
        ("Set-Cookie: s", "Set-Cookie: [redacted]"),
        ("SENT BEARER abcdefghijklmnopqrstuvwx", "SENT BEARER [redacted]"),
        # Nothing secret: left alone (SQL placeholders included).
        (
            "SET password_hash=?, token_version=$2 WHERE",
            "SET password_hash=?, token_version=$2 WHERE",
        ),
        ("closed 4008 slow consumer, code=4008", "closed 4008 slow consumer, code=4008"),
        ("missing bearer token", "missing bearer token"),
        ("GET /api/v1/rooms/abc?limit=10", "GET /api/v1/rooms/abc?limit=10"),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_the_token_prefixes_are_the_ones_minted() -> None:
    assert set(TOKEN_PREFIXES) == {REFRESH_PREFIX, API_KEY_PREFIX}
