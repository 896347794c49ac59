"""Every crash the Yjs fuzz campaign found, as its minimal input (docs/fuzzing.md).

Fixed ones pass. The others are strict xfails naming the module to fix: they turn red once
fixed, so the marker (and the harness' tolerance for them) can go.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

import fuzzformat as f
import pycrdt
import pytest
from fuzzbases import base_doc, base_update
from fuzzharness import Snapshot, ingest
from fuzzstrategies import Case
from make_corpus import json_content, two_groups
from test_rest_models import EMPTY, sent

from lms.documents.model import content, doc_content, restore_update
from realtime.errors import RealtimeError
from realtime.yjs import yrs
from realtime.yjs.awareness import AwarenessState, decode_awareness_update
from realtime.yjs.document import DocumentLimits, LiveDocument
from realtime.yjs.errors import MalformedMessage, YjsError
from realtime.yjs.lib0 import Reader
from realtime.yjs.messages import (
    SyncStep2,
    decode_message,
    encode_state_vector,
    encode_sync_step1,
)
from realtime.yjs.nesting import depth_policy, nesting_depth
from realtime.yjs.surrogates import AstralIndex, WholeCharacters
from realtime.yjs.sync import SyncSession
from realtime.yjs.update_format import InvalidUpdate, inspect_update
from rooms.document_shapes import POLICIES


def string_update(client: int, clock: int, text: str = "hi", root: str = "t") -> bytes:
    return f.encode_update(
        f.Update((f.Group(client, clock, (f.Item(f.String(text), parent=root),)),))
    )


def resynced(doc: pycrdt.Doc[Any]) -> pycrdt.Doc[Any]:
    copy: pycrdt.Doc[Any] = pycrdt.Doc()
    copy.apply_update(doc.get_update())
    return copy


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


class MemoryLog:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    async def append(self, name: str, data: bytes) -> None:
        self.parts.append(data)

    async def load(self, name: str) -> Any:
        raise NotImplementedError

    async def compact(self, name: str) -> Any:
        raise NotImplementedError


class Member:
    def __init__(self, conn_id: int) -> None:
        self.conn_id = conn_id
        self.stopped: RealtimeError | None = None

    def offer(self, frame: Any) -> bool:
        return True

    def stop(self, error: RealtimeError) -> None:
        self.stopped = error


async def _publish(document: LiveDocument, frame: bytes, origin: int) -> None:
    return None


def live_document(doc: pycrdt.Doc[Any], policy: yrs.Policy | None = None) -> LiveDocument:
    checks = yrs.DocumentPolicy(nesting=policy) if policy is not None else None
    return LiveDocument(
        "d", doc, AwarenessState(), MemoryLog(), _publish, DocumentLimits(), policy=checks
    )


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


# A format item (client 3, its clock 22) whose origin is the whiteboard's first shape entry:
# through the origin it lands in the `shapes` map as the current item of key "s1", and pycrdt
# raises KeyError reading that key (every `values()`/`items()` of the map, and `to_py`).
FORMAT_IN_A_MAP = bytes.fromhex("01010316860300016b046e756c6c00")


def whiteboard_with_a_format_entry() -> pycrdt.Doc[Any]:
    doc = base_doc("whiteboard")
    inspect_update(FORMAT_IN_A_MAP)
    yrs.apply(doc, FORMAT_IN_A_MAP)
    return doc


def test_the_nesting_policy_reads_a_map_with_an_entry_holding_no_value() -> None:
    """The policy runs on the trial copy after any update that nests a shared type (any new
    Y.Map shape): its KeyError used to escape `LiveDocument._prove` and stop every
    connection. The entry is skipped now (`nesting._map_values`)."""
    doc = whiteboard_with_a_format_entry()
    assert nesting_depth(doc, {"shapes": pycrdt.Map}, limit=32) == 2


# ---------------------------------------------------------------- reported, not fixed


async def test_a_batch_proven_one_by_one_keeps_the_nesting_cap(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three updates in one batch: A nests maps up to the cap, B fails its proof, C nests one
    level deeper inside A's map. Merged, the batch fails; one by one, A is proven, B fails
    (the trial copy is dropped), and C is proven on a fresh copy of the live document, which
    lacks A: C's parent is unknown there, C is pending, the policy passes. The live document
    then takes A and C: one level past the cap (the same hole lets through any update whose
    effect depends on an earlier update of its batch)."""
    caplog.set_level(logging.CRITICAL)
    roots = {"shapes": pycrdt.Map}
    live: pycrdt.Doc[Any] = pycrdt.Doc()
    document = live_document(live, depth_policy(roots, 2))
    writer: pycrdt.Doc[Any] = pycrdt.Doc(client_id=50)
    shapes = writer.get("shapes", type=pycrdt.Map)
    shapes["a"] = pycrdt.Map({"b": pycrdt.Map()})  # depth 2: at the cap
    a = writer.get_update()
    before = writer.get_state()
    shapes["a"]["b"]["c"] = pycrdt.Map()  # depth 3
    c = writer.get_update(before)
    tower: pycrdt.Doc[Any] = pycrdt.Doc(client_id=60)
    level = tower.get("shapes", type=pycrdt.Map)
    for _ in range(3):
        child: pycrdt.Map[Any] = pycrdt.Map()
        level["n"] = child
        level = child
    b = tower.get_update()
    results = await asyncio.gather(
        document.submit(a), document.submit(b), document.submit(c), return_exceptions=True
    )
    assert isinstance(results[1], YjsError)
    assert nesting_depth(live, roots, limit=10) <= 2


