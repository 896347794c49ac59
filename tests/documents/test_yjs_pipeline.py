"""The document write pipeline in-process, on a real SQLite database, group committer, hub
and in-memory broker: coalescing, durable-before-broadcast, compaction, cold load,
unloading, and two nodes sharing a document through one broker."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pycrdt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kits.poison import overflowing
from persistence import migrate
from persistence.documents import DocumentStore, current_doc
from persistence.engine import create_engine, create_sessionmaker
from persistence.group_commit import GroupCommitter
from persistence.models import DocumentSnapshot, DocumentUpdate
from realtime.connection import Frame
from realtime.errors import RealtimeError
from realtime.hub import Hub
from realtime.memory_broker import InMemoryBroker
from realtime.yjs.awareness import AwarenessEntry, encode_awareness_update
from realtime.yjs.limits import DocumentLimits
from realtime.yjs.messages import SyncUpdate, decode_message, encode_awareness
from realtime.yjs.nesting import depth_policy
from realtime.yjs.registry import DocumentRegistry
from realtime.yjs.update_format import InvalidUpdate, UpdateTooComplex
from realtime.yjs.yrs import DocumentPolicy


@dataclass
class Database:
    path: Path
    sessions: async_sessionmaker[AsyncSession]
    committer: GroupCommitter

    async def count(self, model: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "docs.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}", pool_size=4)
    await migrate.upgrade(engine)
    sessions = create_sessionmaker(engine)
    committer = GroupCommitter(sessions)
    yield Database(path, sessions, committer)
    await committer.close()
    await engine.dispose()


@dataclass(eq=False)
class Member:
    """A local connection that records what it receives."""

    conn_id: int
    frames: list[Frame] = field(default_factory=list)
    stopped: RealtimeError | None = None

    def offer(self, frame: Frame) -> bool:
        self.frames.append(frame)
        return True

    def stop(self, error: RealtimeError) -> None:
        self.stopped = error

    def updates(self) -> list[bytes]:
        found = [decode_message(bytes(f), max_size=1 << 30) for f in self.frames]
        return [m.update for m in found if isinstance(m, SyncUpdate)]


def registry(db: Database, broker: InMemoryBroker, node: str, **limits: Any) -> DocumentRegistry:
    store = DocumentStore(db.committer, db.sessions)
    return DocumentRegistry(
        hub=Hub(broker), log=store, node_id=node, limits=DocumentLimits(**limits)
    )


def edits(*texts: str) -> list[bytes]:
    """One update per text, as a client typing them one after another would send."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    updates: list[bytes] = []
    for text in texts:
        before = doc.get_state()
        doc.get("notes", type=pycrdt.Text).insert(len(doc.get("notes", type=pycrdt.Text)), text)
        updates.append(doc.get_update(before))
    return updates


def text(doc: pycrdt.Doc[Any]) -> str:
    return str(doc.get("notes", type=pycrdt.Text))


async def test_updates_of_one_loop_turn_are_stored_and_sent_as_one(database: Database) -> None:
    docs = registry(database, InMemoryBroker(history_size=0), "n1")
    document = await docs.acquire("d")
    member = Member(docs.new_conn_id())
    await docs.attach(document, member)
    sender = docs.new_conn_id()
    done = [document.submit(update, origin=sender) for update in edits("a", "b", "c")]
    await asyncio.gather(*done)
    assert await database.count(DocumentUpdate) == 1
    [update] = member.updates()
    received: pycrdt.Doc[Any] = pycrdt.Doc()
    received.apply_update(update)
    assert text(received) == text(document.ydoc) == "abc"


async def test_an_update_is_stored_before_anyone_receives_it(database: Database) -> None:
    docs = registry(database, InMemoryBroker(history_size=0), "n1")
    document = await docs.acquire("d")
    stored_when_sent: list[int] = []

    class Auditor(Member):
        def offer(self, frame: Frame) -> bool:
            with sqlite3.connect(database.path) as check:  # another connection: committed only
                (rows,) = check.execute("SELECT count(*) FROM document_updates").fetchone()
            stored_when_sent.append(rows)
            return super().offer(frame)

    await docs.attach(document, Auditor(docs.new_conn_id()))
    for number, update in enumerate(edits("one ", "two ", "three "), start=1):
        await document.submit(update)
        assert stored_when_sent[-1] >= number
    assert text(document.ydoc) == "one two three "


