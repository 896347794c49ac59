"""The room protocol's catalogue: every kind declared once, handlers pure and reproducible."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from pydantic import BaseModel

from media.relay import Mute, Publish, Subscribe
from rooms import projections, typescript
from rooms.catalogue import CATALOGUE
from rooms.dispatch import Actor, Outcome
from rooms.errors import Rejected
from rooms.media_commands import Record
from rooms.messages import MESSAGE_TYPES, Message
from rooms.roles import RoomRole
from rooms.state import Event, RoomState

NOW = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
HOST = "00000000-0000-4000-8000-000000000001"
STUDENT = "00000000-0000-4000-8000-000000000002"


def ids_from(counter: itertools.count[int]) -> uuid.UUID:
    return uuid.UUID(int=next(counter))


def room() -> RoomState:
    """A room with a host and a participant, built by applying events like any node."""
    state = RoomState(room_id="11111111-1111-4111-8111-111111111111", title="Maths", salt=b"s")
    for offset, (user, role) in enumerate(
        [(HOST, RoomRole.HOST), (STUDENT, RoomRole.PARTICIPANT)], 1
    ):
        connected = {
            "type": "presence.connected",
            "at": NOW.isoformat(),
            "by": user,
            "user": {"user_id": user, "name": user[-1], "role": role.value},
            "conn_id": f"conn-{user[-1]}",
            "node": "n1",
            "first": True,
        }
        CATALOGUE.apply(state, connected, offset=offset)
    return state


def send(state: RoomState, user: str, message: dict[str, object], seed: int = 1) -> Outcome:
    """Parse and dispatch a message with a fixed clock and a fixed id sequence."""
    counter = itertools.count(seed)
    actor = Actor(user, user[-1], f"conn-{user[-1]}")
    parsed: Message = CATALOGUE.parse(orjson.dumps(message))
    return CATALOGUE.dispatch(state, actor, parsed, NOW, lambda: ids_from(counter))


def check(event: Event, delivery: str) -> None:
    """The event is declared with this delivery and its published form fits its model."""
    kind = CATALOGUE.events[event["type"]]
    assert kind.delivery == delivery
    published = {k: v for k, v in event.items() if not k.startswith("_") and k != "type"}
    model: type[BaseModel] = kind.model
    model.model_validate({"type": event["type"], **published})


def test_every_message_kind_is_declared_once_with_a_handler() -> None:
    assert set(CATALOGUE.messages) == set(MESSAGE_TYPES)
    unhandled = {name for name, kind in CATALOGUE.messages.items() if kind.handler is None}
    assert unhandled == {"ping"}  # answered by the channel itself
    rates = {kind.rate for kind in CATALOGUE.messages.values()}
    assert rates <= {"chat", "control", "volatile", "caption"}


def test_a_kind_declared_twice_is_refused() -> None:
    kind = CATALOGUE.messages["chat.send"]
    with pytest.raises(ValueError, match="declared twice"):
        CATALOGUE.register(kind)


def test_a_handler_is_a_pure_function_of_its_context() -> None:
    first = send(room(), STUDENT, {"type": "chat.send", "text": "hello"})
    again = send(room(), STUDENT, {"type": "chat.send", "text": "hello"})
    assert first == again
    message_id = str(uuid.UUID(int=1))
    assert first.reply == {"message_id": message_id}
    assert first.events == [
        {
            "type": "chat.message",
            "at": NOW.isoformat(),
            "by": STUDENT,
            "message": {
                "id": message_id,
                "author_id": STUDENT,
                "author_name": "2",
                "text": "hello",
                "to_user_id": None,
                "to_hosts": False,
                "at": NOW.isoformat(),
                "edited_at": None,
                "deleted": False,
                "reactions": {},
            },
        }
    ]
    check(first.events[0], "sequenced")


def test_time_comes_from_the_context() -> None:
    state = room()
    created = send(state, HOST, {"type": "breakout.create", "count": 2, "auto": True})
    assert [r["id"] for r in created.events[0]["rooms"]] == [
        str(uuid.UUID(int=1)),
        str(uuid.UUID(int=2)),
    ]
    CATALOGUE.apply(state, created.events[0], offset=3)
    opened = send(state, HOST, {"type": "breakout.open", "duration_seconds": 600})
    assert opened.events[0]["ends_at"] == (NOW + timedelta(seconds=600)).isoformat()
    for event in (*created.events, *opened.events):
        check(event, "sequenced")


def test_handlers_events_fit_their_declared_models() -> None:
    state = room()
    poll = send(state, HOST, {"type": "poll.create", "question": "Q?", "options": ["a", "b"]})
    CATALOGUE.apply(state, poll.events[0], offset=3)
    poll_id = poll.reply["poll_id"]
    outcomes = [
        poll,
        send(state, STUDENT, {"type": "poll.vote", "poll_id": poll_id, "choices": [1]}),
        send(state, HOST, {"type": "poll.publish", "poll_id": poll_id}),
        send(state, STUDENT, {"type": "hand.raise"}),
        send(state, STUDENT, {"type": "status.set", "camera": True}),
        send(state, HOST, {"type": "room.settings", "locked": True, "lobby": False}),
        send(state, HOST, {"type": "participant.set_role", "user_id": STUDENT, "role": "observer"}),
        send(state, HOST, {"type": "participant.ask_unmute", "user_id": STUDENT}),
        send(state, HOST, {"type": "room.spotlight", "user_id": None}),
        send(state, HOST, {"type": "room.end"}),
    ]
    for outcome in outcomes:
        assert outcome.events
        for event in outcome.events:
            check(event, "sequenced")
    typing = send(state, STUDENT, {"type": "chat.typing", "to": "hosts"})
    reaction = send(state, STUDENT, {"type": "reaction.send", "emoji": "🎉"})
    for event in (*typing.volatile, *reaction.volatile):
        check(event, "volatile")


def test_the_handler_names_the_error_for_a_refused_event() -> None:
    state = room()
    poll = send(state, HOST, {"type": "poll.create", "question": "Q?", "options": ["a", "b"]})
    CATALOGUE.apply(state, poll.events[0], offset=3)
    ballot = {"type": "poll.vote", "poll_id": poll.reply["poll_id"], "choices": [0]}
    vote = send(state, STUDENT, ballot)
    assert vote.refused is not None and vote.refused.code == "already-voted"


def test_grants_are_checked_before_the_handler() -> None:
    state = room()
    with pytest.raises(Rejected) as refused:
        send(state, STUDENT, {"type": "room.end"})
    assert refused.value.code == "forbidden"
    assert refused.value.message == "Your role in this room may not end the class."
    with pytest.raises(Rejected) as stranger:
        send(state, "00000000-0000-4000-8000-000000000009", {"type": "hand.raise"})
    assert stranger.value.code == "not-joined"


def test_media_commands_decide_purely_and_name_the_sfu_step() -> None:
    state = room()
    offer = {"type": "media.publish", "sdp": "v=0", "tracks": [{"mid": "0", "source": "camera"}]}
    published = send(state, STUDENT, offer)
    assert published.events == []
    assert published.effect == Publish(state.room_id, STUDENT, "conn-2", "v=0", {"0": "camera"})
    screen = {**offer, "tracks": [{"mid": "0", "source": "screen"}]}
    with pytest.raises(Rejected, match="may not publish screen"):
        send(state, STUDENT, screen)
    subscribed = send(state, STUDENT, {"type": "media.subscribe"})
    assert subscribed.effect == Subscribe(state.room_id, "conn-2") and subscribed.ack_first
    muted = send(state, HOST, {"type": "media.mute", "user_id": STUDENT, "source": "microphone"})
    assert muted.effect == Mute(state.room_id, STUDENT, "microphone", by=HOST)
    with pytest.raises(Rejected, match="may not mute others"):
        send(state, STUDENT, {"type": "media.mute", "user_id": HOST, "source": "microphone"})
    recorded = send(state, HOST, {"type": "media.record", "on": True})
    assert recorded.effect == Record(state.room_id, HOST, on=True)
    assert CATALOGUE.messages["media.publish"].rate == "control"


def test_reducers_and_presence_rules_come_from_the_catalogue() -> None:
    state = room()
    raised = send(state, STUDENT, {"type": "hand.raise"})
    CATALOGUE.apply(state, raised.events[0], offset=7)
    assert [h["user_id"] for h in state.hands] == [STUDENT] and state.offset == 7
    assert CATALOGUE.refreshes_presence("hand.raised")
    assert not CATALOGUE.refreshes_presence("chat.message")
    CATALOGUE.apply(state, {"type": "from.a.newer.node"}, offset=8)  # unknown: offset only
    assert state.offset == 8
    # A volatile event is never stored, so nothing may reduce it into the recovered state.
    volatile = [k for k in CATALOGUE.events.values() if k.delivery == "volatile"]
    assert volatile and not [k.name for k in volatile if k.reducer or k.projection]
    assert {"welcome", "ack", "error", "pong", "media.offer"} <= set(CATALOGUE.direct)


def test_projections_come_from_the_catalogue() -> None:
    assert CATALOGUE.projection("poll.voted") is projections.poll_voted
    assert CATALOGUE.projection("chat.typing") is None
    projected = {name for name, kind in CATALOGUE.events.items() if kind.projection}
    assert {"chat.message", "presence.connected", "breakout.closed"} <= projected
    assert all(CATALOGUE.events[name].persisted for name in projected)


def test_the_web_apps_protocol_types_are_current() -> None:
    """static/src/room/protocol.gen.ts is what the catalogue generates (npm run build)."""
    assert typescript.OUTPUT.read_text() == typescript.render()
    assert "export type ClientMessage =\n  | Ping\n  | ChatSend\n" in typescript.render()
