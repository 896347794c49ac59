"""What the notification tests share: tokens from e-mails, recordings that stop, the
live channel."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from kits.nodes import Node
from kits.smtp import Received


def link_token(message: Received, page: str) -> str:
    """The token of the link to ``page`` in an e-mail's text part."""
    found = re.search(rf"{re.escape(page)}\?token=([A-Za-z0-9_%-]+)", message.text)
    assert found, message.text
    return unquote(found.group(1))


def stop_a_recording(node: Node, token: str, title: str) -> str:
    """Create a room, record it and stop: the room id (its hosts get "recording ready")."""
    with node.client(token) as client:
        room = client.post("/api/v1/rooms", json={"title": title})
        assert room.status_code == 201, room.text
        room_id = str(room.json()["id"])
        started = client.post(f"/api/v1/rooms/{room_id}/recordings")
        assert started.status_code == 201, started.text
        stopped = client.post(f"/api/v1/rooms/{room_id}/recordings/{started.json()['id']}/stop")
        assert stopped.status_code == 200, stopped.text
    return room_id


def channel(node: Node, token: str, **query: str) -> ClientConnection:
    """Open the caller's notification channel (with ``epoch``/``seq`` to resume)."""
    with node.client(token) as client:
        minted = client.post("/api/v1/notifications/channel-token")
        assert minted.status_code == 200, minted.text
    url = node.server.ws_url + minted.json()["url"]
    for key, value in query.items():
        url += f"&{key}={value}"
    return ws_connect(url, open_timeout=30, close_timeout=10, proxy=None)


def receive(ws: ClientConnection, kind: str, *, timeout: float = 30.0) -> dict[str, Any]:
    """The next message of type ``kind`` (others are skipped)."""
    while True:
        raw = ws.recv(timeout=timeout)
        for line in str(raw).splitlines():
            message = json.loads(line)
            if message["type"] == kind:
                return dict(message)


def database_url(node: Node) -> str:
    """The node's database, as the test process opens it."""
    return node.database_url or (
        f"sqlite+aiosqlite:///{(node.server.data_dir / 'liveclass.db').resolve()}"
    )


def notification_rows(node: Node, user_id: str) -> int:
    """How many notifications the account ``user_id`` has, read from the database."""
    import asyncio
    import uuid

    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from persistence.models import Notification

    async def run() -> int:
        engine = create_async_engine(database_url(node))
        try:
            async with engine.connect() as connection:
                query = select(func.count()).where(Notification.user_id == uuid.UUID(user_id))
                return int((await connection.execute(query)).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(run())
