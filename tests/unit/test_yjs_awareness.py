"""Awareness payloads and the server's awareness table, checked against pycrdt's Yjs port."""

from __future__ import annotations

import json
import random
from typing import Any

import pycrdt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.yjs.awareness import (
    NULL_STATE,
    AwarenessChange,
    AwarenessEntry,
    AwarenessState,
    decode_awareness_update,
    encode_awareness_update,
    is_removal,
)
from realtime.yjs.errors import MalformedMessage, MessageTooLarge
from realtime.yjs.lib0 import MAX_VAR_UINT, encode_var_uint


def new_doc() -> pycrdt.Doc[Any]:
    return pycrdt.Doc()


def payload(*entries: tuple[int, int, str]) -> bytes:
    return encode_awareness_update(AwarenessEntry(*entry) for entry in entries)


# --- format -----------------------------------------------------------------------------


def test_layout_of_one_entry() -> None:
    assert payload((1, 2, "{}")) == bytes([1, 1, 2, 2]) + b"{}"
    assert payload() == bytes([0])


def test_layout_with_multi_byte_ids_and_utf8_state() -> None:
    state = json.dumps({"name": "Zoë 🎉 日本"}, ensure_ascii=False)
    encoded = payload((300, 128, state))
    utf8 = state.encode()
    assert encoded == bytes([1, 0xAC, 0x02, 0x80, 0x01]) + encode_var_uint(len(utf8)) + utf8
    assert len(utf8) != len(state)
    assert decode_awareness_update(encoded) == [AwarenessEntry(300, 128, state)]


def test_matches_pycrdt_encoding_for_ascii_states() -> None:
    doc = new_doc()
    peer = pycrdt.Awareness(doc)
    peer.set_local_state({"user": {"name": "Ada", "color": "#30bced"}})
    theirs = peer.encode_awareness_update([doc.client_id])
    clock = peer.meta[doc.client_id]["clock"]
    ours = payload((doc.client_id, clock, '{"user":{"name":"Ada","color":"#30bced"}}'))
    assert ours == theirs
    assert decode_awareness_update(theirs) == decode_awareness_update(ours)


def test_pycrdt_peer_decodes_our_non_ascii_states() -> None:
    # pycrdt's own encoder writes the code-point length; ours writes the byte length, as lib0.
    peer = pycrdt.Awareness(new_doc())
    state = '{"name":"李 🎉"}'
    peer.apply_awareness_update(payload((42, 1, state)), "test")
    assert peer.states[42] == {"name": "李 🎉"}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes([1]),
        bytes([1, 1]),
        bytes([1, 1, 1]),
        bytes([1, 1, 1, 5]) + b"{}",
        bytes([2, 1, 1, 2]) + b"{}",
        bytes([1, 1, 1, 2]) + b"{}" + b"x",
        bytes([1, 1, 1, 1, 0xFF]),
    ],
)
def test_malformed_payloads(data: bytes) -> None:
    with pytest.raises(MalformedMessage):
        decode_awareness_update(data)


@pytest.mark.parametrize("text", ["null", " null ", "\nnull"])
def test_null_state_is_removal(text: str) -> None:
    assert is_removal(text)


@pytest.mark.parametrize("text", ["{}", "0", '"null"', "[]", "false", '{"a":null}'])
def test_other_json_is_not_removal(text: str) -> None:
    assert not is_removal(text)


@pytest.mark.parametrize("text", ["", "{", "NaN", "Infinity", "-Infinity", '{"a":NaN}', "nul"])
def test_state_that_browsers_cannot_parse_is_malformed(text: str) -> None:
    with pytest.raises(MalformedMessage, match="not JSON"):
        is_removal(text)


entries = st.builds(
    AwarenessEntry,
    st.integers(0, 2**32 - 1),
    st.integers(0, MAX_VAR_UINT),
    st.one_of(st.just(NULL_STATE), st.dictionaries(st.text(), st.text()).map(json.dumps)),
)


@given(st.lists(entries, max_size=8))
def test_payload_round_trip(items: list[AwarenessEntry]) -> None:
    assert decode_awareness_update(encode_awareness_update(items)) == items


# --- table ------------------------------------------------------------------------------


def test_first_state_is_added_and_forwarded() -> None:
    table = AwarenessState()
    change = table.apply(payload((1, 1, '{"a":1}')), connection="c1")
    assert change == AwarenessChange(added=(1,), entries=(AwarenessEntry(1, 1, '{"a":1}'),))
    assert change.payload == payload((1, 1, '{"a":1}'))
    assert table.states == {1: '{"a":1}'}
    assert table.clients_of("c1") == {1}
    assert len(table) == 1


