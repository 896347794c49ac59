"""The SFU against real aiortc peers: encoded frames forwarded byte for byte (VP8, H.264,
Opus) without a decoder, keyframes on join, renegotiation, host mute, grants, bad input,
vanishing publishers and a teardown that leaves no peer connection, task or UDP socket."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from kits.nodes import Node, start_node
from kits.opener import RoomOpeners
from kits.peers import (
    Publisher,
    ToneTrack,
    classroom,
    encode_opus,
    encode_video,
    h264_as_received,
    media_gauges,
    udp_sockets,
)
from kits.rooms import Person, close_all, of, register
from kits.waiting import eventually
from media.keyframes import is_keyframe

pytestmark = pytest.mark.slow  # among the costliest modules: the workers start with them

MAX_TRACKS = 6
VP8 = encode_video("vp8")
H264 = encode_video("h264")
OPUS = encode_opus()


@pytest.fixture(scope="module")
def media_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from start_node(
        tmp_path_factory.mktemp("media"),
        "sqlite",
        request,
        LIVECLASS_MEDIA_MAX_TRACKS_PER_ROOM=str(MAX_TRACKS),
        LIVECLASS_MEDIA_ICE_TIMEOUT_SECONDS="4",
    )


@dataclass
class People:
    host: Person
    a: Person
    b: Person
    c: Person

    @property
    def guests(self) -> list[Person]:
        return [self.a, self.b, self.c]


@pytest.fixture(scope="module")
def people(media_node: Node) -> People:
    return People(
        register(media_node, "instructor"),
        register(media_node),
        register(media_node),
        register(media_node),
    )


async def test_frames_are_forwarded_byte_for_byte_without_decoding(
    media_node: Node, people: People, rooms_on: RoomOpeners
) -> None:
    async with classroom(media_node, people.host, people.guests) as cls:
        host, a, b, c = cls.clients
        subs = [await cls.subscribe(x) for x in (b, c)]
        pub_host = await cls.publish(
            host, {"camera": ("video/VP8", VP8), "microphone": ("audio/opus", OPUS)}
        )
        pub_a = await cls.publish(a, {"camera": ("video/H264", H264)})
        tracks = {t["source"] + t["user_id"]: t for t in pub_host.reply["tracks"]}
        vp8_id = tracks["camera" + host.user_id]["track_id"]
        opus_id = tracks["microphone" + host.user_id]["track_id"]
        h264_id = pub_a.reply["tracks"][0]["track_id"]
        expected = {
            vp8_id: set(VP8),
            opus_id: set(OPUS),
            h264_id: {h264_as_received(f) for f in H264},
        }
        for sub in subs:
            for track_id, sent in expected.items():
                frames = await sub.frames_of(track_id, 30)
                assert set(frames) <= sent, f"{track_id}: bytes changed on the way"
                assert len(set(frames)) > 5
        # Both subscribers got the very same frames, each from a keyframe on (the one who
        # connected later may start at a later keyframe: it asked for one).
        for track_id, codec in ((vp8_id, "vp8"), (h264_id, "h264")):
            one, two = sorted((s.by_track[track_id].frames for s in subs), key=len)[::-1]
            assert is_keyframe(codec, one[0]) and is_keyframe(codec, two[0])
            starts = [i for i in range(len(one)) if one[i : i + 20] == two[:20]]
            assert starts, "the subscribers got different frames"
        gauges = media_gauges(media_node)
        assert gauges["frames_received"] > 0
        assert gauges["decoders_skipped"] >= 3
        assert gauges["decoders_started"] == 0, "the server decoded media"
        assert gauges["frames_sent_native"] > 0, "the native send path was not used"
        assert gauges["datagrams_received_direct"] > 0, "media still went through aioice's queue"
        assert gauges["frames_sent_aiortc"] == 0, "frames took aiortc's send path"
        # Everyone was told, and a late joiner finds the tracks in the welcome snapshot.
        for client in cls.clients:
            await client.next(of("media.track_published", track_id=h264_id))
        late = await rooms_on(media_node).enter(people.a, cls.room)
        assert {t["track_id"] for t in late.snapshot["media"]["tracks"]} == set(expected)


async def test_a_late_subscriber_gets_a_keyframe_because_the_server_asked(
    media_node: Node, people: People
) -> None:
    async with classroom(media_node, people.host, people.guests) as cls:
        host, _a, b, _c = cls.clients
        pub = await cls.publish(host, {"camera": ("video/VP8", VP8)})
        track_id = pub.reply["tracks"][0]["track_id"]
        camera = pub.tracks["camera"]
        await eventually(lambda: camera.sent > len(VP8) + 5, "the keyframe to be long gone")
        plis_before = camera.plis
        sub = await cls.subscribe(b)
        frames = await sub.frames_of(track_id, 5)
        assert is_keyframe("vp8", frames[0])
        assert camera.plis > plis_before, "no PLI reached the publisher"


async def test_renegotiation_reuses_transceivers_and_ignores_stale_answers(
    media_node: Node, people: People
) -> None:
    async with classroom(media_node, people.host, people.guests) as cls:
        host, a, _b, _c = cls.clients
        sub = await cls.subscribe(a)
        await eventually(lambda: len(sub.offers) >= 1, "the first offer")
        assert sub.offers[0]["tracks"] == []
        pub = await cls.publish(host, {"camera": ("video/VP8", VP8)})
        first = pub.reply["tracks"][0]
        await sub.frames_of(first["track_id"], 3)
        mid = sub.by_track[first["track_id"]].info["mid"]
        await host.ack({"type": "media.unpublish", "source": "camera"})
        await a.next(of("media.track_unpublished", track_id=first["track_id"]))
        await eventually(lambda: sub.offers[-1]["tracks"] == [], "an offer without the track")
        await pub.close()
        pub = await cls.publish(host, {"camera": ("video/VP8", VP8)})
        second = pub.reply["tracks"][0]
        await sub.frames_of(second["track_id"], 3)
        assert sub.by_track[second["track_id"]].info["mid"] == mid, "transceiver not reused"
        versions = [o["version"] for o in sub.offers]
        assert versions == sorted(versions) and len(versions) >= 4
        stale = {"type": "media.answer", "sdp": "v=0\r\n", "version": versions[0]}
        await a.error(stale, "stale-offer")


async def test_host_mute_stops_forwarding_for_everyone_and_tells_the_user(
    media_node: Node, people: People
) -> None:
    async with classroom(media_node, people.host, people.guests) as cls:
        host, a, b, c = cls.clients
        pub = await cls.publish(
            a, {"camera": ("video/VP8", VP8), "microphone": ("audio/opus", OPUS)}
        )
        sub = await cls.subscribe(b)
        ids = {t["source"]: t["track_id"] for t in pub.reply["tracks"]}
        await sub.frames_of(ids["microphone"], 10)
        await c.error(
            {"type": "media.mute", "user_id": a.user_id, "source": "microphone"}, "forbidden"
        )
        reply = await host.ack({"type": "media.mute", "user_id": a.user_id, "source": "microphone"})
        assert reply["muted"] == [ids["microphone"]]
        for client in (a, b, host):
            muted = await client.next(of("media.track_muted", track_id=ids["microphone"]))
            assert muted["by"] == host.user_id and muted["user_id"] == a.user_id
            gone = await client.next(of("media.track_unpublished", track_id=ids["microphone"]))
            assert gone["reason"] == "muted"
        await eventually(
            lambda: all(t["track_id"] != ids["microphone"] for t in sub.offers[-1]["tracks"]),
            "an offer without the muted track",
        )
        heard = len(sub.by_track[ids["microphone"]].frames)
        seen = len(sub.by_track[ids["camera"]].frames)
        await sub.frames_of(ids["camera"], seen + 30)  # the camera still flows…
        assert len(sub.by_track[ids["microphone"]].frames) == heard  # …the microphone not
        assert pub.tracks["microphone"].sent > 0


async def test_classroom_mute_controls_silence_microphones_server_side(
    media_node: Node, people: People
) -> None:
    """``participant.mute`` and ``room.mute_all`` (the hosts' everyday buttons) stop the
    microphones the server forwards, not just a flag in the UI; cameras keep flowing."""
    async with classroom(media_node, people.host, people.guests) as cls:
        host, a, b, c = cls.clients
        sources = {"camera": ("video/VP8", VP8), "microphone": ("audio/opus", OPUS)}
        pub_a = await cls.publish(a, sources)
        pub_c = await cls.publish(c, {"microphone": ("audio/opus", OPUS)})
        sub = await cls.subscribe(b)
        ids = {t["source"]: t["track_id"] for t in pub_a.reply["tracks"]}
        mic_c = pub_c.reply["tracks"][0]["track_id"]
        await sub.frames_of(ids["microphone"], 5)
        await sub.frames_of(mic_c, 5)
        await host.ack({"type": "participant.mute", "user_id": a.user_id})
        gone = await b.next(of("media.track_unpublished", track_id=ids["microphone"]))
        assert gone["reason"] == "muted"
        muted = await a.next(of("media.track_muted", track_id=ids["microphone"]))
        assert muted["by"] == host.user_id
        await host.ack({"type": "room.mute_all"})
        gone = await b.next(of("media.track_unpublished", track_id=mic_c))
        assert gone["reason"] == "muted"
        seen = len(sub.by_track[ids["camera"]].frames)
        await sub.frames_of(ids["camera"], seen + 30)  # the camera still flows


async def test_grants_decide_what_may_be_published(media_node: Node, people: People) -> None:
    roles = ("participant", "observer", "presenter")
    async with classroom(media_node, people.host, people.guests, roles) as cls:
        _host, a, b, c = cls.clients
        for client, source in ((a, "screen"), (b, "camera"), (b, "microphone")):
            mime, frames = ("audio/opus", OPUS) if source == "microphone" else ("video/VP8", VP8)
            pub, reply = await Publisher.offer(client, {source: (mime, frames)})
            assert reply["type"] == "error" and reply["code"] == "forbidden", reply
            await pub.close()
        await cls.publish(c, {"screen": ("video/VP8", VP8)})  # presenters share


async def test_bad_sdp_and_too_many_tracks_leave_others_unaffected(
    media_node: Node, people: People
) -> None:
    async with classroom(media_node, people.host, people.guests) as cls:
        host, a, b, c = cls.clients
        pub = await cls.publish(host, {"camera": ("video/VP8", VP8)})
        sub = await cls.subscribe(b)
        track_id = pub.reply["tracks"][0]["track_id"]
        await sub.frames_of(track_id, 5)
        bad = [
            {"sdp": "this is not sdp", "tracks": [{"mid": "0", "source": "camera"}]},
            {"sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "tracks": []},
            {"sdp": pub.pc.localDescription.sdp, "tracks": [{"mid": "7", "source": "camera"}]},
        ]
        for fields in bad:
            reply = await a.request({"type": "media.publish", **fields})
            assert reply["type"] == "error" and reply["code"] in ("bad-sdp", "invalid-message")
        kind_mismatch, reply = await Publisher.offer(a, {"microphone": ("video/VP8", VP8)})
        assert reply["code"] == "bad-sdp", reply
        await kind_mismatch.close()
        await a.error({"type": "media.answer", "sdp": "x", "version": 1}, "not-subscribed")
        # The cap: the room forwards at most MAX_TRACKS tracks.
        peers = [
            await Publisher.start(
                x, {"camera": ("video/VP8", VP8), "microphone": ("audio/opus", OPUS)}
            )
            for x in (a, c)
        ]
        both = {"camera": ("video/VP8", VP8), "microphone": ("audio/opus", OPUS)}
        extra, reply = await Publisher.offer(b, both)  # 1 + 2 + 2 + 2 > MAX_TRACKS
        assert reply["type"] == "error" and reply["code"] == "too-many-tracks", reply
        for peer in (*peers, extra):
            await peer.close()
        seen = len(sub.by_track[track_id].frames)
        await sub.frames_of(track_id, seen + 10)  # the host's video kept flowing
        await host.ack({"type": "chat.send", "text": "still here"})


async def test_a_vanishing_publisher_is_unpublished(media_node: Node, people: People) -> None:
    async with classroom(media_node, people.host, people.guests) as cls:
        host, a, b, _c = cls.clients
        sub = await cls.subscribe(host)
        pub_a = await cls.publish(a, {"camera": ("video/VP8", VP8)})
        pub_b = await cls.publish(b, {"camera": ("video/VP8", VP8)})
        gone_a = pub_a.reply["tracks"][0]["track_id"]
        gone_b = pub_b.reply["tracks"][0]["track_id"]
        await sub.frames_of(gone_a, 3)
        a.drop()  # the tab crashed: no close frame
        left = await host.next(of("media.track_unpublished", track_id=gone_a))
        assert left["reason"] == "left"
        await pub_b.pc.close()  # the peer connection ends (RTCP BYE, DTLS close)
        failed = await host.next(of("media.track_unpublished", track_id=gone_b))
        assert failed["reason"] == "failed"
        # ICE that never completes: the offer is answered, nobody connects, it is cleaned up.
        silent = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        silent.addTransceiver("video", direction="sendonly")
        await silent.setLocalDescription(await silent.createOffer())
        spec = [{"mid": silent.getTransceivers()[0].mid, "source": "camera"}]
        reply = await b.ack(
            {"type": "media.publish", "sdp": silent.localDescription.sdp, "tracks": spec}
        )
        never = reply["tracks"][0]["track_id"]
        failed = await host.next(of("media.track_unpublished", track_id=never))
        assert failed["reason"] == "failed"
        await silent.close()


async def test_active_speaker_from_audio_levels(media_node: Node, people: People) -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    async with classroom(media_node, people.host, people.guests) as cls:
        host, a, _b, _c = cls.clients
        transceiver = pc.addTransceiver(ToneTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        reply = await a.ack(
            {
                "type": "media.publish",
                "sdp": pc.localDescription.sdp,
                "tracks": [{"mid": transceiver.mid, "source": "microphone"}],
            }
        )
        try:
            await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
            speaker = await host.next(of("media.active_speaker", user_id=a.user_id))
            assert 0 < speaker["level"] <= 1
            assert "seq" not in speaker  # volatile
        finally:
            await pc.close()


async def test_teardown_leaves_no_peer_connections_tasks_or_sockets(
    media_node: Node, people: People
) -> None:
    pid = media_node.server.process.pid  # type: ignore[union-attr]

    async def one_class(sockets_before: int) -> None:
        async with classroom(media_node, people.host, people.guests) as cls:
            host, a, b, c = cls.clients
            both = {"camera": ("video/VP8", VP8), "microphone": ("audio/opus", OPUS)}
            pubs = [await cls.publish(x, both) for x in (host, a)]
            subs = [await cls.subscribe(x) for x in (b, c)]
            track_id = pubs[0].reply["tracks"][0]["track_id"]
            for sub in subs:
                await sub.frames_of(track_id, 3)
            during = media_gauges(media_node)
            assert during["peer_connections"] == 4
            assert udp_sockets(pid) > sockets_before
            await close_all(cls.clients)  # the room connections end first, then the peers

    def quiet() -> bool:
        now = media_gauges(media_node)
        return now["peer_connections"] == 0 and now["rooms"] == 0

    # A first class may start what lives as long as the process (the thread pool's
    # workers); leaks are what a second class leaves on top of that.
    await eventually(quiet, "a quiet node")
    await one_class(udp_sockets(pid))
    await eventually(quiet, "the first class gone")
    before = media_gauges(media_node)
    sockets_before = udp_sockets(pid)
    await one_class(sockets_before)

    def clean() -> bool:
        now = media_gauges(media_node)
        return (
            quiet()
            and now["asyncio_tasks"] <= before["asyncio_tasks"]
            and now["threads"] <= before["threads"]
            and udp_sockets(pid) == sockets_before
        )

    await eventually(clean, "every peer connection, task and socket to be gone")