def taken(live: pycrdt.Doc[Any], parts: list[bytes]) -> list[bool | str]:
    """Each part proven as the live document proves a client's update (with the clocks it
    reaches), and applied when it passes; whether each was taken."""
    trial = yrs.TrialDocument(live)
    outcomes: list[bool | str] = []
    for part in parts:
        try:
            trial.prove(part, reaches=inspect_update(part).reaches)
        except InvalidUpdate as error:
            outcomes.append(error.reason != yrs.PENDING and "other error")
            continue
        yrs.apply(live, part)
        outcomes.append(True)
    return outcomes


def test_updates_that_would_stay_pending_are_refused_so_the_log_rebuilds_the_document() -> None:
    """Two updates claim client 8's clock 3 (one pending on a missing origin, one only on
    the missing clocks 0-2). Applied one by one, Yrs kept the second as pending; merged (as
    `yrs.build` merges everything after the first part), the first: after a reload the
    document differed. Neither is taken now, so the stored log rebuilds the live document."""
    base = base_update("text7")
    first = f.encode_update(f.Update((f.Group(8, 3, (f.Item(f.String("a"), origin=f.ID(9, 0)),)),)))
    second = string_update(8, 3, "a")
    live: pycrdt.Doc[Any] = pycrdt.Doc()
    yrs.apply(live, base)
    assert taken(live, [first, second]) == [False, False]
    rebuilt, bad = yrs.build([base])
    assert bad == []
    assert Snapshot(rebuilt) == Snapshot(live)


