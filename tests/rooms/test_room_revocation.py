"""Grants follow the room, not the token; revocations reach live connections.

A join token is where a connection starts. The role that counts is the one the room's
membership gives now, on connect and live, on the room channel and the Yjs channel alike;
and signing out everywhere, a password change, a deactivation, a removal from the course
or from the room closes the person's open sockets at once and voids their join tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from kits.nodes import PASSWORD, Node
from kits.opener import RoomOpener
from kits.rooms import (
    Person,
    RoomClient,
    admin,
    invite,
    of,
    register,
    rest,
)
from kits.yjs import RawClient
from realtime.yjs.messages import Auth

SIGNED_OUT = (4001, "signed out")
LEFT_COURSE = (4003, "removed from the course")
REMOVED = (4030, "removed by a host")
BANNED = (4030, "banned from this room")


def notes(room_id: str) -> str:
    return f"rooms/{room_id}/notes"


def denials(client: RawClient) -> int:
    return sum(isinstance(m, Auth) for m in client.messages)


@dataclass
class Live:
    """One person's open sockets in a room: the room channel and the notes, one token."""

    person: Person
    room_id: str
    token: str
    channel: RoomClient
    notes: RawClient

    @classmethod
    async def open(cls, open_room: RoomOpener, node: Node, person: Person, room_id: str) -> Live:
        """The channel is closed with ``open_room``'s clients; the notes are the caller's."""
        token = await open_room.token(person, room_id)
        channel = await open_room.open(room_id, token, label=person.email.split("@")[0])
        return cls(
            person, room_id, token, channel, await RawClient.open(node, notes(room_id), token)
        )

    async def closed(self) -> tuple[tuple[int | None, str], tuple[int | None, str]]:
        return await self.channel.closed(), await self.notes.closed()

    async def refused_again(self, node: Node) -> tuple[tuple[int | None, str], ...]:
        """The old join token, tried again on both channels."""
        channel = await RoomClient.open(node, self.room_id, self.token, welcome=False)
        document = await RawClient.open(node, notes(self.room_id), self.token, sync=False)
        found = (await channel.closed(), await document.closed())
        assert channel.received(of("welcome")) == []
        return found


# ------------------------------------------------------------------ grants follow the room


async def test_a_demoted_co_host_comes_back_with_an_old_token_as_a_participant(
    room_node: Node, open_room: RoomOpener
) -> None:
    host, cohost = register(room_node, "instructor"), register(room_node)
    room_id = await open_room.room(host, members=[(cohost, "co-host")])
    old = await open_room.token(cohost, room_id)  # minted while a co-host
    spare = await open_room.token(cohost, room_id)
    host_channel = await open_room.enter(host, room_id)
    first = await open_room.open(room_id, old)
    assert first.me["role"] == "co-host"
    demote = {"type": "participant.set_role", "user_id": cohost.user_id, "role": "participant"}
    await host_channel.ack(demote)
    await first.next(of("participant.role", role="participant"))
    await first.error({"type": "room.mute_all"}, "forbidden")  # live
    await first.close()
    await host_channel.next(of("presence.disconnected", user_id=cohost.user_id))

    back = await open_room.open(room_id, spare)  # nobody of theirs is in the room
    assert back.me["role"] == "participant"
    assert "moderate" not in back.me["grants"]
    for message in (
        {"type": "room.mute_all"},
        {"type": "participant.set_role", "user_id": host.user_id, "role": "observer"},
        {"type": "room.settings", "locked": True},
        {"type": "room.end"},
    ):
        await back.error(message, "forbidden")
    listed = next(p for p in back.snapshot["participants"] if p["user_id"] == cohost.user_id)
    assert listed["role"] == "participant"
    # Their document access follows too: the notes' writer grant stays, `moderate` is gone.
    writer = await RawClient.open(room_node, notes(room_id), old)
    await writer.insert("still a participant. ")
    witness = await RawClient.open(room_node, notes(room_id), await open_room.token(host, room_id))
    await witness.until(lambda c: "still a participant." in c.text)
    for client in (writer, witness):
        await client.close()


