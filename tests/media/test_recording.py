"""Recording against real aiortc peers: hosts start and stop it (room channel and REST),
each track lands in its own file with the very bytes the publisher sent (no re-encoding),
listing and downloading are for hosts only, and every step is audited."""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass
from typing import Any

import av
import pytest

from kits.jobs import outbox
from kits.nodes import PASSWORD, Node
from kits.opener import RoomOpeners
from kits.peers import audit_events, classroom, encode_opus, encode_video, h264_as_received
from kits.rooms import (
    TIMEOUT,
    Person,
    admin,
    invite,
    of,
    register,
    rest,
)
from media.keyframes import is_keyframe

VP8 = encode_video("vp8")
H264 = encode_video("h264")
OPUS = encode_opus()


@dataclass
class People:
    host: Person
    student: Person
    viewer: Person
    outsider: Person
    speaker: Person  # erases their account at the end of the first test


@pytest.fixture(scope="module")
def people(sqlite_node: Node) -> People:
    return People(
        register(sqlite_node, "instructor"),
        register(sqlite_node),
        register(sqlite_node),
        register(sqlite_node),
        register(sqlite_node),
    )


def demux(data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The only stream of a recorded file (its facts) and its packets' bytes."""
    with av.open(io.BytesIO(data)) as container:
        (stream,) = container.streams
        facts = {
            "type": stream.type,
            "codec": stream.codec_context.name,
            "width": getattr(stream.codec_context, "width", None),
            "height": getattr(stream.codec_context, "height", None),
        }
        packets = [bytes(p) for p in container.demux(stream) if p.size]
    return facts, packets


def annexb(sample: bytes) -> bytes:
    """A Matroska H.264 sample (4-byte lengths) back to Annex B with 4-byte start codes."""
    out, at = b"", 0
    while at < len(sample):
        size = int.from_bytes(sample[at : at + 4], "big")
        out += b"\x00\x00\x00\x01" + sample[at + 4 : at + 4 + size]
        at += 4 + size
    return out


async def test_recording_writes_the_sent_frames_unchanged(
    sqlite_node: Node, people: People, rooms_on: RoomOpeners
) -> None:
    open_room = rooms_on(sqlite_node)
    async with classroom(sqlite_node, people.host, [people.student, people.viewer]) as cls:
        room, clients = cls.room, cls.clients
        host, _student, viewer = clients
        watcher = await cls.subscribe(viewer)
        pub_host = await cls.publish(
            host, {"camera": ("video/VP8", VP8), "microphone": ("audio/opus", OPUS)}
        )
        started = await host.ack({"type": "media.record", "on": True})
        recording_id = started["recording_id"]
        for client in clients:
            event = await client.next(of("media.recording", on=True))
            assert event["recording_id"] == recording_id and event["by"] == host.user_id
        late = await open_room.enter(people.viewer, room)
        assert late.snapshot["media"]["recording"]["recording_id"] == recording_id
        await late.close()
        # A track published while recording is recorded too.
        await invite(sqlite_node, people.host, room, people.speaker, "participant")
        speaker = await open_room.enter(people.speaker, room)
        clients.append(speaker)
        pub_student = await cls.publish(speaker, {"camera": ("video/H264", H264)})
        tracks = {t["source"]: t["track_id"] for t in pub_host.reply["tracks"]}
        tracks["student"] = pub_student.reply["tracks"][0]["track_id"]
        for track_id in tracks.values():
            await watcher.frames_of(track_id, 60)  # the server has had plenty of frames

        stopped = await rest(
            sqlite_node, people.host, "POST", f"/api/v1/rooms/{room}/recordings/{recording_id}/stop"
        )
        assert stopped.status_code == 200, stopped.text
        body = stopped.json()
        assert body["on"] is False and body["stopped_by"] == people.host.user_id
        for client in clients:
            await client.next(of("media.recording", on=False, recording_id=recording_id))
        # The stop committed its domain event with it (docs/events.md).
        stops = outbox(sqlite_node.server.data_dir, "recording.stopped")
        assert [(e["recording_id"], e["room_id"], e["stopped_by"]) for e in stops] == [
            (recording_id, room, people.host.user_id)
        ]

        listed = await rest(sqlite_node, people.host, "GET", f"/api/v1/rooms/{room}/recordings")
        assert listed.status_code == 200, listed.text
        (recording,) = listed.json()
        assert recording["id"] == recording_id and recording["stopped_at"]
        files = {f["track_id"]: f for f in recording["files"]}
        assert set(files) == set(tracks.values())
        for info in files.values():
            assert info["bytes"] > 0 and info["duration"] > 0 and info["stopped_at"]

        camera = files[tracks["camera"]]
        assert (camera["user_id"], camera["source"], camera["kind"]) == (
            people.host.user_id,
            "camera",
            "video",
        )
        got = await rest(sqlite_node, people.host, "GET", camera["url"])
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "video/webm"
        assert len(got.content) == camera["bytes"]
        facts, packets = demux(got.content)
        assert facts == {"type": "video", "codec": "vp8", "width": 160, "height": 120}
        assert packets[0] == VP8[0] and is_keyframe("vp8", packets[0])
        assert len(packets) >= 60 and set(packets) <= set(VP8), "VP8 frames changed"

        mic = files[tracks["microphone"]]
        got = await rest(sqlite_node, people.host, "GET", mic["url"])
        assert got.headers["content-type"] == "audio/webm"
        facts, packets = demux(got.content)
        assert (facts["type"], facts["codec"]) == ("audio", "opus")
        assert len(packets) >= 30 and set(packets) <= set(OPUS), "Opus frames changed"

        h264 = files[tracks["student"]]
        assert h264["user_id"] == people.speaker.user_id
        got = await rest(sqlite_node, people.host, "GET", h264["url"])
        assert got.headers["content-type"] == "video/x-matroska"
        facts, packets = demux(got.content)
        assert facts == {"type": "video", "codec": "h264", "width": 160, "height": 120}
        sent = {h264_as_received(f) for f in H264}
        assert len(packets) >= 30 and {annexb(p) for p in packets} <= sent, "H.264 changed"
        assert is_keyframe("h264", annexb(packets[0]))

        # Erasing the speaker's account deletes their recorded track, file and row.
        folder = sqlite_node.server.data_dir / "recordings" / room / recording_id
        assert len(list(folder.glob(f"{people.speaker.user_id}-camera-*.mkv"))) == 1
        erased = await rest(
            sqlite_node, people.speaker, "DELETE", "/api/v1/users/me", json={"password": PASSWORD}
        )
        assert erased.status_code == 204, erased.text
        assert not list(folder.glob(f"{people.speaker.user_id}-*"))
        assert (await rest(sqlite_node, people.host, "GET", h264["url"])).status_code == 404
        listed = await rest(sqlite_node, people.host, "GET", f"/api/v1/rooms/{room}/recordings")
        assert {f["track_id"] for f in listed.json()[0]["files"]} == {
            tracks["camera"],
            tracks["microphone"],
        }

        events = await audit_events(sqlite_node, action_prefix="recording.", target_id=room)
        actions = [e["action"] for e in events]
        assert sorted(set(actions)) == ["recording.start", "recording.stop"]
        downloads = await audit_events(
            sqlite_node, action="recording.download", actor_id=people.host.user_id
        )
        downloaded = {e["target_id"] for e in downloads}
        assert downloaded >= {camera["id"], mic["id"], h264["id"]}


async def test_only_hosts_record_list_and_download(
    sqlite_node: Node, people: People, rooms_on: RoomOpeners
) -> None:
    async with classroom(sqlite_node, people.host, [people.student, people.viewer]) as cls:
        room = cls.room
        host, student, _viewer = cls.clients
        base = f"/api/v1/rooms/{room}/recordings"
        await cls.publish(host, {"camera": ("video/VP8", VP8)})
        # Non-hosts may not start it, over REST or the room channel.
        assert (await rest(sqlite_node, people.student, "POST", base)).status_code == 403
        assert (await rest(sqlite_node, people.outsider, "POST", base)).status_code == 404
        assert (await rest(sqlite_node, None, "POST", base)).status_code == 401
        await student.error({"type": "media.record", "on": True}, "forbidden")
        await student.error({"type": "media.record", "on": "yes"}, "invalid-message")

        started = await rest(sqlite_node, people.host, "POST", base)
        assert started.status_code == 201, started.text
        recording_id = started.json()["id"]
        assert started.json()["on"] is True
        assert (await rest(sqlite_node, people.host, "POST", base)).status_code == 409
        await host.error({"type": "media.record", "on": True}, "already-recording")
        await student.next(of("media.recording", on=True))

        # The host's camera is being written; its file is not downloadable before the stop.
        camera = await listed_file(sqlite_node, people.host, base)
        assert (await rest(sqlite_node, people.host, "GET", camera["url"])).status_code == 409

        stopped = await host.ack({"type": "media.record", "on": False})
        assert stopped["recording_id"] == recording_id
        await student.next(of("media.recording", on=False))
        assert (
            await rest(sqlite_node, people.host, "POST", f"{base}/{recording_id}/stop")
        ).status_code == 409
        await host.error({"type": "media.record", "on": False}, "not-recording")
        missing = f"{base}/00000000-0000-0000-0000-000000000000/stop"
        assert (await rest(sqlite_node, people.host, "POST", missing)).status_code == 404

        camera = await listed_file(sqlite_node, people.host, base)
        for person, expected in ((people.student, 403), (people.outsider, 404)):
            assert (await rest(sqlite_node, person, "GET", base)).status_code == expected
            assert (await rest(sqlite_node, person, "GET", camera["url"])).status_code == expected
            stop = await rest(sqlite_node, person, "POST", f"{base}/{recording_id}/stop")
            assert stop.status_code == expected
        assert (await rest(sqlite_node, None, "GET", camera["url"])).status_code == 401
        # Admins see every room's recordings.
        boss = admin(sqlite_node)
        assert (await rest(sqlite_node, boss, "GET", base)).status_code == 200
        got = await rest(sqlite_node, boss, "GET", camera["url"])
        assert got.status_code == 200 and got.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML
        # A file of another room is not found through this room.
        other = await rooms_on(sqlite_node).room(people.host)
        wrong = camera["url"].replace(room, other)
        assert (await rest(sqlite_node, people.host, "GET", wrong)).status_code == 404

        # The privacy export lists the recorded tracks of the person recorded.
        export = await rest(sqlite_node, people.host, "GET", "/api/v1/users/me/export")
        assert camera["id"] in {f["id"] for f in export.json()["recordings"]}
        audited = await audit_events(sqlite_node, action_prefix="recording.", target_id=room)
        vias = {(e["action"], e["detail"].get("via")) for e in audited}
        assert vias == {("recording.start", None), ("recording.stop", "room-channel")}


async def listed_file(node: Node, person: Person, base: str) -> dict[str, Any]:
    """The first file listed under the room's recordings (rows appear once writing starts)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        listed = (await rest(node, person, "GET", base)).json()
        if files := [f for r in listed for f in r["files"]]:
            return dict(files[0])
        await asyncio.sleep(0.1)
    raise AssertionError("no recording file listed")
