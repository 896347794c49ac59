"""aiortc peers for media tests: a publisher of pre-encoded frames and a recording subscriber.

Both sides are real WebRTC peers (ICE, DTLS, SRTP) talking to the real server over the room
channel. The publisher never encodes while sending: it encodes a few frames once with PyAV
and loops over them, restarting from the keyframe only when the server asks (PLI). The
subscriber never decodes: its receivers are tapped the way the server taps its own, so
each received encoded frame is compared byte for byte with what was sent.
"""

from __future__ import annotations

import array
import asyncio
import fractions
import functools
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.codecs import CODECS
from aiortc.codecs.h264 import H264Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from av.video.codeccontext import VideoCodecContext

from kits.metrics import gauges
from kits.rooms import (
    TIMEOUT,
    NodeLike,
    Person,
    RoomClient,
    admin,
    close_all,
    create_room,
    invite,
    of,
    rest,
)
from media.fastpath import passthrough, rtp_writer
from media.forwarding import ForwardTrack
from media.keyframes import is_keyframe
from media.sdp import preferences

VIDEO_TIME_BASE = fractions.Fraction(1, 90_000)
AUDIO_TIME_BASE = fractions.Fraction(1, 48_000)


# ------------------------------------------------------------------ encoding once


def encode_video(codec: str, count: int = 40) -> list[bytes]:
    """``count`` frames of a moving picture, only the first one a keyframe."""
    name = {"vp8": "libvpx", "h264": "libx264"}[codec]
    ctx = cast(VideoCodecContext, av.CodecContext.create(name, "w"))
    ctx.width, ctx.height, ctx.pix_fmt = 160, 120, "yuv420p"
    ctx.time_base = fractions.Fraction(1, 30)
    ctx.gop_size = 10_000
    if codec == "h264":
        ctx.options = {"tune": "zerolatency", "preset": "ultrafast", "bf": "0"}
    else:
        ctx.options = {"deadline": "realtime", "lag-in-frames": "0"}
    frames = []
    for i in range(count):
        frame = av.VideoFrame(160, 120, "yuv420p")
        edge = (i * 4) % 160
        row = bytes([16] * edge + [(i * 7) % 200 + 30] * (160 - edge))
        chroma = bytes([128]) * 80
        layout = ((160, 120, row), (80, 60, chroma), (80, 60, chroma))
        for plane, (width, rows, fill) in zip(frame.planes, layout, strict=True):
            line = fill[:width] + bytes(plane.line_size - width)
            plane.update(line * rows)
        frame.pts = i
        frames += [bytes(p) for p in ctx.encode(frame)]
    frames += [bytes(p) for p in ctx.encode(None)]
    assert is_keyframe(codec, frames[0]) and not is_keyframe(codec, frames[1])
    return frames


def encode_opus(count: int = 50) -> list[bytes]:
    """``count`` 20 ms Opus packets of a tone."""
    ctx = av.CodecContext.create("libopus", "w")
    ctx.sample_rate, ctx.layout, ctx.format = 48_000, "stereo", "s16"
    ctx.time_base = fractions.Fraction(1, 48_000)
    packets: list[bytes] = []
    t = 0
    while len(packets) < count:
        samples = array.array("h")
        for n in range(t, t + 960):
            value = int(math.sin(n * 0.05) * 8000)
            samples.extend((value, value))
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate, frame.pts = 48_000, t
        t += 960
        packets += [bytes(p) for p in ctx.encode(frame)]
    return packets[:count]


def h264_as_received(frame: bytes) -> bytes:
    """An H.264 access unit as any depayloader rebuilds it: 4-byte start codes."""
    return b"".join(b"\x00\x00\x00\x01" + nal for nal in H264Encoder._split_bitstream(frame))


# ------------------------------------------------------------------ publishing


class LoopTrack(MediaStreamTrack):
    """Sends pre-encoded frames as ``av.Packet`` in real time; a PLI restarts at the keyframe."""

    def __init__(self, kind: str, frames: list[bytes]) -> None:
        super().__init__()
        self.kind = kind
        self.frames = frames
        self.index = 0
        self.sent = 0
        self.plis = 0
        self.keyframes_sent = 0
        self._step = 3000 if kind == "video" else 960
        self._period = 1 / 30 if kind == "video" else 0.02
        self._start: float | None = None

    def keyframe_requested(self) -> None:
        self.plis += 1
        self.index = 0

    async def recv(self) -> av.Packet[Any]:
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.sent * self._period - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        data = self.frames[self.index]
        if self.kind == "video":
            # after the last frame, loop over the inter frames only: no keyframe unless asked
            self.index = self.index + 1 if self.index + 1 < len(self.frames) else 1
            self.keyframes_sent += self.index == 1
        else:
            self.index = (self.index + 1) % len(self.frames)
        packet = av.Packet(data)
        packet.pts = self.sent * self._step
        packet.time_base = VIDEO_TIME_BASE if self.kind == "video" else AUDIO_TIME_BASE
        self.sent += 1
        return packet