async def test_durability_off_sends_first_and_still_stores(database: Database) -> None:
    docs = registry(database, InMemoryBroker(history_size=0), "n1", durable=False)
    document = await docs.acquire("d")
    stored_when_sent: list[int] = []

    class Auditor(Member):
        def offer(self, frame: Frame) -> bool:
            with sqlite3.connect(database.path) as check:
                (rows,) = check.execute("SELECT count(*) FROM document_updates").fetchone()
            stored_when_sent.append(rows)
            return super().offer(frame)

    await docs.attach(document, Auditor(docs.new_conn_id()))
    await document.submit(edits("sent first")[0])
    assert stored_when_sent == [0]  # broadcast before the group commit
    assert document.busy  # the background write keeps the document loaded
    await document.settle()
    assert await database.count(DocumentUpdate) == 1
    cold = await DocumentStore(database.committer, database.sessions).load("d")
    assert text(cold.doc) == "sent first"


async def test_compaction_folds_the_log_and_cold_load_matches(database: Database) -> None:
    docs = registry(database, InMemoryBroker(history_size=0), "n1", compact_threshold=5)
    document = await docs.acquire("d")
    for update in edits(*(f"{i};" for i in range(12))):
        await document.submit(update)
    await document.settle()
    assert await database.count(DocumentSnapshot) == 1
    remaining = await database.count(DocumentUpdate)
    assert remaining < 5
    assert document.log_length == remaining
    expected = text(document.ydoc)

    store = DocumentStore(database.committer, database.sessions)
    loaded = await store.load("d")
    assert text(loaded.doc) == expected
    assert loaded.log_length == remaining


async def test_documents_unload_once_released_and_idle(database: Database) -> None:
    docs = registry(database, InMemoryBroker(history_size=0), "n1", idle_unload_seconds=0)
    document = await docs.acquire("d")
    await document.submit(edits("kept")[0])
    docs.release(document)
    async with asyncio.timeout(10):
        while docs.documents:  # noqa: ASYNC110 (the idle timer runs on this loop)
            await asyncio.sleep(0)
    assert docs.gauges()["loaded"] == 0
    again = await docs.acquire("d")
    assert again is not document
    assert text(again.ydoc) == "kept"


async def test_two_nodes_on_one_broker_share_updates_and_awareness(database: Database) -> None:
    broker = InMemoryBroker(history_size=0)
    first, second = registry(database, broker, "n1"), registry(database, broker, "n2")
    one, two = await first.acquire("d"), await second.acquire("d")
    watcher = Member(second.new_conn_id())
    await second.attach(two, watcher)

    await one.submit(edits("from n1")[0])
    assert text(two.ydoc) == "from n1"  # applied by n2 before its connections got it
    assert len(watcher.updates()) == 1
    assert await database.count(DocumentUpdate) == 1  # stored once, by the node that took it

    cursor = encode_awareness_update([AwarenessEntry(42, 1, '{"user":"ada"}')])
    await one.broadcast(encode_awareness(cursor))
    assert two.awareness.states == {42: '{"user":"ada"}'}


async def test_racing_compactions_lose_nothing(database: Database) -> None:
    store = DocumentStore(database.committer, database.sessions)
    updates = edits(*(f"{i};" for i in range(20)))
    for update in updates[:10]:
        await store.append("d", update)
    first = await asyncio.gather(store.compact("d"), store.compact("d"))
    assert sorted(c.folded for c in first) == [0, 10]  # one wins; the other folds nothing
    for update in updates[10:]:
        await store.append("d", update)
    second = await asyncio.gather(store.compact("d"), store.compact("d"))
    assert sorted(c.folded for c in second) == [0, 10]
    assert all(c.remaining == 0 for c in second)
    loaded = await store.load("d")
    assert text(loaded.doc) == "".join(f"{i};" for i in range(20))
    assert (loaded.log_length, await database.count(DocumentSnapshot)) == (0, 1)


