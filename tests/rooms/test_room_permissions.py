"""The permission of each room role for each client message type, over the real socket.

Every message type of the protocol is in ``MATRIX``. A role without the grant gets
``forbidden``; a role with it gets past the check. Messages that would change much are
aimed at things that do not exist (a random user or poll), so an allowed role gets
``not-found`` or ``no-breakouts`` -- past the permission check, without side effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from kits.nodes import Node
from kits.opener import RoomOpener
from kits.rooms import (
    Message,
    Person,
    RoomClient,
    chat_with,
    invite,
    join_token,
    of,
    random_id,
    register,
    rest,
)
from rooms.messages import MESSAGE_TYPES

ROLES = ("host", "co-host", "presenter", "participant", "observer")
EVERYONE = frozenset(ROLES)
HOSTS = frozenset({"host", "co-host"})
TALKERS = frozenset({"host", "co-host", "presenter", "participant"})  # `chat`, `raise_hand`, `vote`


@dataclass
class Room:
    room_id: str
    people: dict[str, Person]
    target: Person  # a participant others act upon
    host_message: str  # a chat message by the host


Build = Callable[[Room], Message]
# message type -> (message to send, roles allowed)
MATRIX: dict[str, tuple[Build, frozenset[str]]] = {
    "ping": (lambda r: {"type": "ping"}, EVERYONE),
    "chat.send": (lambda r: {"type": "chat.send", "text": "hi"}, TALKERS),
    "chat.edit": (
        lambda r: {"type": "chat.edit", "message_id": random_id(), "text": "x"},
        TALKERS,
    ),
    "chat.delete": (lambda r: {"type": "chat.delete", "message_id": random_id()}, EVERYONE),
    "chat.react": (
        lambda r: {"type": "chat.react", "message_id": random_id(), "emoji": "+1"},
        EVERYONE,
    ),
    "chat.typing": (lambda r: {"type": "chat.typing"}, TALKERS),
    "hand.raise": (lambda r: {"type": "hand.raise"}, TALKERS),
    "hand.lower": (lambda r: {"type": "hand.lower"}, EVERYONE),
    "reaction.send": (lambda r: {"type": "reaction.send", "emoji": "*"}, EVERYONE),
    "status.set": (lambda r: {"type": "status.set", "away": True}, EVERYONE),
    "participant.mute": (
        lambda r: {"type": "participant.mute", "user_id": random_id()},
        HOSTS,
    ),
    "participant.ask_unmute": (
        lambda r: {"type": "participant.ask_unmute", "user_id": random_id()},
        HOSTS,
    ),
    "room.mute_all": (lambda r: {"type": "room.mute_all"}, HOSTS),
    "participant.remove": (
        lambda r: {"type": "participant.remove", "user_id": random_id()},
        HOSTS,
    ),
    "participant.set_role": (
        lambda r: {"type": "participant.set_role", "user_id": random_id(), "role": "observer"},
        HOSTS,
    ),
    "room.spotlight": (lambda r: {"type": "room.spotlight", "user_id": None}, HOSTS),
    "room.settings": (lambda r: {"type": "room.settings", "slow_mode_seconds": 0}, HOSTS),
    "lobby.admit": (lambda r: {"type": "lobby.admit", "user_id": random_id()}, HOSTS),
    "lobby.deny": (lambda r: {"type": "lobby.deny", "user_id": random_id()}, HOSTS),
    "room.end": (lambda r: {"type": "room.end"}, HOSTS),
    "poll.create": (
        lambda r: {"type": "poll.create", "question": "Q?", "options": ["a", "b"]},
        HOSTS,
    ),
    "poll.vote": (
        lambda r: {"type": "poll.vote", "poll_id": random_id(), "choices": [0]},
        TALKERS,
    ),
    "poll.publish": (lambda r: {"type": "poll.publish", "poll_id": random_id()}, HOSTS),
    "poll.close": (lambda r: {"type": "poll.close", "poll_id": random_id()}, HOSTS),
    # A question the room does not grade live: allowed roles get `invalid-question`.
    "quiz.launch": (
        lambda r: {"type": "quiz.launch", "title": "Q", "questions": [{"type": "essay"}]},
        HOSTS,
    ),
    "quiz.answer": (
        lambda r: {
            "type": "quiz.answer",
            "quiz_id": random_id(),
            "question_id": "q1",
            "response": {},
        },
        TALKERS,
    ),
    "quiz.close": (lambda r: {"type": "quiz.close", "quiz_id": random_id()}, HOSTS),
    "quiz.reveal": (lambda r: {"type": "quiz.reveal", "quiz_id": random_id()}, HOSTS),
    "quiz.result": (lambda r: {"type": "quiz.result", "quiz_id": random_id()}, EVERYONE),
    "quiz.grade": (lambda r: {"type": "quiz.grade", "quiz_id": random_id()}, HOSTS),
    # No breakouts exist: allowed roles get `no-breakouts`.
    "breakout.assign": (
        lambda r: {"type": "breakout.assign", "user_id": r.target.user_id, "index": 0},
        HOSTS,
    ),
    "breakout.open": (lambda r: {"type": "breakout.open"}, HOSTS),
    "breakout.broadcast": (lambda r: {"type": "breakout.broadcast", "text": "hi"}, HOSTS),
    "breakout.close": (lambda r: {"type": "breakout.close"}, HOSTS),
    "media.record": (lambda r: {"type": "media.record", "on": True}, HOSTS),
    # Allowed roles get past the grant check to `bad-sdp` / `not-subscribed` / an ack.
    "media.publish": (
        lambda r: {
            "type": "media.publish",
            "sdp": "v=0\r\nnot an offer\r\n",
            "tracks": [{"mid": "0", "source": "camera"}],
        },
        TALKERS,
    ),
    "media.unpublish": (lambda r: {"type": "media.unpublish", "source": "camera"}, EVERYONE),
    "media.subscribe": (lambda r: {"type": "media.subscribe"}, EVERYONE),
    "media.answer": (
        lambda r: {"type": "media.answer", "sdp": "v=0\r\n", "version": 1},
        EVERYONE,
    ),
    "media.mute": (
        lambda r: {"type": "media.mute", "user_id": r.target.user_id, "source": "camera"},
        HOSTS,
    ),
    # Captions: hosts hold `caption` by role, others only when assigned (none is here).
    "caption.send": (
        lambda r: {"type": "caption.send", "utterance": "u1", "text": "hello"},
        HOSTS,
    ),
    "caption.assign": (
        lambda r: {"type": "caption.assign", "user_id": r.target.user_id, "on": False},
        HOSTS,
    ),
    "caption.auto": (lambda r: {"type": "caption.auto", "on": False}, HOSTS),
    # These two change the room for good: each role tries them in a room of its own.
    "breakout.create": (lambda r: {"type": "breakout.create", "count": 1}, HOSTS),
}
# Aimed at others: `moderate` needed even though the plain form is open to everyone.
ON_OTHERS: dict[str, tuple[Build, frozenset[str]]] = {
    "hand.lower (someone else's)": (
        lambda r: {"type": "hand.lower", "user_id": r.target.user_id},
        HOSTS,
    ),
    "chat.delete (someone else's)": (
        lambda r: {"type": "chat.delete", "message_id": r.host_message},
        HOSTS,  # the host wrote it (one's own); co-hosts moderate
    ),
}
DESTRUCTIVE = {"room.end", "breakout.create"}


def test_matrix_covers_every_message_type() -> None:
    assert set(MATRIX) == set(MESSAGE_TYPES)


@pytest.fixture(scope="module")
def people(room_node: Node) -> dict[str, Person]:
    found = {"host": register(room_node, "instructor")}
    for role in ROLES[1:]:
        found[role] = register(room_node)
    found["target"] = register(room_node)
    return found


@pytest.fixture(scope="module")
async def room(room_node: Node, people: dict[str, Person]) -> Room:
    members = [*((people[role], role) for role in ROLES[1:]), (people["target"], "participant")]
    room_id = await RoomOpener(room_node).room(people["host"], members=members)
    return Room(room_id, people, people["target"], "")


async def outcome(client: RoomClient, message: Message) -> Message:
    if message["type"] == "ping":
        ref = await client.send(message)
        return await client.next(of("pong", ref=ref))
    return await client.request(message)


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_may_do_exactly_what_its_grants_say(
    open_room: RoomOpener, room: Room, role: str
) -> None:
    host = await open_room.enter(room.people["host"], room.room_id)
    target = await open_room.enter(room.target, room.room_id)
    await target.ack({"type": "hand.raise"})
    message_id = (await host.ack({"type": "chat.send", "text": "the host's words"}))["message_id"]
    subject = Room(room.room_id, room.people, room.target, message_id)
    actor = host if role == "host" else await open_room.enter(room.people[role], room.room_id)
    assert actor.me["role"] == role
    wrong = await wrong_answers(actor, role, subject)
    assert not wrong, "\n".join(wrong)
    # Nothing the role was refused reached anyone else: the room is intact.
    await target.ack({"type": "chat.send", "text": f"after {role}"})
    await host.next(chat_with(f"after {role}"))


async def wrong_answers(actor: RoomClient, role: str, subject: Room) -> list[str]:
    """Every message type but the destructive ones, as ``actor``: what the server answered
    unlike ``role``'s grants say."""
    wrong: list[str] = []
    cases: dict[str, tuple[Build, frozenset[str]]] = {**MATRIX, **ON_OTHERS}
    for name, (build, allowed) in cases.items():
        if name in DESTRUCTIVE:
            continue
        reply = await outcome(actor, build(subject))
        refused = reply["type"] == "error" and reply["code"] == "forbidden"
        if refused == (role in allowed):
            wrong.append(f"{role} {name}: {reply}")
    return wrong


