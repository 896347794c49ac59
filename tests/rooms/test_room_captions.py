"""Captions over the room channel with a real server: the captioner role, partials and
lines reaching everyone, refusals (no role, flooding, oversized lines) that harm no one,
recovery on reconnect, and the transcript published with a recording as WebVTT."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from kits.nodes import PASSWORD, Node
from kits.rooms import (
    Message,
    Person,
    RoomClient,
    chat_with,
    close_all,
    create_room,
    invite,
    join_token,
    of,
    register,
    rest,
    settle,
)
from persistence.engine import create_engine
from persistence.models import RoomEvent


@dataclass
class People:
    host: Person
    captioner: Person
    student: Person


@pytest.fixture(scope="module")
def people(room_node: Node) -> People:
    return People(register(room_node, "instructor"), register(room_node), register(room_node))


async def classroom(node: Node, people: People) -> tuple[str, RoomClient, RoomClient, RoomClient]:
    room = await create_room(node, people.host)
    for person in (people.captioner, people.student):
        await invite(node, people.host, room, person, "participant")
    clients = [
        await RoomClient.enter(node, p, room)
        for p in (people.host, people.captioner, people.student)
    ]
    return room, clients[0], clients[1], clients[2]


def line_with(text: str) -> object:
    return lambda m: m.get("type") == "caption.line" and m["line"]["text"] == text


async def make_captioner(host: RoomClient, captioner: RoomClient, *others: RoomClient) -> None:
    await host.ack({"type": "caption.assign", "user_id": captioner.user_id})
    for client in (host, captioner, *others):
        event = await client.next(of("caption.captioner", user_id=captioner.user_id))
        assert event["on"] is True and event["by"] == host.user_id


async def test_a_host_assigns_a_captioner_whose_lines_everyone_sees(
    room_node: Node, people: People
) -> None:
    _room, host, captioner, student = await classroom(room_node, people)
    try:
        # Without the role: a clear error, and nobody sees anything.
        refused = await captioner.error(
            {"type": "caption.send", "utterance": "u1", "text": "hello"}, "forbidden"
        )
        assert "captions" in refused["message"]
        await student.error({"type": "caption.assign", "user_id": student.user_id}, "forbidden")
        await make_captioner(host, captioner, student)

        await captioner.ack(
            {"type": "caption.send", "utterance": "u1", "text": "today we", "speaker": host.user_id}
        )
        for client in (host, student):
            partial = await client.next(of("caption.partial", text="today we"))
            assert partial["source"] == "human" and partial["speaker_name"] == people.host.name
            assert "seq" not in partial
        ack = await captioner.ack(
            {
                "type": "caption.send",
                "utterance": "u1",
                "text": "today we learn photosynthesis",
                "final": True,
                "speaker": host.user_id,
            }
        )
        for client in (host, student, captioner):
            event = await client.next(line_with("today we learn photosynthesis"))
            assert event["line"]["id"] == ack["line_id"] and isinstance(event["seq"], int)
            assert event["line"]["author_id"] == captioner.user_id
            assert event["line"]["speaker_id"] == host.user_id

        # Unassigned: the grant goes at once.
        await host.ack({"type": "caption.assign", "user_id": captioner.user_id, "on": False})
        await captioner.next(of("caption.captioner", on=False))
        await captioner.error({"type": "caption.send", "utterance": "u2", "text": "x"}, "forbidden")
    finally:
        await close_all([host, captioner, student])


async def test_oversized_lines_and_floods_are_refused_and_harm_no_one(
    room_node: Node, people: People
) -> None:
    _room, host, captioner, student = await classroom(room_node, people)
    try:
        await make_captioner(host, captioner, student)
        reply = await captioner.error(
            {"type": "caption.send", "utterance": "big", "text": "word " * 200, "final": True},
            "caption-too-long",
        )
        assert "500" in reply["message"]
        # A flood: some get `rate-limited`, the socket stays open, the room carries on.
        refs = [
            await captioner.send({"type": "caption.send", "utterance": "f", "text": f"n{n}"})
            for n in range(40)
        ]
        replies = [
            await captioner.next(lambda m, r=r: m.get("ref") == r and m["type"] in ("ack", "error"))
            for r in refs
        ]
        limited = [r for r in replies if r["type"] == "error"]
        assert limited and all(r["code"] == "rate-limited" for r in limited)
        assert len(limited) < len(replies)
        assert captioner.is_open
        await student.ack({"type": "chat.send", "text": "still here"})
        await host.next(chat_with("still here"))
        await settle(host, student, captioner)
        assert not student.received(line_with("word " * 200))
        # The caption bucket is its own: chat still flows for the captioner.
        await captioner.ack({"type": "chat.send", "text": "me too"})
    finally:
        await close_all([host, captioner, student])


async def test_lines_are_recovered_on_reconnect_and_in_the_snapshot(
    room_node: Node, people: People
) -> None:
    room, host, captioner, student = await classroom(room_node, people)
    try:
        await make_captioner(host, captioner, student)
        await captioner.ack(
            {"type": "caption.send", "utterance": "a", "text": "first line", "final": True}
        )
        await student.next(line_with("first line"))
        epoch, seq = student.epoch, student.seq
        await student.close()
        await captioner.ack(
            {"type": "caption.send", "utterance": "b", "text": "missed line", "final": True}
        )
        await host.next(line_with("missed line"))

        token = await join_token(room_node, people.student, room)
        back = await RoomClient.open(room_node, room, token, epoch=epoch, seq=seq)
        assert back.welcome is not None and back.welcome["recovered"] is True
        await back.next(line_with("missed line"))
        await back.close()

        fresh = await RoomClient.enter(room_node, people.student, room)
        captions: Message = fresh.snapshot["captions"]
        assert [line["text"] for line in captions["lines"]][-2:] == ["first line", "missed line"]
        assert captions["captioners"] == [captioner.user_id]
        assert "caption" not in fresh.me["grants"]
        await fresh.close()
        # The captioner's own welcome lists the grant.
        again = await RoomClient.enter(room_node, people.captioner, room)
        assert "caption" in again.me["grants"]
        await again.close()
    finally:
        await close_all([host, captioner])


async def test_a_recording_publishes_the_transcript_as_its_captions(
    room_node: Node, people: People
) -> None:
    room, host, captioner, student = await classroom(room_node, people)
    try:
        await make_captioner(host, captioner, student)
        await captioner.ack(
            {"type": "caption.send", "utterance": "0", "text": "before recording", "final": True}
        )
        started = await rest(room_node, people.host, "POST", f"/api/v1/rooms/{room}/recordings")
        assert started.status_code == 201, started.text
        recording = started.json()
        url = recording["captions_url"]
        await asyncio.sleep(1.2)
        await captioner.ack(
            {
                "type": "caption.send",
                "utterance": "1",
                "text": "plants <need> light & water",
                "final": True,
                "seconds": 1.0,
                "speaker": host.user_id,
            }
        )
        await student.next(line_with("plants <need> light & water"))
        stopped = await rest(
            room_node,
            people.host,
            "POST",
            f"/api/v1/rooms/{room}/recordings/{recording['id']}/stop",
        )
        assert stopped.status_code == 200, stopped.text
        await captioner.ack(
            {
                "type": "caption.send",
                "utterance": "2",
                "text": "after recording",
                "final": True,
                "seconds": 0,
            }
        )

        vtt = await rest(room_node, people.host, "GET", url)
        assert vtt.status_code == 200, vtt.text
        assert vtt.headers["content-type"].startswith("text/vtt")
        cues = vtt.text.strip().split("\n\n")
        assert cues[0].startswith("WEBVTT")
        assert len(cues) == 2, vtt.text
        _number, timing, text = cues[1].split("\n")
        assert text == f"<v {people.host.name}>plants &lt;need&gt; light &amp; water"
        start, end = timing.split(" --> ")
        assert "00:00:00.000" <= start < end  # aligned with the recording's start

        # Only hosts read it; another room's recording id is not found.
        assert (await rest(room_node, people.student, "GET", url)).status_code in (403, 404)
        other = await create_room(room_node, people.host)
        wrong = f"/api/v1/rooms/{other}/recordings/{recording['id']}/captions.vtt"
        assert (await rest(room_node, people.host, "GET", wrong)).status_code == 404
    finally:
        await close_all([host, captioner, student])


async def test_a_persons_caption_lines_are_exported_and_erased_with_them(
    room_node: Node, people: People
) -> None:
    speaker = register(room_node)
    room = await create_room(room_node, people.host)
    await invite(room_node, people.host, room, speaker, "participant")
    host = await RoomClient.enter(room_node, people.host, room)
    talker = await RoomClient.enter(room_node, speaker, room)
    try:
        line = {"type": "caption.send", "utterance": "p", "final": True}
        said = {**line, "text": "my private words", "speaker": talker.user_id}
        await host.ack(said)
        await host.ack({**line, "utterance": "q", "text": "the host's own words"})
        await talker.next(line_with("my private words"))
    finally:
        await close_all([host, talker])
    export = await rest(room_node, speaker, "GET", "/api/v1/users/me/export")
    assert export.status_code == 200, export.text
    lines = export.json()["rooms"]["caption_lines"]
    assert [(c["text"], c["spoken"], c["typed"]) for c in lines] == [
        ("my private words", True, False)
    ]
    erased = await rest(
        room_node, speaker, "DELETE", "/api/v1/users/me", json={"password": PASSWORD}
    )
    assert erased.status_code == 204, erased.text
    again = await RoomClient.enter(room_node, people.host, room)
    texts = [c["text"] for c in again.snapshot["captions"]["lines"]]
    await again.close()
    assert "the host's own words" in texts  # the room was unloaded and read back
    host_export = await rest(room_node, people.host, "GET", "/api/v1/users/me/export")
    typed = [c["text"] for c in host_export.json()["rooms"]["caption_lines"]]
    assert "my private words" not in typed and "the host's own words" in typed
    # Nor does the room's event log keep them (the host typed the line: the host's event).
    assert await logged_texts(room_node, room) == ["the host's own words"]


async def logged_texts(node: Node, room: str) -> list[str]:
    """The caption texts the room's event log holds, read from the node's database."""
    url = node.database_url or f"sqlite+aiosqlite:///{node.server.data_dir / 'liveclass.db'}"
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(RoomEvent.payload).where(
                    RoomEvent.room_id == uuid.UUID(room), RoomEvent.type == "caption.line"
                )
            )
            return [p["line"]["text"] for (p,) in rows if "line" in p]
    finally:
        await engine.dispose()
