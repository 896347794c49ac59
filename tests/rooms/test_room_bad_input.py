"""Bad input on the room channel gets a clear error or a documented close code -- and after
each one, the other participants are unaffected and the room still works."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from kits.nodes import Node
from kits.opener import RoomOpener
from kits.rooms import (
    Person,
    RoomClient,
    chat_with,
    of,
    register,
    settle,
)
from rooms.roles import RoomRole
from rooms.tokens import JoinClaims, mint

SECRET = "t" * 48  # the secret the test nodes run with (conftest.start_node)
MAX_MESSAGE_BYTES = 16_384


@dataclass
class People:
    host: Person
    a: Person
    b: Person
    offender: Person


@pytest.fixture(scope="module")
def people(room_node: Node) -> People:
    return People(
        register(room_node, "instructor"),
        register(room_node),
        register(room_node),
        register(room_node),
    )


@dataclass
class Scene:
    room: str
    host: RoomClient
    a: RoomClient
    b: RoomClient
    offender: RoomClient


async def scene(open_room: RoomOpener, people: People) -> Scene:
    room, clients = await open_room(
        people.host,
        members=[(p, "participant") for p in (people.a, people.b, people.offender)],
        enter=(people.host, people.a, people.b, people.offender),
    )
    return Scene(room, *clients)


async def room_still_works(s: Scene, text: str) -> None:
    """Everyone else carries on: a message goes round, nobody else saw an error."""
    await s.a.ack({"type": "chat.send", "text": text})
    for client in (s.host, s.b):
        await client.next(chat_with(text))
    await settle(s.host, s.a, s.b)
    for client in (s.host, s.a, s.b):
        assert client.received(of("error")) == [], client.label
        assert client.is_open


BAD_MESSAGES: list[tuple[str, str, str]] = [
    # (frame, error code, what the message must name)
    ("{not json", "invalid-json", "JSON"),
    ("", "invalid-json", "JSON"),
    ("[1, 2, 3]", "invalid-message", "object"),
    ('"a string"', "invalid-message", "object"),
    ('{"text": "no type"}', "unknown-type", "None"),
    ('{"type": "chat.shout", "text": "hi"}', "unknown-type", "chat.shout"),
    ('{"type": 42}', "unknown-type", "42"),
    ('{"type": "chat.send"}', "invalid-message", "text"),
    ('{"type": "chat.send", "text": "   "}', "invalid-message", "text"),
    ('{"type": "chat.send", "text": "' + "x" * 4001 + '"}', "invalid-message", "text"),
    ('{"type": "chat.send", "text": "hi", "to": "everyone"}', "invalid-message", "to"),
    ('{"type": "chat.send", "text": "hi", "colour": "red"}', "invalid-message", "colour"),
    ('{"type": "chat.send", "text": 5}', "invalid-message", "text"),
    ('{"type": "chat.edit", "message_id": "not-a-uuid", "text": "x"}', "invalid-message", "id"),
    (
        '{"type": "chat.react", "message_id": "'
        + str(uuid.uuid4())
        + '", "emoji": "'
        + "x" * 17
        + '"}',
        "invalid-message",
        "emoji",
    ),
    ('{"type": "status.set", "camera": "maybe"}', "invalid-message", "camera"),
    (
        '{"type": "poll.vote", "poll_id": "' + str(uuid.uuid4()) + '", "choices": []}',
        "invalid-message",
        "choices",
    ),
    (
        '{"type": "poll.vote", "poll_id": "' + str(uuid.uuid4()) + '", "choices": [-1]}',
        "invalid-message",
        "choices",
    ),
    (
        '{"type": "poll.create", "question": "Q", "options": ["only one"]}',
        "invalid-message",
        "options",
    ),
    ('{"type": "room.settings", "slow_mode_seconds": -5}', "invalid-message", "slow_mode"),
    ('{"type": "breakout.create", "count": 0}', "invalid-message", "count"),
    ('{"type": "breakout.open", "duration_seconds": 5}', "invalid-message", "duration"),
    (
        '{"type": "participant.set_role", "user_id": "' + str(uuid.uuid4()) + '", "role": "king"}',
        "invalid-message",
        "role",
    ),
    ('{"type": "ping", "ref": "' + "r" * 65 + '"}', "invalid-message", "ref"),
]


async def test_malformed_messages_get_errors_and_harm_no_one(
    open_room: RoomOpener, people: People
) -> None:
    s = await scene(open_room, people)
    for frame, code, names in BAD_MESSAGES:
        await s.offender.send_raw(frame)
        error = await s.offender.next(of("error"))
        assert error["code"] == code, (frame[:80], error)
        assert names in error["message"], (frame[:80], error)
        assert "seq" not in error
    # A ref comes back even when the message is refused.
    await s.offender.send_raw('{"type": "nope", "ref": "mine"}')
    assert (await s.offender.next(of("error")))["ref"] == "mine"
    await s.offender.send_raw('{"type": "chat.send", "ref": "mine2"}')
    assert (await s.offender.next(of("error")))["ref"] == "mine2"
    # The offender's socket is still usable, and nobody else noticed anything.
    await s.offender.ack({"type": "chat.send", "text": "sorry"})
    await room_still_works(s, f"after {len(BAD_MESSAGES)} bad messages")


async def test_binary_frame_closes_1003(open_room: RoomOpener, people: People) -> None:
    s = await scene(open_room, people)
    await s.offender.send_raw(b'{"type": "ping"}')
    assert await s.offender.closed() == (1003, "send JSON text frames")
    gone = await s.host.next(of("presence.disconnected", conn_id=s.offender.conn_id))
    assert gone["last"] is True
    await room_still_works(s, "after a binary frame")


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "chat.send", "text": "' + "x" * MAX_MESSAGE_BYTES + '"}',
        # Under the cap in characters, far over it in bytes.
        '{"type": "chat.send", "text": "' + "😀" * 5000 + '"}',
        # Over the server's WebSocket frame limit (1 MiB) as well.
        "x" * (1 << 20) + "x",
    ],
    ids=["ascii", "multibyte", "huge"],
)
async def test_oversized_frame_closes_1009(
    open_room: RoomOpener, people: People, frame: str
) -> None:
    s = await scene(open_room, people)
    await s.offender.send_raw(frame)
    code, _ = await s.offender.closed()
    assert code == 1009
    assert s.offender.received(chat_with("😀" * 5000)) == []
    await s.host.next(of("presence.disconnected", conn_id=s.offender.conn_id))
    await room_still_works(s, "after a huge frame")


async def test_rate_limit_abuse_closes_4029(open_room: RoomOpener, people: People) -> None:
    s = await scene(open_room, people)
    # Volatile messages: 20 at once, then 10 a second; past 50 refusals the socket closes.
    for _ in range(400):
        if not s.offender.is_open:
            break
        try:
            await s.offender.send({"type": "reaction.send", "emoji": "🔥"})
        except Exception:  # the server closed while we were sending
            break
    assert await s.offender.closed() == (4029, "rate limited")
    limited = s.offender.received(of("error"))
    assert len(limited) == 50  # the 51st refusal closes the socket instead
    assert {e["code"] for e in limited} == {"rate-limited"}
    await room_still_works(s, "after a flood")
    # The others saw the reactions that were allowed, no more than the burst and refill.
    assert 0 < len(s.b.received(of("reaction"))) < 400


def token(claims: JoinClaims, *, secret: str = SECRET, age: timedelta = timedelta(0)) -> str:
    return mint(claims, secret=secret, now=datetime.now(UTC) - age, ttl=timedelta(minutes=10))


async def test_bad_join_tokens_close_4001_after_accept(
    open_room: RoomOpener, people: People
) -> None:
    s = await scene(open_room, people)
    other_room = await open_room.room(people.host)
    claims = JoinClaims(
        room_id=s.room,
        user_id=people.b.user_id,
        name="B",
        role=RoomRole.PARTICIPANT,
        grants=frozenset({"chat"}),
    )
    elsewhere = await open_room.token(people.host, other_room)
    cases = {
        "missing": "",
        "garbage": "not-a-jwt",
        "expired": token(claims, age=timedelta(minutes=11)),
        "forged": token(claims, secret="f" * 48),
        "other room": elsewhere,
        "tampered": token(claims)[:-4] + "AAAA",
    }
    for name, bad in cases.items():
        client = await open_room.open(s.room, bad, welcome=False)
        code, reason = await client.closed()
        assert code == 4001, (name, code, reason)
        assert client.received(of("welcome")) == [], name
    # A forged token cannot make a participant a host either.
    as_host = token(
        JoinClaims(
            room_id=s.room,
            user_id=people.b.user_id,
            name="B",
            role=RoomRole.HOST,
            grants=frozenset({"moderate"}),
        ),
        secret="f" * 48,
    )
    client = await open_room.open(s.room, as_host, welcome=False)
    assert (await client.closed())[0] == 4001
    # A valid signature for a room that does not exist: 4003.
    ghost = str(uuid.uuid4())
    client = await open_room.open(
        ghost,
        token(
            JoinClaims(
                room_id=ghost,
                user_id=people.b.user_id,
                name="B",
                role=RoomRole.PARTICIPANT,
                grants=frozenset(),
            )
        ),
        welcome=False,
    )
    assert await client.closed() == (4003, "no such room")
    await room_still_works(s, "after bad tokens")