def capability(mime: str) -> list[RTCRtpCodecCapability]:
    caps = RTCRtpSender.getCapabilities(mime.split("/")[0]).codecs
    return [c for c in caps if c.mimeType.lower() == mime.lower()][:1]


def send_frames(
    pc: RTCPeerConnection, mime: str, frames: list[bytes]
) -> tuple[LoopTrack, RTCRtpTransceiver]:
    """A sendonly transceiver on ``pc`` looping ``frames`` in ``mime`` (PLIs restart it)."""
    track = LoopTrack(mime.split("/")[0], frames)
    transceiver = pc.addTransceiver(track, direction="sendonly")
    transceiver.setCodecPreferences(capability(mime))
    passthrough.bridge_keyframe_requests(transceiver.sender, track.keyframe_requested)
    return track, transceiver


@dataclass
class Publisher:
    """A client's publisher peer connection sending ``LoopTrack``s."""

    client: RoomClient
    pc: RTCPeerConnection
    tracks: dict[str, LoopTrack]  # source -> track
    reply: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def offer(
        cls, client: RoomClient, sources: dict[str, tuple[str, list[bytes]]]
    ) -> tuple[Publisher, dict[str, Any]]:
        """Offer ``{source: (mime, frames)}``; return the publisher and the server's reply."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        tracks, mids = {}, {}
        for source, (mime, frames) in sources.items():
            tracks[source], mids[source] = send_frames(pc, mime, frames)
        await pc.setLocalDescription(await pc.createOffer())
        specs = [{"mid": t.mid, "source": s} for s, t in mids.items()]
        reply = await client.request(
            {"type": "media.publish", "sdp": pc.localDescription.sdp, "tracks": specs}
        )
        publisher = cls(client, pc, tracks, reply)
        if reply["type"] == "ack":
            await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        return publisher, reply

    @classmethod
    async def start(
        cls, client: RoomClient, sources: dict[str, tuple[str, list[bytes]]]
    ) -> Publisher:
        publisher, reply = await cls.offer(client, sources)
        assert reply["type"] == "ack", reply
        return publisher

    async def close(self) -> None:
        await self.pc.close()


# ------------------------------------------------------------------ subscribing


@dataclass
class Received:
    """What one subscriber transceiver got: encoded frames, in order."""

    info: dict[str, Any]
    frames: list[bytes] = field(default_factory=list)


class Subscriber:
    """A client's subscriber peer connection: answers the server's offers, taps receivers."""

    def __init__(self, client: RoomClient) -> None:
        self.client = client
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.by_mid: dict[str, Received] = {}
        self.by_track: dict[str, Received] = {}
        self.offers: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Subscriber:
        await self.client.ack({"type": "media.subscribe"})
        self._task = asyncio.create_task(self._negotiate())
        return self

    async def _negotiate(self) -> None:
        while True:
            offer = await self.client.next(of("media.offer"), within=3600)
            await self.apply(offer)

    async def apply(self, offer: dict[str, Any]) -> None:
        self.offers.append(offer)
        await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        for transceiver in self.pc.getTransceivers():
            if not passthrough.tapped(transceiver.receiver):
                mid = str(transceiver.mid)
                passthrough.tap_receiver(transceiver.receiver, self._sink(mid), lambda: None)
        for mid in list(self.by_mid):
            if not any(t["mid"] == mid for t in offer["tracks"]):
                del self.by_mid[mid]
        for info in offer["tracks"]:
            if self.by_mid.get(info["mid"], Received({})).info.get("track_id") != info["track_id"]:
                got = Received(info)
                self.by_mid[info["mid"]] = got
                self.by_track[info["track_id"]] = got
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.client.ack(
            {
                "type": "media.answer",
                "sdp": self.pc.localDescription.sdp,
                "version": offer["version"],
            }
        )

    def _sink(self, mid: str) -> Callable[[Any, Any], None]:
        def sink(_codec: Any, frame: Any) -> None:
            got = self.by_mid.get(mid)
            if got is not None:
                got.frames.append(bytes(frame.data))

        return sink

    async def frames_of(self, track_id: str, count: int, *, within: float = TIMEOUT) -> list[bytes]:
        """Wait until ``count`` frames of ``track_id`` arrived; return them."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            got = self.by_track.get(track_id)
            if got is not None and len(got.frames) >= count:
                return got.frames
            await asyncio.sleep(0.05)
        got = self.by_track.get(track_id)
        raise AssertionError(
            f"{self.client.label}: {len(got.frames) if got else 'no'} frames of {track_id}"
        )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.pc.close()


