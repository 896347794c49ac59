"""WHIP ingest (RFC 9725) against the real server: an aiortc peer POSTs its offer with a
bearer token, the stream appears in the room as the instructor's camera and microphone,
subscribers get the very frames sent, DELETE ends it; bad requests get clear errors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kits.nodes import Node
from kits.opener import RoomOpener, RoomOpeners
from kits.peers import SDP, Subscriber, WhipClient, audit_events, bearer, encode_opus, encode_video
from kits.rooms import Person, of, register, rest
from media.sdp import MAX_SDP_BYTES

VP8 = encode_video("vp8")
OPUS = encode_opus()


@dataclass
class People:
    host: Person
    student: Person
    outsider: Person


@pytest.fixture(scope="module")
def people(sqlite_node: Node) -> People:
    return People(register(sqlite_node, "instructor"), register(sqlite_node), register(sqlite_node))


async def api_key(node: Node, person: Person, scopes: list[str]) -> str:
    created = await rest(
        node, person, "POST", "/api/v1/api-keys", json={"name": "obs", "scopes": scopes}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


async def test_whip_stream_appears_as_the_instructors_camera(
    sqlite_node: Node, people: People, rooms_on: RoomOpeners
) -> None:
    open_room = rooms_on(sqlite_node)
    room, [student] = await open_room(
        people.host, members=[(people.student, "participant")], enter=[people.student]
    )
    watcher = await Subscriber(student).start()
    obs = WhipClient({"video": ("video/VP8", VP8), "audio": ("audio/opus", OPUS)})
    try:
        key = await api_key(sqlite_node, people.host, ["rooms:manage"])
        offer = await obs.offer()
        created = await rest(
            sqlite_node,
            None,
            "POST",
            f"/api/v1/rooms/{room}/whip",
            content=offer,
            headers=bearer(key),
        )
        assert created.status_code == 201, created.text
        assert created.headers["content-type"] == "application/sdp"
        location = created.headers["location"]
        assert location.startswith(f"/api/v1/rooms/{room}/whip/")
        await obs.answer(created.text)

        published = {}
        for source in ("camera", "microphone"):
            event = await student.next(of("media.track_published", source=source))
            assert event["user_id"] == people.host.user_id and event.get("external") is True
            published[source] = event["track_id"]
        assert {published["camera"]: "video", published["microphone"]: "audio"} == {
            t["track_id"]: t["kind"] for t in (await _snapshot_tracks(open_room, people, room))
        }
        video = await watcher.frames_of(published["camera"], 30)
        assert set(video) <= set(VP8), "the server changed the frames"
        audio = await watcher.frames_of(published["microphone"], 30)
        assert set(audio) <= set(OPUS)

        # Only its owner or a host ends it; PATCH (trickle ICE) is not supported.
        other = await rest(sqlite_node, people.student, "DELETE", location)
        assert other.status_code == 403
        patch = await rest(sqlite_node, people.host, "PATCH", location, content="a=x")
        assert patch.status_code == 405 and patch.headers["allow"] == "DELETE"
        ended = await rest(sqlite_node, people.host, "DELETE", location)
        assert ended.status_code == 200, ended.text
        for track_id in published.values():
            gone = await student.next(of("media.track_unpublished", track_id=track_id))
            assert gone["reason"] == "unpublished"
        assert (await rest(sqlite_node, people.host, "DELETE", location)).status_code == 404

        audited = await audit_events(sqlite_node, action_prefix="whip.", target_id=room)
        actions = sorted(e["action"] for e in audited)
        assert actions == ["whip.start", "whip.stop"]
    finally:
        await obs.close()
        await watcher.close()


async def _snapshot_tracks(
    open_room: RoomOpener, people: People, room: str
) -> list[dict[str, str]]:
    late = await open_room.enter(people.student, room)
    return list(late.snapshot["media"]["tracks"])


async def test_whip_refuses_bad_requests(
    sqlite_node: Node, people: People, rooms_on: RoomOpeners
) -> None:
    room = await rooms_on(sqlite_node).room(people.host, members=[(people.student, "participant")])
    url = f"/api/v1/rooms/{room}/whip"
    obs = WhipClient({"video": ("video/VP8", VP8)})
    try:
        offer = await obs.offer()
        host = people.host.token

        async def post(body: str | bytes, headers: dict[str, str], path: str = url) -> int:
            response = await rest(sqlite_node, None, "POST", path, content=body, headers=headers)
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
            return response.status_code

        assert await post(offer, SDP) == 401
        wrong = {"Authorization": f"Bearer {host}", "Content-Type": "text/plain"}
        assert await post(offer, wrong) == 415
        assert await post("v=0\r\nthis is not sdp\r\n", bearer(host)) == 400
        assert await post(b"\xff\xfe", bearer(host)) == 400
        no_media = offer.split("m=")[0]
        assert await post(no_media, bearer(host)) == 400
        assert await post("v=0\r\n" + "a=x\r\n" * (MAX_SDP_BYTES // 5), bearer(host)) == 413
        assert await post(offer, bearer(people.student.token)) == 403
        assert await post(offer, bearer(people.outsider.token)) == 404
        unknown = "/api/v1/rooms/00000000-0000-0000-0000-000000000000/whip"
        assert await post(offer, bearer(host), unknown) == 404
        scoped = await api_key(sqlite_node, people.host, ["rooms:read"])
        assert await post(offer, bearer(scoped)) == 403
        missing = f"{url}/no-such-session"
        assert (await rest(sqlite_node, people.host, "DELETE", missing)).status_code == 404
        ended = await rest(sqlite_node, people.host, "POST", f"/api/v1/rooms/{room}/end")
        assert ended.status_code == 204
        assert await post(offer, bearer(host)) == 410
    finally:
        await obs.close()