async def test_a_role_changed_over_rest_applies_live_and_to_old_tokens(
    room_node: Node, open_room: RoomOpener
) -> None:
    host, cohost = register(room_node, "instructor"), register(room_node)
    room_id = await open_room.room(host, members=[(cohost, "co-host")])
    old = await open_room.token(cohost, room_id)
    live = await open_room.open(room_id, old)
    await live.ack({"type": "room.mute_all"})
    await invite(room_node, host, room_id, cohost, "observer")  # a role change, over REST
    await live.next(of("participant.role", user_id=cohost.user_id, role="observer"))
    await live.error({"type": "room.mute_all"}, "forbidden")
    await live.error({"type": "chat.send", "text": "hi"}, "forbidden")
    await live.close()
    again = await open_room.open(room_id, old)
    assert again.me["role"] == "observer"
    await again.error({"type": "chat.send", "text": "hi"}, "forbidden")
    await again.close()
    # Nobody but the host acts on the host, over REST too (a demotion would now last).
    other = register(room_node)
    await invite(room_node, host, room_id, other, "co-host")
    refused = await rest(
        room_node,
        other,
        "POST",
        f"/api/v1/rooms/{room_id}/members",
        json={"user_id": host.user_id, "role": "observer"},
    )
    assert refused.status_code == 403, refused.text
    made = await rest(room_node, host, "GET", f"/api/v1/rooms/{room_id}")
    assert made.json()["my_role"] == "host"


# ------------------------------------------------------------------ revocations


async def _logout_everywhere(node: Node, person: Person) -> None:
    done = await rest(node, person, "POST", "/api/v1/auth/logout", json={"everywhere": True})
    assert done.status_code == 204, done.text


async def _change_password(node: Node, person: Person) -> None:
    done = await rest(
        node,
        person,
        "POST",
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another-horse-battery-9"},
    )
    assert done.status_code == 204, done.text


async def _deactivate(node: Node, person: Person) -> None:
    done = await rest(
        node, admin(node), "PATCH", f"/api/v1/users/{person.user_id}", json={"is_active": False}
    )
    assert done.status_code == 200, done.text


async def _erase(node: Node, person: Person) -> None:
    done = await rest(node, person, "DELETE", "/api/v1/users/me", json={"password": PASSWORD})
    assert done.status_code == 204, done.text


REVOCATIONS: dict[str, Callable[[Node, Person], Awaitable[None]]] = {
    "logout everywhere": _logout_everywhere,
    "password change": _change_password,
    "deactivation": _deactivate,
    "erasure": _erase,
}


@pytest.mark.parametrize("revocation", sorted(REVOCATIONS))
async def test_revoked_sessions_close_open_sockets_and_void_join_tokens(
    room_node: Node, open_room: RoomOpener, revocation: str
) -> None:
    host, student = register(room_node, "instructor"), register(room_node)
    room_id, [host_channel] = await open_room(
        host, members=[(student, "participant")], enter=[host]
    )
    live = await Live.open(open_room, room_node, student, room_id)
    second_tab = await open_room.enter(student, room_id)
    await REVOCATIONS[revocation](room_node, student)
    assert await live.closed() == (SIGNED_OUT, SIGNED_OUT)
    assert await second_tab.closed() == SIGNED_OUT
    await host_channel.next(of("presence.disconnected", user_id=student.user_id, last=True))
    assert await live.refused_again(room_node) == (SIGNED_OUT, SIGNED_OUT)
    # The old access token is no good either; the host and the room carry on.
    me = await rest(room_node, student, "GET", "/api/v1/users/me")
    assert me.status_code == 401
    await host_channel.ack({"type": "chat.send", "text": f"after {revocation}"})


async def test_signing_in_again_gives_a_join_token_that_works(
    room_node: Node, open_room: RoomOpener
) -> None:
    host, student = register(room_node, "instructor"), register(room_node)
    room_id = await open_room.room(host, members=[(student, "participant")])
    live = await Live.open(open_room, room_node, student, room_id)
    await _logout_everywhere(room_node, student)
    assert await live.closed() == (SIGNED_OUT, SIGNED_OUT)
    again = Person(student.email, room_node.login(student.email), student.user_id, student.name)
    fresh = await Live.open(open_room, room_node, again, room_id)
    await fresh.notes.insert("back. ")
    await fresh.channel.ack({"type": "chat.send", "text": "back"})
    await fresh.notes.close()


