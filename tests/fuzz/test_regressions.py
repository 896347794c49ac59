"""Every crash the Yjs fuzz campaign found, as its minimal input (docs/fuzzing.md).

All are fixed and pass; test_regressions_documents.py holds the live-document and REST
model ones.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import fuzzformat as f
import pycrdt
import pytest
from fuzzbases import base_doc, base_update
from fuzzharness import Snapshot, ingest
from fuzzstrategies import Case
from make_corpus import REFUSED_BETWEEN_PROVEN, json_content, two_groups
from regressionkit import (
    Member,
    live_document,
    resynced,
    string_update,
    whiteboard_with_a_format_entry,
)

from realtime.yjs import yrs
from realtime.yjs.awareness import AwarenessState, decode_awareness_update
from realtime.yjs.errors import MalformedMessage, YjsError
from realtime.yjs.nesting import nesting_depth
from realtime.yjs.sync import SyncSession
from realtime.yjs.update_format import InvalidUpdate, inspect_update

# ---------------------------------------------------------------- fixed here


def test_the_issue_crasher_is_refused_before_yrs_and_the_trial_copy_takes_it_anyway() -> None:
    """Issue 15: client 7 at clock 2**32 - 1 on a document where client 7 holds 11 clocks."""
    crasher = string_update(7, 2**32 - 1)
    with pytest.raises(InvalidUpdate, match="past clock"):
        inspect_update(crasher)
    live = base_doc("text7")
    before = Snapshot(live)
    with pytest.raises(InvalidUpdate, match="CRDT engine"):
        yrs.TrialDocument(live).prove(crasher)
    assert Snapshot(live) == before


def test_an_awareness_state_nested_past_the_recursion_limit_is_malformed() -> None:
    """`json.loads` raised RecursionError (not a `YjsError`) out of `SyncSession.receive`."""
    deep = "[" * 5000 + "]" * 5000
    payload = f.encode_awareness(f.AwarenessPayload((f.AwarenessEntry(1, 1, deep.encode()),)))
    awareness = AwarenessState()
    session = SyncSession(pycrdt.Doc(), awareness, connection=1)
    with pytest.raises(MalformedMessage, match="not JSON"):
        session.receive(f.awareness_frame(payload))
    assert not len(awareness)
    shallow = f.encode_awareness(
        f.AwarenessPayload((f.AwarenessEntry(1, 1, b"[" * 50 + b"]" * 50),))
    )
    assert awareness.apply(shallow, connection=1).added == (1,)
    assert decode_awareness_update(shallow)[0].state.startswith("[[")


def test_json_content_is_refused_as_yrs_cannot_read_back_a_document_holding_it() -> None:
    """Kind 2 content: Yrs reads one string more than the count (yrs `ItemContent::decode`),
    so the live document took this update and then encoded itself into bytes nobody reads."""
    update = json_content()
    poisoned: pycrdt.Doc[Any] = pycrdt.Doc()
    poisoned.apply_update(update)  # Yrs takes it ...
    with pytest.raises(ValueError, match="decode"):
        resynced(poisoned)  # ... but no client can sync from it
    with pytest.raises(InvalidUpdate, match="kind 2"):
        inspect_update(update)


def test_a_struct_ending_past_2_31_is_refused_as_yrs_then_loses_clocks() -> None:
    """A pending item at clock 2**31 - 1, then the client's clock 0: the live document's
    state vector stayed at 0 while it held clock 0 (the trial copy cannot see that)."""
    gap, first = string_update(1, 2**31 - 1, "x"), string_update(1, 0, "y")
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.apply_update(gap)
    doc.apply_update(first)
    assert Snapshot(doc).clocks != Snapshot(resynced(doc)).clocks  # Yrs' own inconsistency
    with pytest.raises(InvalidUpdate, match="2\\*\\*31 - 1"):
        inspect_update(gap)
    inspect_update(string_update(1, 2**31 - 2, "x"))  # ends at 2**31 - 1: taken
    result = ingest(Case("empty", (f.sync_update(gap), f.sync_update(first))))
    assert Snapshot(result.live).clocks == {1: 1}


def test_two_struct_groups_of_one_client_are_refused() -> None:
    """A map with a child array, and in a second group of the same client a binary item at
    the map's id: Yrs took it and then could not read its own document back."""
    update = two_groups()
    poisoned: pycrdt.Doc[Any] = pycrdt.Doc()
    poisoned.apply_update(update)
    with pytest.raises(RuntimeError, match="must be deleted or shared ref type"):
        resynced(poisoned)
    with pytest.raises(InvalidUpdate, match="second struct group"):
        inspect_update(update)


def test_an_empty_struct_group_is_refused() -> None:
    """An empty group of client 7 at its current clock 11 makes Yrs panic."""
    update = bytes.fromhex("0100070b00")
    with pytest.raises(InvalidUpdate, match="CRDT engine"):
        yrs.apply(base_doc("text7"), update)
    with pytest.raises(InvalidUpdate, match="empty"):
        inspect_update(update)


