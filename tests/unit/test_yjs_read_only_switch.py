"""SyncSession.set_read_only: write access switched live on an open session."""

from __future__ import annotations

from typing import Any

import pycrdt

from realtime.yjs.awareness import AwarenessState
from realtime.yjs.messages import SyncStep1, decode_message, encode_sync_step1, encode_sync_update
from realtime.yjs.sync import ApplyUpdate, Reply, SyncSession, WriteRejected


def session(*, read_only: bool) -> tuple[SyncSession, pycrdt.Doc[Any]]:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    return SyncSession(doc, AwarenessState(), connection=1, read_only=read_only), doc


def client_update(text: str) -> bytes:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.get("notes", type=pycrdt.Text).insert(0, text)
    return doc.get_update()


def test_locking_refuses_the_next_write_without_a_frame() -> None:
    sync, _ = session(read_only=False)
    sync.receive(encode_sync_step1(b"\x00"))
    assert sync.set_read_only(True) == []
    assert sync.read_only
    [action] = sync.receive(encode_sync_update(client_update("x")))
    assert isinstance(action, WriteRejected)


def test_unlocking_a_synced_session_asks_for_the_clients_state() -> None:
    sync, doc = session(read_only=True)
    replies = sync.receive(encode_sync_step1(b"\x00"))
    assert len(replies) == 1  # step 2 only: a read-only session never asks for writes
    [action] = sync.set_read_only(False)
    assert isinstance(action, Reply)
    message = decode_message(action.frame)
    assert message == SyncStep1(doc.get_state())
    [write] = sync.receive(encode_sync_update(client_update("y")))
    assert isinstance(write, ApplyUpdate)


def test_unlocking_before_the_handshake_waits_for_it() -> None:
    sync, _ = session(read_only=True)
    assert sync.set_read_only(False) == []
    assert len(sync.receive(encode_sync_step1(b"\x00"))) == 2  # step 2 and step 1


def test_switching_to_the_same_access_or_after_close_does_nothing() -> None:
    sync, _ = session(read_only=False)
    assert sync.set_read_only(False) == []
    sync.close()
    assert sync.set_read_only(True) == []