async def test_removal_from_the_course_closes_its_rooms(
    room_node: Node, open_room: RoomOpener
) -> None:
    teacher, student, other = (
        register(room_node, "instructor"),
        register(room_node),
        register(room_node),
    )
    course = await rest(
        room_node,
        teacher,
        "POST",
        "/api/v1/courses",
        json={"code": f"RV-{uuid.uuid4().hex[:8]}", "title": "Revocation 101"},
    )
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    for person in (student, other):
        enrolled = await rest(
            room_node,
            teacher,
            "POST",
            f"/api/v1/courses/{course_id}/enrollments",
            json={"user_id": person.user_id, "role": "student"},
        )
        assert enrolled.status_code == 201, enrolled.text
    room_id = await open_room.room(teacher, course_id=course_id)
    # Not the course's: untouched.
    elsewhere = await open_room.room(teacher, members=[(student, "participant")])
    host_channel = await open_room.enter(teacher, room_id)
    live = await Live.open(open_room, room_node, student, room_id)
    assert live.channel.me["role"] == "participant"
    # A role given in the room (stored with the room's membership) does not outlast the course.
    promote = {"type": "participant.set_role", "user_id": student.user_id, "role": "presenter"}
    await host_channel.ack(promote)
    outside = await open_room.enter(student, elsewhere)
    classmate = await open_room.enter(other, room_id)

    removed = await rest(
        room_node, teacher, "DELETE", f"/api/v1/courses/{course_id}/enrollments/{student.user_id}"
    )
    assert removed.status_code == 204
    assert await live.closed() == (LEFT_COURSE, LEFT_COURSE)
    assert await live.refused_again(room_node) == (LEFT_COURSE, LEFT_COURSE)
    refused = await rest(room_node, student, "POST", f"/api/v1/rooms/{room_id}/join")
    assert refused.status_code == 404
    # Their other room and their classmate carry on.
    await outside.ack({"type": "chat.send", "text": "still here"})
    await classmate.ack({"type": "chat.send", "text": "me too"})


@pytest.mark.parametrize("ban", [False, True])
async def test_removal_from_the_room_closes_both_channels_and_voids_old_tokens(
    room_node: Node, open_room: RoomOpener, ban: bool
) -> None:
    host, student = register(room_node, "instructor"), register(room_node)
    room_id, [host_channel] = await open_room(
        host, members=[(student, "participant")], enter=[host]
    )
    live = await Live.open(open_room, room_node, student, room_id)
    await host_channel.ack({"type": "participant.remove", "user_id": student.user_id, "ban": ban})
    expected = BANNED if ban else REMOVED
    assert await live.closed() == (expected, expected)
    # The room channel refuses a banned user's token with 4003 (its entry check), the Yjs
    # channel with 4030; a removed (not banned) user's old token: 4030 on both.
    again = await live.refused_again(room_node)
    assert again == (((4003, "banned from this room"), BANNED) if ban else (REMOVED, REMOVED))
    if not ban:  # removed, not banned: a new join token lets them back
        back = await Live.open(open_room, room_node, student, room_id)
        await back.notes.close()


async def test_a_withdrawn_invitation_removes_at_once(
    room_node: Node, open_room: RoomOpener
) -> None:
    host, guest = register(room_node, "instructor"), register(room_node)
    room_id = await open_room.room(host, members=[(guest, "presenter")])
    live = await Live.open(open_room, room_node, guest, room_id)
    withdrawn = await rest(
        room_node, host, "DELETE", f"/api/v1/rooms/{room_id}/members/{guest.user_id}"
    )
    assert withdrawn.status_code == 204
    assert await live.closed() == (REMOVED, REMOVED)
    assert await live.refused_again(room_node) == (REMOVED, REMOVED)
    refused = await rest(room_node, guest, "POST", f"/api/v1/rooms/{room_id}/join")
    assert refused.status_code == 404