# (role when the join token was minted, role the room gives now): the room's decides.
CHANGED = [
    ("co-host", "participant"),
    ("co-host", "observer"),
    ("presenter", "observer"),
    ("participant", "observer"),
    ("observer", "presenter"),
]


@pytest.mark.parametrize(("minted", "now"), CHANGED)
async def test_an_old_token_gets_the_grants_of_the_role_the_room_gives_now(
    room_node: Node, open_room: RoomOpener, people: dict[str, Person], minted: str, now: str
) -> None:
    """A join token's role is where it started: the matrix holds for the current role, on
    a connection opened with a token minted before the change (the host changed it over
    REST while the person was away)."""
    host_person, person = people["host"], register(room_node)
    room_id = await open_room.room(
        host_person, members=[(person, minted), (people["target"], "participant")]
    )
    old = await open_room.token(person, room_id)
    await invite(room_node, host_person, room_id, person, now)
    host = await open_room.enter(host_person, room_id)
    target = await open_room.enter(people["target"], room_id)
    await target.ack({"type": "hand.raise"})
    message_id = (await host.ack({"type": "chat.send", "text": "the host's words"}))["message_id"]
    subject = Room(room_id, people, people["target"], message_id)
    actor = await open_room.open(room_id, old)
    assert (actor.me["role"], now in HOSTS) == (now, "moderate" in actor.me["grants"])
    wrong = await wrong_answers(actor, now, subject)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