# ------------------------------------------------------------------ a class with media


@dataclass
class Classroom:
    """A room with its people connected; peers opened through it are closed at the end."""

    room: str
    clients: list[RoomClient]
    peers: list[Publisher | Subscriber] = field(default_factory=list)

    async def publish(
        self, client: RoomClient, sources: dict[str, tuple[str, list[bytes]]]
    ) -> Publisher:
        """``Publisher.start`` for ``client``, closed with the class."""
        publisher = await Publisher.start(client, sources)
        self.peers.append(publisher)
        return publisher

    async def subscribe(self, client: RoomClient) -> Subscriber:
        """A started ``Subscriber`` for ``client``, closed with the class."""
        subscriber = await Subscriber(client).start()
        self.peers.append(subscriber)
        return subscriber


@asynccontextmanager
async def classroom(
    node: NodeLike, host: Person, guests: list[Person], roles: tuple[str, ...] = ()
) -> AsyncIterator[Classroom]:
    """A new room of ``host``; ``guests`` invited (as ``roles``, else participants), all in it."""
    room = await create_room(node, host)
    for person, role in zip(guests, roles or ("participant",) * len(guests), strict=True):
        await invite(node, host, room, person, role)
    clients = [await RoomClient.enter(node, p, room) for p in (host, *guests)]
    opened = Classroom(room, clients)
    try:
        yield opened
    finally:
        for peer in opened.peers:
            await peer.close()
        await close_all(clients)


# ------------------------------------------------------------------ the server's side


async def audit_events(node: NodeLike, **params: str) -> list[dict[str, Any]]:
    """The audit records matching ``params`` (as the node's admin reads them)."""
    found = await rest(node, admin(node), "GET", "/api/v1/audit-events", params=params)
    assert found.status_code == 200, found.text
    return list(found.json()["items"])


def media_gauges(node: NodeLike) -> dict[str, float]:
    """The node's ``liveclass_media{kind=…}`` gauges from /metrics."""
    return gauges(node.url, "media")


def udp_sockets(pid: int) -> int:
    """How many UDP sockets process ``pid`` holds (its fds matched to /proc/net/udp*)."""
    import os

    inodes = set()
    for name in ("udp", "udp6"):
        with open(f"/proc/{pid}/net/{name}") as table:
            for row in list(table)[1:]:
                inodes.add(row.split()[9])
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


class ToneTrack(MediaStreamTrack):
    """Raw audio (a loud tone): aiortc encodes it and adds the RFC 6464 audio level."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.pts = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.pts / 48_000 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        samples = array.array("h")
        for n in range(self.pts, self.pts + 960):
            value = int(math.sin(n * 0.05) * 20000)
            samples.extend((value, value))
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate, frame.pts, frame.time_base = 48_000, self.pts, AUDIO_TIME_BASE
        self.pts += 960
        return frame


SDP = {"Content-Type": "application/sdp"}


class WhipClient:
    """What OBS does: a sendonly peer connection whose offer is POSTed, answer applied."""

    def __init__(self, sources: dict[str, tuple[str, list[bytes]]]) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.tracks: dict[str, LoopTrack] = {}
        for kind, (mime, frames) in sources.items():
            self.tracks[kind], _ = send_frames(self.pc, mime, frames)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))

    async def close(self) -> None:
        await self.pc.close()


def bearer(token: str) -> dict[str, str]:
    return {**SDP, "Authorization": f"Bearer {token}"}


def forwarding_sender(pc: RTCPeerConnection) -> tuple[ForwardTrack, RTCRtpTransceiver]:
    """A VP8 send-only transceiver on ``pc`` set up as the SFU sets up a subscriber's:
    a ``ForwardTrack`` written by ``RtpWriter``, frames going out from ``push`` at once."""
    track = ForwardTrack("video", 8, on_gap=lambda: None)
    transceiver = pc.addTransceiver(track, direction="sendonly")
    vp8 = next(c for c in CODECS["video"] if c.mimeType == "video/VP8")
    transceiver.setCodecPreferences(preferences(vp8))
    writer = rtp_writer.RtpWriter(transceiver.sender)
    writer.install()
    track.queue.express = functools.partial(writer.express, track)
    return track, transceiver
