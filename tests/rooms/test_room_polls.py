"""Polls: create, vote once (seen only by hosts and the voter), anonymous votes, publish, close."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kits.nodes import Node
from kits.opener import RoomOpener
from kits.rooms import (
    Person,
    RoomClient,
    of,
    random_id,
    register,
    settle,
)


@dataclass
class People:
    host: Person
    cohost: Person
    a: Person
    b: Person
    watcher: Person


@pytest.fixture(scope="module")
def people(room_node: Node) -> People:
    return People(
        register(room_node, "instructor"),
        register(room_node),
        register(room_node),
        register(room_node),
        register(room_node),
    )


async def classroom(open_room: RoomOpener, people: People) -> tuple[str, list[RoomClient]]:
    roles = [(people.cohost, "co-host"), (people.a, "participant"), (people.b, "participant")]
    return await open_room(
        people.host,
        members=[*roles, (people.watcher, "observer")],
        enter=(people.host, people.cohost, people.a, people.b, people.watcher),
    )


QUESTION = {
    "type": "poll.create",
    "question": "Which topic next?",
    "options": ["Recursion", "Closures", "Generators"],
}


async def test_named_poll_from_creation_to_close(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    room, clients = await classroom(open_room, people)
    host, cohost, a, b, watcher = clients
    poll_id = (await host.ack(QUESTION))["poll_id"]
    for client in clients:
        event = await client.next(of("poll.created"))
        assert event["by"] == host.user_id
        assert event["poll"] == {
            "id": poll_id,
            "question": "Which topic next?",
            "options": ["Recursion", "Closures", "Generators"],
            "multiple": False,
            "anonymous": False,
            "created_by": host.user_id,
        }

    # A vote is seen by the hosts and the voter only.
    await a.ack({"type": "poll.vote", "poll_id": poll_id, "choices": [1]})
    for client in (host, cohost, a):
        voted = await client.next(of("poll.voted"))
        assert (voted["poll_id"], voted["choices"], voted["by"]) == (poll_id, [1], a.user_id)
        assert "voter" not in voted
    await settle(host, cohost, a, b, watcher)
    assert b.received(of("poll.voted")) == []
    assert watcher.received(of("poll.voted")) == []
    await a.error({"type": "poll.vote", "poll_id": poll_id, "choices": [2]}, "already-voted")
    await watcher.error({"type": "poll.vote", "poll_id": poll_id, "choices": [0]}, "forbidden")
    await b.error({"type": "poll.vote", "poll_id": poll_id, "choices": [7]}, "invalid")
    await b.error({"type": "poll.vote", "poll_id": poll_id, "choices": [0, 1]}, "invalid")
    await b.ack({"type": "poll.vote", "poll_id": poll_id, "choices": [1]})

    # Live results: hosts see tallies and voters, participants only their own vote.
    host_view = await open_room.enter(people.host, room)
    [poll] = host_view.snapshot["polls"]
    assert poll["results"] == {
        "counts": [0, 2, 0],
        "votes": 2,
        "voters": {a.user_id: [1], b.user_id: [1]},
    }
    await a.close()
    a2 = await open_room.enter(people.a, room)
    [poll] = a2.snapshot["polls"]
    assert poll["my_vote"] == [1]
    assert "results" not in poll
    assert poll["status"] == "open"

    # Publishing shows everyone the tallies (not who voted).
    await b.error({"type": "poll.publish", "poll_id": poll_id}, "forbidden")
    await cohost.ack({"type": "poll.publish", "poll_id": poll_id})
    for client in (host, cohost, a2, b, watcher):
        published = await client.next(of("poll.published"))
        assert published["poll_id"] == poll_id
        assert published["results"] == {"counts": [0, 2, 0], "votes": 2}
    # Closing stops the votes.
    await host.ack({"type": "poll.close", "poll_id": poll_id})
    for client in (host, cohost, a2, b, watcher):
        assert (await client.next(of("poll.closed")))["poll_id"] == poll_id
    await cohost.error({"type": "poll.vote", "poll_id": poll_id, "choices": [0]}, "poll-closed")
    # Closing or publishing twice changes nothing.
    await host.ack({"type": "poll.close", "poll_id": poll_id})
    await host.ack({"type": "poll.publish", "poll_id": poll_id})
    late = await open_room.enter(people.watcher, room)
    [poll] = late.snapshot["polls"]
    assert (poll["status"], poll["published"]) == ("closed", True)
    assert poll["results"] == {"counts": [0, 2, 0], "votes": 2}
    await settle(host, cohost, b)
    assert len(b.received(of("poll.closed"))) == 1


async def test_anonymous_poll_hides_the_voter(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    room, clients = await classroom(open_room, people)
    host, cohost, a, b, _ = clients
    poll_id = (
        await host.ack({**QUESTION, "anonymous": True, "multiple": True, "question": "Honest?"})
    )["poll_id"]
    assert (await a.next(of("poll.created")))["poll"]["anonymous"] is True
    await a.ack({"type": "poll.vote", "poll_id": poll_id, "choices": [2, 0, 2]})
    await b.ack({"type": "poll.vote", "poll_id": poll_id, "choices": [1]})
    keys = set()
    for client in (host, cohost):
        for _ in range(2):
            voted = await client.next(of("poll.voted"))
            assert "by" not in voted
            assert voted["voter"] not in (a.user_id, b.user_id)
            assert len(voted["voter"]) == 32
            keys.add(voted["voter"])
    assert len(keys) == 2
    mine = await a.next(of("poll.voted"))
    assert "by" not in mine
    assert mine["choices"] == [0, 2]
    await a.error({"type": "poll.vote", "poll_id": poll_id, "choices": [1]}, "already-voted")
    host_view = await open_room.enter(people.host, room)
    [poll] = host_view.snapshot["polls"]
    assert poll["results"] == {"counts": [1, 1, 1], "votes": 2}  # no `voters` list


async def test_poll_limits_and_unknown_polls(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    _, clients = await classroom(open_room, people)
    host, _, a, _, _ = clients
    await host.error({**QUESTION, "options": ["Same", "Same"]}, "invalid")
    missing = random_id()
    await a.error({"type": "poll.vote", "poll_id": missing, "choices": [0]}, "not-found")
    await host.error({"type": "poll.publish", "poll_id": missing}, "not-found")
    await host.error({"type": "poll.close", "poll_id": missing}, "not-found")
    ids = [(await host.ack({**QUESTION, "question": f"Q{i}"}))["poll_id"] for i in range(20)]
    await host.error({**QUESTION, "question": "one too many"}, "too-many-polls")
    await host.ack({"type": "poll.close", "poll_id": ids[0]})
    await host.ack({**QUESTION, "question": "room for one more"})