def test_clock_zero_for_an_unknown_client_is_ignored_like_yjs() -> None:
    table = AwarenessState()
    assert table.apply(payload((1, 0, "{}")), connection="c1") == AwarenessChange()
    assert table.clock(1) == 0
    assert len(table) == 0


def test_higher_clock_wins_and_renewal_counts_as_update() -> None:
    table = AwarenessState()
    table.apply(payload((1, 5, '{"v":5}')), connection="c1")
    assert table.apply(payload((1, 4, '{"v":4}')), connection="c1").entries == ()
    assert table.apply(payload((1, 5, '{"v":"same clock"}')), connection="c1").entries == ()
    assert table.states == {1: '{"v":5}'}
    renewal = table.apply(payload((1, 6, '{"v":5}')), connection="c1")
    assert renewal.updated == (1,)
    assert renewal.entries == (AwarenessEntry(1, 6, '{"v":5}'),)
    assert table.clock(1) == 6


def test_equal_clock_null_removes_a_present_state() -> None:
    # A closing client sends its current clock with a null state.
    table = AwarenessState()
    table.apply(payload((1, 3, "{}")), connection="c1")
    change = table.apply(payload((1, 3, "null")), connection="c1")
    assert change.removed == (1,)
    assert change.entries == (AwarenessEntry(1, 3, NULL_STATE),)
    assert table.states == {}
    assert table.clients_of("c1") == frozenset()
    assert table.clock(1) == 3


def test_removal_of_absent_client_is_not_forwarded_but_raises_its_clock() -> None:
    table = AwarenessState()
    assert table.apply(payload((9, 4, "null")), connection="c1") == AwarenessChange()
    assert table.clock(9) == 4
    assert table.apply(payload((9, 4, "{}")), connection="c1").entries == ()
    assert table.apply(payload((9, 5, "{}")), connection="c1").added == (9,)


def test_removal_is_normalised_to_null_text() -> None:
    table = AwarenessState()
    table.apply(payload((1, 1, "{}")), connection="c1")
    change = table.apply(payload((1, 2, " null ")), connection="c1")
    assert change.payload == payload((1, 2, "null"))


def test_echo_of_an_old_state_cannot_resurrect_a_removed_client() -> None:
    # Stock clients send back every awareness change they learn, including other people's.
    table = AwarenessState()
    table.apply(payload((1, 7, '{"n":"a"}')), connection="a")
    table.disconnect("a")
    assert table.apply(payload((1, 7, '{"n":"a"}')), connection="b") == AwarenessChange()
    assert table.apply(payload((1, 8, "null")), connection="b") == AwarenessChange()
    assert table.states == {}
    assert table.clients_of("b") == frozenset()


def test_echo_from_another_connection_does_not_take_ownership() -> None:
    table = AwarenessState()
    table.apply(payload((1, 2, "{}")), connection="a")
    table.apply(payload((1, 2, "{}"), (2, 1, "{}")), connection="b")
    assert table.clients_of("a") == {1}
    assert table.clients_of("b") == {2}


def test_newer_state_from_another_connection_moves_ownership() -> None:
    # A client that reconnects keeps its client id; the old socket may close later.
    table = AwarenessState()
    table.apply(payload((1, 2, "{}")), connection="old")
    table.apply(payload((1, 3, "{}")), connection="new")
    assert table.clients_of("old") == frozenset()
    assert table.disconnect("old") == AwarenessChange()
    assert table.states == {1: "{}"}
    assert table.disconnect("new").removed == (1,)


def test_disconnect_removes_owned_states_with_next_clock() -> None:
    table = AwarenessState()
    table.apply(payload((2, 4, '{"x":1}'), (1, 9, "{}")), connection="c1")
    table.apply(payload((3, 1, "{}")), connection="c2")
    change = table.disconnect("c1")
    assert change.removed == (1, 2)
    assert change.payload == payload((1, 10, "null"), (2, 5, "null"))
    assert table.states == {3: "{}"}
    assert table.disconnect("c1") == AwarenessChange()


def test_disconnect_removal_is_accepted_by_a_yjs_peer() -> None:
    table = AwarenessState()
    peer = pycrdt.Awareness(new_doc())
    first = table.apply(payload((77, 3, '{"name":"Ada"}')), connection="c1")
    peer.apply_awareness_update(first.payload, "server")
    assert peer.states[77] == {"name": "Ada"}
    peer.apply_awareness_update(table.disconnect("c1").payload, "server")
    assert 77 not in peer.states


def test_disconnect_at_clock_ceiling_uses_equal_clock() -> None:
    table = AwarenessState()
    table.apply(payload((1, MAX_VAR_UINT, "{}")), connection="c1")
    change = table.disconnect("c1")
    assert change.entries == (AwarenessEntry(1, MAX_VAR_UINT, NULL_STATE),)
    peer = pycrdt.Awareness(new_doc())
    peer.apply_awareness_update(payload((1, MAX_VAR_UINT, "{}")), "server")
    peer.apply_awareness_update(change.payload, "server")
    assert 1 not in peer.states