def test_a_struct_of_length_0_is_refused() -> None:
    """pycrdt counts a Y.Text in UTF-8 bytes: an insert at 2 in "0\x80" lands inside the
    two-byte character, and Yrs writes a string item of length 0 there. Taken (one by one,
    as the live document does), client 11's clocks stop at 2 although it sent 8: the rest
    of its edits stay pending for good."""
    writer = base_doc("text7", 11)
    text = writer.get("t", type=pycrdt.Text)
    before = writer.get_state()
    text.insert(0, "0\x80")
    text.insert(2, "x", {"bold": True})
    first = writer.get_update(before)
    before = writer.get_state()
    text.insert(0, "y", {"bold": True})
    second = writer.get_update(before)
    live = base_doc("text7")
    for part in (first, second):
        yrs.apply(live, part)
    assert Snapshot(live).clocks[11] == 2 < Snapshot(writer).clocks[11] == 8
    with pytest.raises(InvalidUpdate, match="length 0"):
        inspect_update(first)
    inspect_update(second)


def test_an_item_referring_to_itself_is_refused() -> None:
    """Bold "x" inserted at 9, inside the two-byte "\x80" at 8 (pycrdt counts bytes): the
    format item (12, 1) gets itself as right origin. Yrs cannot place it, client 12's clock
    stays at 1 although it sent 4, and merged the log integrates otherwise than one by one."""
    writer = base_doc("text7", 12)
    text = writer.get("t", type=pycrdt.Text)
    before = writer.get_state()
    text.insert(8, "\x80")
    first = writer.get_update(before)
    before = writer.get_state()
    text.insert(9, "x", {"bold": True})
    second = writer.get_update(before)
    live = base_doc("text7")
    for part in (first, second):
        yrs.apply(live, part)
    assert Snapshot(live).clocks[12] == 1 < Snapshot(writer).clocks[12] == 4
    inspect_update(first)
    with pytest.raises(InvalidUpdate, match="refers to itself"):
        inspect_update(second)


def test_every_update_a_real_client_writes_still_passes() -> None:
    """The new structural rules refuse nothing pycrdt (Yrs) writes."""
    for name in ("text7", "whiteboard", "notes", "mixed"):
        inspect_update(base_update(name))
        doc = base_doc(name, 77)
        doc.get("t2", type=pycrdt.Text).insert(0, "more")
        inspect_update(doc.get_update())
        inspect_update(pycrdt.merge_updates(base_update(name), doc.get_update()))


# ---------------------------------------------------------------- fixed in yrs.py, nesting.py

# An item whose parent is an item that holds no shared type (client 8's string, its parent
# client 1's first character): Yrs raises RuntimeError("Cannot apply update: block parent
# ... must be deleted or shared ref type"), which `yrs.guarded` used to let through.
NOT_A_PARENT = f.encode_update(
    f.Update((f.Group(8, 0, (f.Item(f.String("x"), parent=f.ID(1, 0)),)),))
)


def text_doc() -> pycrdt.Doc[Any]:
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=1)
    doc.get("t", type=pycrdt.Text).insert(0, "hi")
    return doc


def test_an_update_whose_parent_is_no_shared_type_is_an_invalid_update() -> None:
    inspect_update(NOT_A_PARENT)  # well formed
    with pytest.raises(YjsError):
        yrs.apply(text_doc(), NOT_A_PARENT)


async def test_one_writers_bad_update_stops_that_writer_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The RuntimeError used to fail `LiveDocument._flush`: every connection of the document
    was stopped (StoreFailedError) and the sender's future never resolved."""
    caplog.set_level(logging.CRITICAL)
    document = live_document(text_doc())
    sender, other = Member(1), Member(2)
    document.members = {1: sender, 2: other}
    done = document.submit(NOT_A_PARENT, origin=1)
    await asyncio.wait_for(document.settle(), 10)
    assert other.stopped is None
    assert done.done() and isinstance(done.exception(), YjsError)


def test_the_nesting_policy_reads_a_map_with_an_entry_holding_no_value() -> None:
    """The policy runs on the trial copy after any update that nests a shared type (any new
    Y.Map shape): its KeyError used to escape `LiveDocument._prove` and stop every
    connection. The entry is skipped now (`nesting._map_values`)."""
    doc = whiteboard_with_a_format_entry()
    assert nesting_depth(doc, {"shapes": pycrdt.Map}, limit=32) == 2


def test_a_write_refused_between_two_proven_ones_leaves_the_trial_copy_whole() -> None:
    """One batch of three writes fails merged; one by one the middle one is refused, which
    drops the trial copy: the third must be proven on a copy holding the first."""
    frames = [f.sync_update(update) for update in REFUSED_BETWEEN_PROVEN]
    result = ingest(Case("empty", tuple(frames), flushes=frozenset()))
    assert result.outcomes[0].startswith("update refused by the trial copy"), result.outcomes
    assert result.outcomes[-1] == "batch accepted", result.outcomes