def astral_text() -> pycrdt.Doc[Any]:
    """Client 1 typed "a😀b": clocks 0-3, the emoji two UTF-16 units (clocks 1 and 2)."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=1)
    doc.get("t", type=pycrdt.Text).insert(0, "a😀b")
    return doc


CUTS: Final = {
    "delete the first half": f.Update(deletes=((1, ((1, 1),)),)),
    "delete the second half": f.Update(deletes=((1, ((2, 1),)),)),
    "delete from inside": f.Update(deletes=((1, ((2, 2),)),)),
    "insert after the first half": f.Update(
        (f.Group(2, 0, (f.Item(f.String("x"), origin=f.ID(1, 1)),)),)
    ),
    "insert before the second half": f.Update(
        (f.Group(2, 0, (f.Item(f.String("x"), right_origin=f.ID(1, 2)),)),)
    ),
}


@pytest.mark.parametrize("cut", CUTS)
def test_an_update_cutting_an_astral_character_in_two_is_refused(cut: str) -> None:
    """A delete of one half of the emoji, or an insert between its halves, splits it. Yrs
    then encoded its document with shifted clocks (the first half: "b" as clock 2; the
    second half: "b" gone, in the notes a document clients could not even load), so every
    client syncing from it afterwards got another document. Found by tests/fuzz."""
    doc = astral_text()
    index = AstralIndex.of_state(doc.get_update())
    update = f.encode_update(CUTS[cut])
    with pytest.raises(InvalidUpdate, match="cuts a character"):
        index.check(inspect_update(update))


def test_cuts_around_an_astral_character_and_inside_its_own_update_are_seen() -> None:
    doc = astral_text()
    index = AstralIndex.of_state(doc.get_update())
    whole = f.Update(deletes=((1, ((1, 2),)),))  # the whole emoji
    index.check(inspect_update(f.encode_update(whole)))
    after = f.Update((f.Group(2, 0, (f.Item(f.String("x"), origin=f.ID(1, 2)),)),))
    index.check(inspect_update(f.encode_update(after)))
    own = f.Update(
        (f.Group(3, 0, (f.Item(f.String("😀"), parent="t"),)),), deletes=((3, ((1, 1),)),)
    )
    with pytest.raises(InvalidUpdate, match="cuts a character"):
        AstralIndex().check(inspect_update(f.encode_update(own)))


async def test_the_live_document_refuses_a_cut_of_a_character_it_loaded_or_took() -> None:
    live = astral_text()
    document = live_document(live)
    document.astral = AstralIndex.of_state(live.get_update())
    with pytest.raises(InvalidUpdate):
        document.submit(f.encode_update(CUTS["delete the first half"]))
    await document.submit(string_update(9, 0, "🎉", root="t"))
    with pytest.raises(InvalidUpdate):
        document.submit(f.encode_update(f.Update(deletes=((9, ((1, 1),)),))))
    assert Snapshot(resynced(live)) == Snapshot(live)


def test_a_state_vector_ending_inside_a_character_gets_the_whole_character() -> None:
    """A sync step 1 claiming client 1's clocks up to the emoji's first half (clock 2):
    Yrs answered with the emoji dropped and every later clock one short ("b" as clock 2;
    in the fuzz run's notes an update the server's own structure check refuses). The reply
    starts at the emoji now, and a client holding "a" gets the whole text from it."""
    doc = astral_text()
    session = SyncSession(
        WholeCharacters(doc, AstralIndex.of_state(doc.get_update())),
        AwarenessState(),
        connection=1,
    )
    actions = session.receive(encode_sync_step1(encode_state_vector({1: 2})))
    reply = decode_message(actions[0].frame)  # type: ignore[union-attr]
    assert isinstance(reply, SyncStep2)
    inspect_update(reply.update)
    holder: pycrdt.Doc[Any] = pycrdt.Doc(client_id=1)
    holder.get("t", type=pycrdt.Text).insert(0, "a")  # the same item (1, 0) as the doc's
    holder.apply_update(reply.update)
    assert str(holder.get("t", type=pycrdt.Text)) == "a😀b"


def out_of_order_edits() -> tuple[bytes, list[bytes]]:
    """Client 11's three edits of `text7`: bold "x" at 0, "x" at 0, bold "x" at 3."""
    writer = base_doc("text7", 11)
    text = writer.get("t", type=pycrdt.Text)
    edits = []
    for index, attrs in ((0, {"bold": True}), (0, None), (3, {"bold": True})):
        before = writer.get_state()
        text.insert(index, "x", attrs)
        edits.append(writer.get_update(before))
    return base_update("text7"), edits


def test_a_clients_updates_arriving_out_of_order_are_refused_until_they_come_in_order() -> None:
    """The second and third edits arrive first (pending: clocks 0-2 missing): Yrs would keep
    them pending, and integrate them otherwise merged than one by one. They are refused (the
    client is closed with 1002, reconnects and syncs again), then taken in order."""
    base, (first, second, third) = out_of_order_edits()
    live: pycrdt.Doc[Any] = pycrdt.Doc()
    yrs.apply(live, base)
    assert taken(live, [second, third, first, second, third]) == [False, False, True, True, True]
    assert str(live.get("t", type=pycrdt.Text)) == "xxhxello world"
    rebuilt, _ = yrs.build([base, first, second, third])
    assert Snapshot(rebuilt) == Snapshot(live)