async def test_breakout_create_and_room_end_by_role(
    open_room: RoomOpener, people: dict[str, Person], role: str
) -> None:
    members = [] if role == "host" else [(people[role], role)]
    room_id, [actor] = await open_room(people["host"], members=members, enter=[people[role]])
    for kind in ("breakout.create", "room.end"):
        build, allowed = MATRIX[kind]
        reply = await actor.request(build(Room(room_id, people, people["target"], "")))
        if role in allowed:
            assert reply["type"] == "ack", reply
        else:
            assert (reply["type"], reply["code"]) == ("error", "forbidden"), reply
    if role in HOSTS:
        assert await actor.closed() == (4010, "room ended")
    else:
        assert actor.is_open
        await actor.close()


async def test_co_hosts_and_the_host(
    room_node: Node, open_room: RoomOpener, people: dict[str, Person]
) -> None:
    """Co-hosts assign presenter, participant and observer; only the host makes co-hosts;
    nobody but the host acts on the host -- over the socket and over REST."""
    room_id, [host, cohost, target] = await open_room(
        people["host"],
        members=[(people["co-host"], "co-host"), (people["target"], "participant")],
        enter=(people["host"], people["co-host"], people["target"]),
    )
    for role in ("presenter", "observer", "participant"):
        await cohost.ack({"type": "participant.set_role", "user_id": target.user_id, "role": role})
        await target.next(of("participant.role", role=role))
    for role in ("co-host", "host"):
        await cohost.error(
            {"type": "participant.set_role", "user_id": target.user_id, "role": role}, "forbidden"
        )
    for message in (
        {"type": "participant.mute", "user_id": host.user_id},
        {"type": "participant.remove", "user_id": host.user_id},
        {"type": "participant.set_role", "user_id": host.user_id, "role": "participant"},
    ):
        await cohost.error(message, "forbidden")
    # The host acts on co-hosts.
    await host.ack({"type": "participant.mute", "user_id": cohost.user_id})
    await cohost.next(of("participant.muted", user_id=cohost.user_id))
    # REST: a co-host invites, but not as co-host or host; participants do not invite.
    extra = people["presenter"]
    made = await rest(
        room_node,
        people["co-host"],
        "POST",
        f"/api/v1/rooms/{room_id}/members",
        json={"user_id": extra.user_id, "role": "presenter"},
    )
    assert made.status_code == 201, made.text
    for role in ("co-host", "host"):
        refused = await rest(
            room_node,
            people["co-host"],
            "POST",
            f"/api/v1/rooms/{room_id}/members",
            json={"user_id": extra.user_id, "role": role},
        )
        assert refused.status_code == 403
    for method, path, body in (
        ("POST", f"/api/v1/rooms/{room_id}/members", {"user_id": extra.user_id}),
        ("GET", f"/api/v1/rooms/{room_id}/members", None),
        ("PATCH", f"/api/v1/rooms/{room_id}", {"title": "mine now"}),
        ("POST", f"/api/v1/rooms/{room_id}/end", None),
        ("GET", f"/api/v1/rooms/{room_id}/attendance", None),
    ):
        refused = await rest(room_node, people["target"], method, path, json=body)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    # A join token carries the role's grants.
    token_info = await rest(room_node, extra, "POST", f"/api/v1/rooms/{room_id}/join")
    assert token_info.json()["role"] == "presenter"
    assert "publish_screen" in token_info.json()["grants"]
    assert "moderate" not in token_info.json()["grants"]
    assert await join_token(room_node, extra, room_id)
