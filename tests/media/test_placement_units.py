"""Pure parts of media placement across nodes: the owner choice, leases and death judgement,
and the codec of relayed signalling (including what a bad relay message looks like)."""

from __future__ import annotations

import orjson
import pytest

from media.placement import (
    NodeLoad,
    Timing,
    choose,
    decode_load,
    is_dead,
    load_of,
    lost_owners,
    plan_leases,
    relay_channel,
    room_key,
)
from media.relay import (
    MAX_MESSAGE_BYTES,
    Answer,
    Deliver,
    Leave,
    Mute,
    Publish,
    RelayDecodeError,
    Reply,
    Request,
    Subscribe,
    Unpublish,
    decode,
    encode,
)

# ------------------------------------------------------------------ choosing an owner


def test_the_least_loaded_node_owns_a_new_room() -> None:
    nodes = [NodeLoad("a", 12), NodeLoad("b", 3), NodeLoad("c", 7)]
    assert choose("room-1", nodes) == "b"


def test_capacity_weighs_the_load_and_zero_capacity_never_owns() -> None:
    # b carries more but is four times bigger: 9/4 < 3/1.
    assert choose("r", [NodeLoad("a", 2, 1.0), NodeLoad("b", 8, 4.0)]) == "b"
    assert choose("r", [NodeLoad("a", 50, 1.0), NodeLoad("b", 0, 0.0)]) == "a"
    assert choose("r", [NodeLoad("b", 0, 0.0)]) is None
    assert choose("r", []) is None


def test_equal_loads_spread_rooms_deterministically() -> None:
    nodes = [NodeLoad("a", 0), NodeLoad("b", 0), NodeLoad("c", 0)]
    picks = [choose(f"room-{i}", nodes) for i in range(60)]
    assert picks == [choose(f"room-{i}", list(reversed(nodes))) for i in range(60)]
    assert set(picks) == {"a", "b", "c"}


def test_registry_entries_round_trip_and_bad_ones_are_dropped() -> None:
    entry = NodeLoad("n1", 4.0, 2.0)
    assert decode_load("n1", entry.encode()) == entry
    for raw in (
        b"not json",
        b"[]",
        b'{"load": 1}',
        b'{"load": -1, "capacity": 1}',
        b'{"load": "x", "capacity": 1}',
        b'{"load": NaN, "capacity": 1}',
    ):
        assert decode_load("n1", raw) is None, raw


def test_load_counts_peer_connections_and_forwarded_tracks() -> None:
    assert load_of({"peer_connections": 3.0, "forwarding": 10.0, "rooms": 1.0}) == 13.0
    assert load_of({}) == 0.0


# ------------------------------------------------------------------ leases and death


def test_the_lease_outlives_the_registry_entry() -> None:
    timing = Timing(ttl=9.0)
    assert timing.interval == 3.0
    assert timing.lease > timing.ttl + timing.interval


def test_an_owner_refreshes_rooms_it_serves_and_releases_the_others() -> None:
    refresh, release = plan_leases(owned={"r1", "r2", "r3"}, active=["r2", "r4"])
    assert refresh == ["r2", "r4"]
    assert release == ["r1", "r3"]


def test_a_node_is_dead_only_when_unregistered_and_unsubscribed() -> None:
    assert is_dead("x", ["a", "b"], subscribers=0)
    assert not is_dead("x", ["a", "x"], subscribers=0)  # still heartbeating
    assert not is_dead("x", ["a"], subscribers=1)  # late heartbeat, but alive


def test_lost_owners_are_the_unregistered_ones_never_this_node() -> None:
    sessions = [("r1", "a"), ("r1", "a"), ("r2", "b"), ("r3", "me"), ("r4", "c")]
    assert lost_owners(sessions, registered=["b"], self_id="me") == [("r1", "a"), ("r4", "c")]


def test_keys_and_channels_name_the_room_and_node() -> None:
    assert room_key("abc").endswith(":room:abc")
    assert relay_channel("node-1").endswith(":relay:node-1")


# ------------------------------------------------------------------ relay codec

OPS = [
    Publish("r", "u", "c", "v=0\r\n", {"0": "camera", "1": "microphone"}),
    Unpublish("r", "c", "screen"),
    Subscribe("r", "c"),
    Answer("r", "c", 3, "v=0\r\n"),
    Mute("r", "u", "microphone", by="host"),
    Leave("r", "c"),
]


@pytest.mark.parametrize("op", OPS, ids=lambda op: type(op).__name__)
def test_every_operation_round_trips(op: object) -> None:
    request = Request("id-1", "node-a", op)  # type: ignore[arg-type]
    assert decode(encode(request)) == request


def test_replies_and_deliveries_round_trip() -> None:
    for message in (
        Reply("id-1", {"sdp": "v=0", "tracks": []}),
        Reply("id-2", code="bad-sdp", message="no media"),
        Deliver("conn-1", "media.offer", {"version": 2, "sdp": "v=0", "tracks": []}),
        Deliver("conn-1", "media.reconnect", {"reason": "node-lost"}),
    ):
        assert decode(encode(message)) == message
    assert Reply("x", {}).ok and not Reply("x", code="forbidden").ok


def _request(**changes: object) -> bytes:
    body = {"k": "req", "id": "1", "origin": "n", "op": "answer", "room_id": "r"}
    body |= {"conn_id": "c", "version": 1, "sdp": "v=0"}
    body.update(changes)
    return orjson.dumps({k: v for k, v in body.items() if v is not None})


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"k": "what"}',
        _request(op="explode"),
        _request(id=""),
        _request(origin=None),
        _request(room_id=None),
        _request(version=0),
        _request(version=True),
        _request(version="1"),
        _request(op="publish", user_id="u", sources={}),
        _request(op="publish", user_id="u", sources={"0": 1}),
        orjson.dumps({"k": "rep", "id": "1"}),
        orjson.dumps({"k": "rep", "id": "1", "result": {}, "code": "x"}),
        orjson.dumps({"k": "rep", "id": "1", "result": []}),
        orjson.dumps({"k": "dlv", "conn_id": "c", "kind": "chat.send", "fields": {}}),
        orjson.dumps({"k": "dlv", "conn_id": "c", "kind": "media.offer", "fields": []}),
        b'{"k": "req", "pad": "' + b"x" * MAX_MESSAGE_BYTES + b'"}',
    ],
)
def test_malformed_relay_messages_are_rejected(raw: bytes) -> None:
    with pytest.raises(RelayDecodeError):
        decode(raw)


def test_a_well_formed_request_decodes() -> None:
    found = decode(_request())
    assert isinstance(found, Request) and found.op == Answer("r", "c", 1, "v=0")