# ---------------------------------------------------------------- lms/documents/model.py


def whiteboard_with(value: Any) -> bytes:
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=5)
    doc.get("shapes", type=pycrdt.Map)["k"] = value
    update: bytes = doc.get_update()
    return update


def restored(kind: str, current: bytes, version: bytes) -> dict[str, Any]:
    """The content after restoring `version` over `current` (a panic is a failure here)."""
    try:
        update = restore_update(kind, current, version)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise AssertionError(f"restore_update raised {exc!r}") from exc
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    yrs.apply(doc, current)
    yrs.apply(doc, update)
    return content(kind, doc.get_update())


def test_a_binary_shape_value_reads_as_json() -> None:
    sent("whiteboard", whiteboard_with(b"\xff\x00"))


def test_a_subdocument_shape_value_reads_as_json() -> None:
    sent("whiteboard", whiteboard_with(pycrdt.Doc(guid="sub")))


def test_a_binary_shape_value_restores() -> None:
    version = whiteboard_with(b"ok")
    assert restored("whiteboard", EMPTY, version) == content("whiteboard", version)


def test_a_null_shape_value_restores() -> None:
    version = whiteboard_with(None)
    assert restored("whiteboard", EMPTY, version) == content("whiteboard", version)


ANY_IN_NOTES: Final = bytes.fromhex("00020a01010532480500017f00")
"""Client 5's `Any` item ([undefined]) inside the notes' Y.Text."""


def test_an_any_item_in_the_notes_text_is_refused() -> None:
    """pycrdt counts such an item in `len` but cannot remove it (`Text.clear` panics, so a
    restore failed): the notes' policy refuses any update that adds one."""
    result = ingest(Case("notes", (ANY_IN_NOTES,)))
    assert result.outcomes == ["update refused by the trial copy: InvalidUpdate"]
    assert Snapshot(result.live) == Snapshot(base_doc("notes"))


def test_notes_stored_with_an_any_item_stay_writable_and_refuse_a_restore_cleanly() -> None:
    """A document stored before the policy existed: edits still go in (only adding a stray
    item is refused), and restoring a version over it is `InvalidUpdate`, not a panic."""
    stored = base_doc("notes")
    yrs.apply(stored, Reader(ANY_IN_NOTES[2:]).read_var_bytes())
    trial = yrs.TrialDocument(stored)
    trial.prove(string_update(40, 0, "more", root="notes"), POLICIES["notes"])
    embed = f.Group(41, 0, (f.Item(f.Embed('{"image": "x"}'), parent="notes"),))
    with pytest.raises(InvalidUpdate, match="characters only"):
        trial.prove(f.encode_update(f.Update((embed,))), POLICIES["notes"])
    with pytest.raises(InvalidUpdate):
        restore_update("notes", stored.get_update(), base_update("notes"))


def test_an_item_whose_neighbours_are_one_id_is_refused() -> None:
    """An item between 'e' and 'e' of "Hello" (origin and right origin both client 5's
    clock 1; no client writes that): Yrs took it, and a restore's inserts then landed out of
    order ("orld, 😀 notesHello")."""
    crossed = f.Item(f.Deleted(1), origin=f.ID(5, 1), right_origin=f.ID(5, 1))
    update = f.encode_update(f.Update((f.Group(7, 0, (crossed,)),)))
    with pytest.raises(InvalidUpdate, match="both neighbours"):
        inspect_update(update)


def test_a_whiteboard_with_an_entry_holding_no_value_reads() -> None:
    shapes = doc_content("whiteboard", whiteboard_with_a_format_entry())["shapes"]
    assert {shape["id"] for shape in shapes} >= {"s2", "s3"}


def test_a_whiteboard_with_an_xml_shape_restores() -> None:
    """Client 3's XmlElement (name "") whose origin is the first shape entry: it becomes the
    value of shape "s1"; restoring that version fails in pycrdt (TypeError)."""
    version = base_doc("whiteboard")
    yrs.apply(version, bytes.fromhex("01010316870300030000"))
    state = version.get_update()
    assert restored("whiteboard", EMPTY, state) == content("whiteboard", state)