async def test_a_broker_reset_catches_the_document_up_from_the_database(
    database: Database,
) -> None:
    docs = registry(database, InMemoryBroker(history_size=0), "n1")
    document = await docs.acquire("d")
    member = Member(docs.new_conn_id())
    await docs.attach(document, member)
    store = DocumentStore(database.committer, database.sessions)
    # Another node stored an update whose publication this node never got.
    await store.append("d", edits("lost in transit")[0])
    assert text(document.ydoc) == ""
    docs.on_broker_reset("docs:d")
    docs.on_broker_reset("rooms:elsewhere")  # not a document channel: ignored
    async with asyncio.timeout(10):
        while not member.frames:  # noqa: ASYNC110 (the resync runs on this loop)
            await asyncio.sleep(0)
    assert text(document.ydoc) == "lost in transit"
    received: pycrdt.Doc[Any] = pycrdt.Doc()
    received.apply_update(member.updates()[0])
    assert text(received) == "lost in transit"


async def test_a_refused_update_in_a_batch_fails_its_sender_alone(database: Database) -> None:
    """Good updates and one the trial copy refuses (here: shared types nested past the
    document's policy) arrive in one loop turn: the good ones are stored, applied and sent
    as usual; the refused one fails its sender only and never reaches the document."""
    docs = DocumentRegistry(
        hub=Hub(InMemoryBroker(history_size=0)),
        log=DocumentStore(database.committer, database.sessions),
        node_id="n1",
        limits=DocumentLimits(),
        policy_of=lambda name: DocumentPolicy(nesting=depth_policy({"shapes": pycrdt.Map}, 2)),
    )
    document = await docs.acquire("d")
    members = [Member(docs.new_conn_id()) for _ in range(3)]
    for member in members:
        await docs.attach(document, member)
    tower: pycrdt.Doc[Any] = pycrdt.Doc()
    level = tower.get("shapes", type=pycrdt.Map)
    for _ in range(3):
        child: pycrdt.Map[Any] = pycrdt.Map()
        level["n"] = child
        level = child
    good, other = edits("good"), edits("other")
    done = [
        document.submit(good[0], origin=members[0].conn_id),
        document.submit(tower.get_update(), origin=members[1].conn_id),
        document.submit(other[0], origin=members[2].conn_id),
    ]
    results = await asyncio.gather(*done, return_exceptions=True)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], UpdateTooComplex)
    assert isinstance(members[1].stopped, UpdateTooComplex)
    assert members[1].stopped.close_code == 1002
    assert members[0].stopped is None and members[2].stopped is None
    assert "good" in text(document.ydoc) and "other" in text(document.ydoc)
    assert "n" not in document.ydoc.get("shapes", type=pycrdt.Map)
    stored = await DocumentStore(database.committer, database.sessions).load("d")
    assert stored.doc.get_update() == document.ydoc.get_update()
    assert docs.gauges()["updates_refused_total"] == 1.0
    # An update that fails the structural check never enters the pipeline at all.
    first: pycrdt.Doc[Any] = pycrdt.Doc()
    first.get("notes", type=pycrdt.Text).insert(0, "hello world")
    with pytest.raises(InvalidUpdate):
        document.submit(overflowing(first), origin=members[0].conn_id)
    docs.release(document)


@pytest.mark.parametrize("durable", [True, False], ids=["durable", "background"])
async def test_a_settle_includes_the_edits_queued_when_it_was_asked(
    database: Database, durable: bool
) -> None:
    docs = registry(database, InMemoryBroker(history_size=0), "n1", durable=durable)
    document = await docs.acquire("d")
    first, second, later = edits("taken ", "in ", "later")
    queued = [document.submit(first), document.submit(second)]  # not stored yet
    settling = asyncio.create_task(docs.settle_everywhere("d", within=5))
    await asyncio.sleep(0)
    queued.append(document.submit(later))  # arrives while the settle waits
    await settling
    async with database.sessions() as session:
        assert text(await current_doc(session, "d")).startswith("taken in ")
    await asyncio.gather(*queued)
    await document.settle()
    assert docs.settling.answered == 1 and docs.settling.timeouts == 0