def test_snapshot_holds_present_states_only() -> None:
    table = AwarenessState()
    assert table.snapshot() == bytes([0])
    table.apply(payload((1, 1, '{"a":1}'), (2, 1, "{}")), connection="c1")
    table.apply(payload((2, 2, "null")), connection="c1")
    assert decode_awareness_update(table.snapshot()) == [AwarenessEntry(1, 1, '{"a":1}')]


def test_entries_apply_in_order_within_one_payload() -> None:
    table = AwarenessState()
    change = table.apply(payload((1, 1, "{}"), (1, 2, '{"b":2}'), (1, 2, "{}")), connection="c")
    assert change.added == (1,)
    assert change.updated == (1,)
    assert [e.clock for e in change.entries] == [1, 2]
    assert table.states == {1: '{"b":2}'}


def test_payload_size_limit() -> None:
    table = AwarenessState(max_payload_size=16)
    small = payload((1, 1, '{"a":"b"}'))
    assert len(small) <= 16
    table.apply(small, connection="c")
    big = payload((1, 2, json.dumps({"a": "x" * 20})))
    with pytest.raises(MessageTooLarge) as caught:
        table.apply(big, connection="c")
    assert caught.value.limit == 16
    assert table.clock(1) == 1


def test_invalid_json_rejects_the_whole_update_without_changes() -> None:
    table = AwarenessState()
    with pytest.raises(MalformedMessage):
        table.apply(payload((1, 1, "{}"), (2, 1, "{oops")), connection="c")
    assert len(table) == 0
    assert table.clock(1) == 0


def test_clients_per_connection_are_capped() -> None:
    table = AwarenessState(max_clients_per_connection=2)
    change = table.apply(payload((1, 1, "{}"), (2, 1, "{}"), (3, 1, "{}")), connection="c")
    assert change.added == (1, 2)
    assert table.clients_of("c") == {1, 2}
    assert table.apply(payload((1, 2, "{}")), connection="c").updated == (1,)
    table.apply(payload((1, 3, "null")), connection="c")
    assert table.apply(payload((3, 1, "{}")), connection="c").added == (3,)


def test_tombstones_are_bounded_oldest_first() -> None:
    table = AwarenessState(max_tombstones=2)
    table.apply(payload((1, 5, "null"), (2, 5, "null"), (3, 5, "null")), connection="c")
    assert [table.clock(i) for i in (1, 2, 3)] == [0, 5, 5]


# Updates where each client's clocks are distinct (no ties to break) and states are non-null.
distinct_clocks = st.dictionaries(
    st.integers(1, 4), st.sets(st.integers(1, 50), min_size=1, max_size=4), min_size=1
).map(
    lambda clocks: [
        AwarenessEntry(client, clock, json.dumps({"c": clock}))
        for client, values in clocks.items()
        for clock in values
    ]
)


@given(distinct_clocks, st.randoms(use_true_random=False))
def test_order_of_arrival_does_not_matter(items: list[AwarenessEntry], rnd: random.Random) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    forward, scrambled = AwarenessState(), AwarenessState()
    for item in items:
        forward.apply(encode_awareness_update([item]), connection="c")
    for item in shuffled:
        scrambled.apply(encode_awareness_update([item]), connection="c")
    assert forward.states == scrambled.states
    newest = {e.client_id: e for e in sorted(items, key=lambda e: e.clock)}
    assert forward.states == {cid: e.state for cid, e in newest.items()}


@given(st.binary(max_size=64))
def test_garbage_raises_only_malformed(data: bytes) -> None:
    table = AwarenessState()
    try:
        table.apply(data, connection="c")
    except MalformedMessage:
        assert len(table) == 0


operations = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.one_of(st.none(), st.lists(entries, max_size=3)),  # None: the connection drops
    ),
    max_size=20,
)


@given(operations)
def test_no_state_outlives_every_connection(
    ops: list[tuple[str, list[AwarenessEntry] | None]],
) -> None:
    table = AwarenessState(max_clients_per_connection=2)
    peer = pycrdt.Awareness(new_doc())
    peer.set_local_state(None)
    for connection, items in ops:
        change = (
            table.disconnect(connection)
            if items is None
            else table.apply(encode_awareness_update(items), connection=connection)
        )
        peer.apply_awareness_update(change.payload, "server")
        owned = [table.clients_of(c) for c in "abc"]
        assert sum(map(len, owned)) == len(table) == len(set().union(*owned))
        assert set(peer.states) == set(table.states)
    for connection in "abc":
        peer.apply_awareness_update(table.disconnect(connection).payload, "server")
    assert len(table) == 0
    assert peer.states == {}
