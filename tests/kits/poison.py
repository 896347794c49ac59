"""Poisoned Yjs updates for tests: updates that make Yrs panic, and a way to plant one in a
document's stored log as a server without the guard would have."""

from __future__ import annotations

from typing import Any

import pycrdt
from sqlalchemy import insert

from kits.nodes import Node
from kits.yjs import Classroom, RawClient
from persistence.engine import create_engine
from persistence.models import DocumentUpdate
from realtime.yjs.lib0 import encode_var_string, encode_var_uint

QUARANTINE = "/api/v1/admin/document-quarantine"


def string_item(client: int, clock: int, text: str, root: str = "notes") -> bytes:
    """A v1 update of one string item at (client, clock) in root `root`, no deletions."""
    v = encode_var_uint
    struct = bytes([4]) + v(1) + encode_var_string(root) + encode_var_string(text)
    return v(1) + v(1) + v(client) + v(clock) + struct + v(0)


def overflowing(doc: pycrdt.Doc[Any]) -> bytes:
    """An update that passes `merge_updates` but makes Yrs panic on a document holding
    `doc`'s edits: its item's clock plus length runs past 2**32."""
    update = string_item(doc.client_id, 2**32 - 1, "boom")
    pycrdt.merge_updates(update)  # well-formed as far as the decoder goes
    return update


async def poison_the_log(room: Classroom, kind: str = "notes") -> bytes:
    """Store good edits through a client, then a panicking update straight into the log,
    as a server without the guard would have: returns the poison."""
    writer = await RawClient.open(room.node, room.doc(kind), await room.token(room.host))
    watcher = await RawClient.open(room.node, room.doc(kind), await room.token(room.host))
    await writer.insert("good content ")
    # Stored once another client has it: the node broadcasts an update after its commit.
    # (The writer's own text has it at once: a node killed next could lose it, unanswered.)
    await watcher.until(lambda c: "good content" in c.text)
    poison = overflowing(writer.doc)
    await watcher.close()
    await writer.close()
    async with engine_of(room.node).begin() as connection:
        await connection.execute(insert(DocumentUpdate).values(doc=room.doc(kind), data=poison))
    return poison


def engine_of(node: Node) -> Any:
    url = node.database_url or f"sqlite+aiosqlite:///{node.server.data_dir / 'liveclass.db'}"
    return create_engine(url, pool_size=1)
