"""A publisher peer connection and the tracks it publishes, tapped without decoding."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from media.config import MediaConfig
from media.errors import BadSdp
from media.fastpath import passthrough, remb
from media.forwarding import ForwardTrack, FrameQueue, PacketStream
from media.keyframes import KeyframeThrottle, is_keyframe
from media.sdp import SOURCE_KIND, announce_public_ip, check_sources, offered_media, preferences
from media.watch import ConnectionWatch


class PublishedTrack:
    """One forwarded track: receives encoded frames and fans them out to its consumers."""

    def __init__(
        self,
        *,
        user_id: str,
        conn_id: str,
        source: str,
        codec: RTCRtpCodecParameters,
        receiver: RTCRtpReceiver,
        keyframe_interval: float,
    ) -> None:
        self.track_id = secrets.token_hex(8)
        self.user_id = user_id
        self.conn_id = conn_id
        self.source = source
        self.kind = SOURCE_KIND[source]
        self.codec = codec
        self.receiver = receiver
        self.time_base = Fraction(1, codec.clockRate)
        self.subscribers: set[ForwardTrack] = set()
        self.streams: set[PacketStream] = set()
        self.throttle = KeyframeThrottle(keyframe_interval)
        self.ssrc: int | None = None
        self.frames = 0
        self.keyframes = 0
        self.ended = False
        self.on_audio_level: Callable[[PublishedTrack, int], None] | None = None
        self.on_ended: Callable[[PublishedTrack], None] | None = None
        self._pli_tasks: set[asyncio.Task[None]] = set()

    def info(self) -> dict[str, Any]:
        """How room events describe this track."""
        return {
            "track_id": self.track_id,
            "user_id": self.user_id,
            "conn_id": self.conn_id,
            "kind": self.kind,
            "source": self.source,
        }

    # ------------------------------------------------------------ receive side (event loop)

    def on_rtp(self, packet: RtpPacket) -> None:
        """Before aiortc's handling: note the media SSRC and the RFC 6464 audio level."""
        if packet.payload_type == self.codec.payloadType:
            self.ssrc = packet.ssrc
        level = packet.extensions.audio_level
        if level is not None and self.on_audio_level is not None and not self.ended:
            self.on_audio_level(self, int(level[1]))

    def on_frame(self, _codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
        """A complete encoded frame from the jitter buffer: hand it to every consumer."""
        if self.ended:
            return
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = self.time_base
        keyframe = is_keyframe(self.codec.name, frame.data)
        self.frames += 1
        self.keyframes += keyframe
        waiting = False
        for consumer in self.subscribers:
            consumer.queue.push(packet, keyframe)
            waiting = waiting or consumer.queue.waiting_keyframe
        for stream in self.streams:
            stream.queue.push(packet, keyframe)
            waiting = waiting or stream.queue.waiting_keyframe
        if waiting:
            self.request_keyframe()

    # ------------------------------------------------------------ consumers

    def attach(self, consumer: ForwardTrack) -> None:
        """Start feeding a subscriber's track (from the next keyframe)."""
        consumer.restart()
        self.subscribers.add(consumer)
        self.request_keyframe()

    def detach(self, consumer: ForwardTrack) -> None:
        """Stop feeding a subscriber's track; frames still queued for it are dropped."""
        self.subscribers.discard(consumer)
        consumer.restart()

    def packets(self, capacity: int = 120) -> PacketStream:
        """This track's encoded frames as ``av.Packet`` (pts, time_base set), from a keyframe.

        Iterate with ``async for``; it ends when the track is unpublished. A consumer that
        falls ``capacity`` frames behind skips to the next keyframe.
        """
        queue = FrameQueue(
            capacity, needs_keyframe=self.kind == "video", on_gap=self.request_keyframe
        )
        stream = PacketStream(queue, self.streams.discard)
        if self.ended:
            queue.end()
        else:
            self.streams.add(stream)
            self.request_keyframe()
        return stream

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe (PLI), at most once per interval."""
        if self.kind != "video" or self.ended:
            return
        ssrc = self.ssrc
        if ssrc is None:
            sources = self.receiver.getSynchronizationSources()
            ssrc = sources[0].source if sources else None
        if ssrc is None or not self.throttle.allow(time.monotonic()):
            return
        task = asyncio.get_running_loop().create_task(passthrough.send_pli(self.receiver, ssrc))
        self._pli_tasks.add(task)
        task.add_done_callback(self._pli_tasks.discard)

    def end(self) -> None:
        """Unpublished: stop fanning out, end recording streams."""
        if self.ended:
            return
        self.ended = True
        for consumer in self.subscribers:
            consumer.restart()
        self.subscribers.clear()
        for stream in list(self.streams):
            stream.queue.end()
        self.streams.clear()
        if self.on_ended is not None:
            self.on_ended(self)  # e.g. RTCP BYE: the SFU unpublishes it


class Publisher:
    """One client's publisher peer connection (client offers, server answers)."""

    def __init__(
        self,
        *,
        user_id: str,
        conn_id: str,
        config: MediaConfig,
        on_failed: Callable[[Publisher], None],
    ) -> None:
        self.user_id = user_id
        self.conn_id = conn_id
        self.config = config
        self.pc = RTCPeerConnection(config.rtc_configuration())
        self.tracks: dict[str, PublishedTrack] = {}  # by source
        self.closed = False
        self._watch = ConnectionWatch(
            self.pc,
            conn_id=conn_id,
            timeout=config.ice_timeout,
            on_failed=lambda: on_failed(self),
        )

    async def start(self, offer: str, sources: dict[str, str]) -> str:
        """Apply the client's offer, tap its tracks, return the SDP answer."""
        offered = offered_media(offer)
        matched = check_sources(offered, sources)
        # Transceivers made up front, in m-line order, so each is pinned to one codec and
        # tapped before aiortc starts receiving on it.
        for media in offered:
            mapped = matched.get(media.mid)
            transceiver = self.pc.addTransceiver(
                media.kind, direction="recvonly" if mapped else "inactive"
            )
            if mapped is None or mapped.codec is None:
                continue
            transceiver.setCodecPreferences(preferences(mapped.codec))
            track = PublishedTrack(
                user_id=self.user_id,
                conn_id=self.conn_id,
                source=sources[media.mid],
                codec=mapped.codec,
                receiver=transceiver.receiver,
                keyframe_interval=self.config.keyframe_interval,
            )
            passthrough.tap_receiver(transceiver.receiver, track.on_frame, track.end)
            passthrough.hook_rtp(transceiver.receiver, track.on_rtp)
            remb.install(transceiver.receiver)
            self.tracks[track.source] = track
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        except Exception as exc:  # aiortc raises plain errors for what it cannot accept
            raise BadSdp(f"The offer cannot be accepted ({type(exc).__name__}).") from None
        for transceiver in self.pc.getTransceivers():
            tapped = [t for t in self.tracks.values() if t.receiver is transceiver.receiver]
            if tapped and transceiver._codecs:
                tapped[0].codec = transceiver._codecs[0]  # the payload type the client sends
        self._watch.start()
        local = self.pc.localDescription
        return announce_public_ip(local.sdp, self.config.public_ip)

    async def close(self) -> None:
        """End every track and close the peer connection (sockets, tasks)."""
        if self.closed:
            return
        self.closed = True
        for track in self.tracks.values():
            track.end()
        await self._watch.close()
