"""Fuzz findings in live documents (batches, pending updates, astral characters) and in the
REST models of room documents, as their minimal inputs (docs/fuzzing.md). All fixed."""

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
from regressionkit import (
    live_document,
    resynced,
    string_update,
    whiteboard_with_a_format_entry,
)
from test_rest_models import EMPTY, sent

from lms.documents.model import content, doc_content, restore_update
from realtime.yjs import yrs
from realtime.yjs.awareness import AwarenessState
from realtime.yjs.errors import YjsError
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

# ---------------------------------------------------------------- live documents


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
    reply = decode_message(actions[0].frame)
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
