"""A subscriber peer connection (server offers): reusable slots fed with forwarded frames.

aiortc cannot remove a transceiver, so each one is a slot: it carries one published track
at a time and is reused for the next track of the same kind and codec. Whenever the set
of tracks changes, the server renegotiates with a new offer (``version`` + 1).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.codecs import CODECS
from aiortc.exceptions import InvalidStateError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from media.config import MediaConfig
from media.errors import BadSdp, StaleOffer
from media.fastpath import passthrough, report_clock, rtp_writer
from media.forwarding import ForwardTrack
from media.publisher import PublishedTrack
from media.sdp import announce_public_ip, codec_key, preferences, without_bandwidth_feedback
from media.watch import ConnectionWatch

Send = Callable[[dict[str, Any]], None]


@dataclass(eq=False)
class Slot:
    """One sendonly transceiver, its forwarding track, and what it carries now."""

    transceiver: RTCRtpTransceiver
    track: ForwardTrack
    codec: tuple[str, str]
    current: PublishedTrack | None = None

    def request_keyframe(self) -> None:
        """The subscriber sent PLI/FIR: ask the publisher (throttled there)."""
        if self.current is not None:
            self.current.request_keyframe()

    def carry(self, published: PublishedTrack | None) -> None:
        """Switch to another published track (None: carry nothing)."""
        if self.current is not None:
            self.current.detach(self.track)
        self.current = published
        if published is not None:
            published.attach(self.track)


class Subscriber:
    """The server-to-client peer connection of one room connection."""

    def __init__(
        self,
        *,
        conn_id: str,
        config: MediaConfig,
        send: Send,
        visible: Callable[[], list[PublishedTrack]],
        on_failed: Callable[[Subscriber], None],
    ) -> None:
        self.conn_id = conn_id
        self.config = config
        self.pc = RTCPeerConnection(config.rtc_configuration())
        self.slots: list[Slot] = []
        self.version = 0
        self.awaiting: int | None = None
        self.dirty = False
        self.closed = False
        self._send = send
        self._visible = visible
        self._lock = asyncio.Lock()
        self._watch = ConnectionWatch(
            self.pc,
            conn_id=conn_id,
            timeout=config.ice_timeout,
            on_failed=lambda: on_failed(self),
            on_connected=self._connected,
        )

    async def start(self) -> None:
        """Open with one audio (Opus) and one video (VP8) slot, then offer what is published."""
        for kind in ("audio", "video"):
            self._add_slot(CODECS[kind][0])
        self._watch.start()
        await self.update()

    def _add_slot(self, codec: RTCRtpCodecParameters) -> Slot:
        kind = codec.mimeType.split("/")[0]
        holder: list[Slot] = []
        capacity = (
            self.config.video_queue_frames if kind == "video" else self.config.audio_queue_frames
        )
        track = ForwardTrack(kind, capacity, on_gap=lambda: holder[0].request_keyframe())
        transceiver = self.pc.addTransceiver(track, direction="sendonly")
        transceiver.setCodecPreferences(preferences(codec))
        slot = Slot(transceiver, track, codec_key(codec))
        holder.append(slot)
        passthrough.bridge_keyframe_requests(transceiver.sender, slot.request_keyframe)
        writer = rtp_writer.RtpWriter(transceiver.sender)
        writer.install()
        report_clock.install(transceiver.sender)
        track.queue.express = functools.partial(writer.express, track)
        self.slots.append(slot)
        return slot

    async def update(self) -> None:
        """Match slots to the visible tracks; renegotiate if the mapping changed."""
        async with self._lock:
            if self.closed:
                return
            if self.awaiting is not None:
                self.dirty = True
                return
            if self._assign(self._visible()) or self.version == 0:
                try:
                    await self._offer()
                except InvalidStateError:
                    if not self.closed:  # closed meanwhile (the client left): nothing to do
                        raise

    def _assign(self, wanted: list[PublishedTrack]) -> bool:
        changed = False
        wanted_ids = {t.track_id for t in wanted}
        for slot in self.slots:
            current = slot.current
            if current is not None and (current.track_id not in wanted_ids or current.ended):
                slot.carry(None)
                changed = True
        carried = {s.current.track_id for s in self.slots if s.current is not None}
        for published in wanted:
            if published.track_id in carried or published.ended:
                continue
            key = codec_key(published.codec)
            free = next((s for s in self.slots if s.current is None and s.codec == key), None)
            (free or self._add_slot(published.codec)).carry(published)
            changed = True
        return changed

    async def _offer(self) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.version += 1
        self.awaiting = self.version
        local = self.pc.localDescription
        self._send(
            {
                "version": self.version,
                "sdp": announce_public_ip(
                    without_bandwidth_feedback(local.sdp), self.config.public_ip
                ),
                "tracks": [
                    {"mid": s.transceiver.mid, **s.current.info()}
                    for s in self.slots
                    if s.current is not None
                ],
            }
        )

    async def answer(self, version: int, sdp: str) -> None:
        """Apply the client's answer to offer ``version``; then catch up on changes."""
        async with self._lock:
            if self.closed or version != self.awaiting:
                raise StaleOffer(f"Offer {version} is not the latest ({self.version}).")
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
            except Exception as exc:  # aiortc raises plain errors on answers it rejects
                raise BadSdp(f"The answer cannot be accepted ({type(exc).__name__}).") from None
            self.awaiting = None
            dirty, self.dirty = self.dirty, False
        if dirty:
            await self.update()

    def _connected(self) -> None:
        for slot in self.slots:  # a keyframe for everything as soon as media can flow
            if slot.current is not None:
                slot.track.restart()
                slot.current.request_keyframe()

    async def close(self) -> None:
        """Stop forwarding to this connection and close its peer connection."""
        if self.closed:
            return
        self.closed = True
        for slot in self.slots:
            slot.carry(None)
        await self._watch.close()
