"""Automatic captions: every speaker's audio this node's SFU forwards, through the node's
speech-to-text worker, published to the room as ``caption.partial`` and ``caption.line``.

Per room, a host turns them on (``caption.auto``). For each published microphone track of
such a room, this node taps the track's encoded Opus frames (``PublishedTrack.packets``,
the same tap recording uses: no video is touched), decodes audio only (``OpusDecoder``, 16
kHz mono) and feeds a ``CaptionStream`` in batches; the stream's captions are published
naming the speaker. ``AudioClock`` turns the stream's seconds into wall-clock times, so
lines line up with the recording. The worker processes start on first use (a node whose
rooms never turn captions on pays nothing) and are restarted if one dies.

Several nodes: only the node that forwards a room's media (its placement owner) captions
it, once. That node may hold no connection of the room (speakers and viewers relayed from
other nodes); while it forwards a microphone of the room the media signalling holds the
room loaded there (``rooms/microphone_holds.py``): it then knows whether captions are on, hears
``caption.auto`` over the broker, and names speakers. Other nodes only relay the lines to
their viewers (room events) and never load the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jobs.retry import Backoff
from media.captions.config import CaptionConfig
from media.captions.decode import OpusDecoder
from media.captions.engine import (
    SAMPLE_RATE,
    SAMPLE_WIDTH,
    Caption,
    CaptionInputError,
    EngineUnavailable,
)
from media.captions.worker import CaptionStream, CaptionWorker
from media.forwarding import PacketStream
from media.publisher import PublishedTrack
from rooms import captions
from rooms.audio_clock import AudioClock
from rooms.manager import LiveRoom, RoomManager
from rooms.media import MediaSignalling
from rooms.microphone_holds import is_microphone, microphones
from rooms.state import Event

logger = logging.getLogger("liveclass.captions")

FEED_SECONDS = 0.4
"""Audio gathered before it is decoded and handed to the worker: fewer, larger calls (a
round trip to the worker process costs the node ~0.75 ms of CPU, so 5 a second cost 3.8
ms per second of audio; 2.5 a second half that); adds ~0.2 s to a caption's delay."""

MAX_GAP_FILL = 1.0
"""The most silence fed for a pause: enough for endpointing, then the clock re-anchors."""

OPUS_CLOCK = 48_000
FRAME_SECONDS = 0.02
RTP_WRAP = 1 << 32
MAX_RTP_JUMP = 600.0  # seconds; a larger step is a reordered or reset timestamp

BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH

RESTART_BACKOFF = Backoff(base=5.0, cap=300.0)
"""Before the engine is started again after a failed start, or a track is captioned again
after its captioning failed (not for an ``EngineUnavailable``, which is for good)."""


@dataclass
class _Captioned:
    """One track being captioned: its task, the stream it feeds now, that stream's clock."""

    room_id: str
    track: PublishedTrack
    task: asyncio.Task[None] | None = None
    packets: PacketStream | None = None
    stream: CaptionStream | None = None
    clock: AudioClock = field(default_factory=AudioClock)
    dropped_before: float = 0.0  # seconds dropped by the streams replaced so far
    failures: int = 0  # times captioning this track failed (each waits longer to retry)


@dataclass
class CaptionStats:
    """What /metrics shows of automatic captions on this node."""

    finals: int = 0
    partials: int = 0
    restarts: int = 0
    track_failures: int = 0
    bad_packets: int = 0
    gap_seconds: float = 0.0
    delays: deque[float] = field(default_factory=lambda: deque(maxlen=200))


class AutoCaptions:
    """This node's automatic captions: which tracks are captioned, the worker behind them."""

    def __init__(
        self,
        media: MediaSignalling,
        manager: RoomManager,
        *,
        config: CaptionConfig,
        worker_factory: Callable[[CaptionConfig], CaptionWorker] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sfu = media.sfu
        self.manager = manager
        self.config = config
        self.stats = CaptionStats()
        self.captioned: dict[str, _Captioned] = {}  # by track id
        self.unavailable: str | None = None  # why the engine could not load, if it could not
        self._make_worker = worker_factory or (lambda c: CaptionWorker(config=c))
        self._worker: CaptionWorker | None = None
        self._starting: asyncio.Lock | None = None
        self._start_failures = 0
        self._retry_at = 0.0  # monotonic; a failed start is not tried again before it
        self._generation = 0
        self._clock = clock
        self._closing = False
        self._dropped_total = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()
        # Rooms held loaded while this node forwards their microphones (see the module).
        self.holds = media.holds
        self.holds.held_listeners.append(self._held)
        self._clustered = media.cluster is not None
        self.sfu.track_listeners.append(self._on_track)
        manager.after_hooks.append(self._on_room_event)

    # ------------------------------------------------------------------ switching

    def _on_track(self, room_id: str, change: str, track: PublishedTrack, _reason: str) -> None:
        if change == "published" and is_microphone(track):
            room = self.manager.rooms.get(room_id)
            if room is not None and room.state.captions.auto:
                self.begin(room_id, track)

    def _held(self, room: LiveRoom) -> None:
        """The room was loaded here for its microphones: caption them if captions are on."""
        if room.state.captions.auto:
            self._warm_up()
            for track in microphones(self.sfu, room.state.room_id):
                self.begin(room.state.room_id, track)

    def _on_room_event(self, room: LiveRoom, event: Event) -> None:
        kind = event.get("type")
        room_id = room.state.room_id
        if kind == "caption.auto" and event.get("on"):
            # In a cluster only the room's media node loads the engine (at the latest when
            # a microphone is published there: the audio waits up to ``max_pending``).
            if not self._clustered or self.sfu.room(room_id) is not None:
                self._warm_up()
            for track in microphones(self.sfu, room_id):
                self.begin(room_id, track)
        elif kind in ("caption.auto", "room.ended"):
            self.end_room(room_id)

    def begin(self, room_id: str, track: PublishedTrack, *, failures: int = 0) -> None:
        """Caption ``track`` until it ends or the room's captions go off (idempotent)."""
        if self._closing or track.ended or track.track_id in self.captioned:
            return
        entry = self.captioned[track.track_id] = _Captioned(room_id, track, failures=failures)
        entry.task = asyncio.get_running_loop().create_task(self._run(entry))

    def _begin_later(self, entry: _Captioned) -> None:
        """Caption a track again after its captioning failed, once a backoff has passed,
        if the room still wants it (each failure of the track waits longer)."""
        entry.failures += 1
        delay = RESTART_BACKOFF.delay(entry.failures, random.random())

        def again() -> None:
            room = self.manager.rooms.get(entry.room_id)
            if room is not None and room.state.captions.auto:
                self.begin(entry.room_id, entry.track, failures=entry.failures)

        asyncio.get_running_loop().call_later(delay, again)

    def end_room(self, room_id: str) -> None:
        """Stop captioning the room's tracks (each finishes the utterance it is on)."""
        for entry in list(self.captioned.values()):
            if entry.room_id == room_id and entry.packets is not None:
                entry.packets.queue.end()

    # ------------------------------------------------------------------ one track

    async def _run(self, entry: _Captioned) -> None:
        room = await self.manager.acquire(entry.room_id)
        failed = False
        packets = entry.packets = entry.track.packets(capacity=500)
        feeder = asyncio.get_running_loop().create_task(self._feed(entry, packets))
        try:
            while not self._closing:
                worker = await self._get_worker()
                if worker is None:
                    return
                self._generation += 1
                entry.stream = worker.stream(f"{entry.track.track_id}:{self._generation}")
                entry.clock = AudioClock()
                if feeder.done():
                    entry.stream.end()  # the audio ended while the worker restarted
                try:
                    async for caption in entry.stream.captions():
                        await self._publish(entry, room, caption)
                    return  # the track ended and its last utterance is out
                except BrokenProcessPool:
                    entry.dropped_before += entry.stream.dropped_seconds
                    await self._restart(worker)
        except asyncio.CancelledError:
            pass
        except Exception:
            failed = True
            self.stats.track_failures += 1
            logger.exception("captions stopped", extra={"track_id": entry.track.track_id})
        finally:
            packets.queue.end()
            feeder.cancel()
            with contextlib.suppress(BaseException):
                await feeder
            if entry.stream is not None:
                self._dropped_total += entry.dropped_before + entry.stream.dropped_seconds
            self.captioned.pop(entry.track.track_id, None)
            if room is not None:
                self.manager.release(room)
                if failed:
                    self._begin_later(entry)
                elif room.state.captions.auto:  # switched off and on again meanwhile
                    self.begin(entry.room_id, entry.track)

    async def _feed(self, entry: _Captioned, packets: PacketStream) -> None:
        """The track's Opus frames, decoded, to whichever stream the track feeds now.

        Frames are taken in batches (``FEED_SECONDS``): one wake-up, one resampler pass and
        one hand-over to the worker per batch, not per 20 ms frame. Missing audio is found
        by the frames' RTP timestamps, not by when they arrive (a busy node receives them
        in bursts): a gap (lost frames, a muted or DTX pause) is fed as silence, up to
        ``MAX_GAP_FILL``, after which the clock re-anchors.
        """
        decoder = OpusDecoder()
        pending = bytearray()
        last_pts: int | None = None
        anchor = True
        try:
            async for batch in packets.batches(FEED_SECONDS):
                for packet in batch:
                    pts = int(packet.pts or 0)
                    if last_pts is not None:
                        step = ((pts - last_pts) % RTP_WRAP) / OPUS_CLOCK
                        if step > 2 * FRAME_SECONDS and step < MAX_RTP_JUMP:
                            gap = step - FRAME_SECONDS
                            self.stats.gap_seconds += gap
                            decoder.add_silence(min(gap, MAX_GAP_FILL))
                            if gap > MAX_GAP_FILL:
                                pending += decoder.take()
                                if self._push(entry, pending, anchor=anchor):
                                    anchor = True
                    last_pts = pts
                    try:
                        decoder.add(packet)
                    except CaptionInputError:
                        self.stats.bad_packets += 1
                pending += decoder.take()
                if self._push(entry, pending, anchor=anchor):
                    anchor = False
        finally:
            if entry.stream is not None:
                with contextlib.suppress(CaptionInputError):
                    pending += decoder.take()
                    if pending:
                        self._push(entry, pending, anchor=anchor)
                    entry.stream.end()

    def _push(self, entry: _Captioned, pending: bytearray, *, anchor: bool) -> bool:
        """Hand ``pending`` to the track's stream and empty it; False while there is no
        stream yet (the engine is loading), when the audio waits, the oldest dropped past
        ``max_pending``."""
        stream = entry.stream
        if stream is None:
            excess = len(pending) - int(self.config.max_pending * BYTES_PER_SECOND)
            if excess > 0:
                del pending[: excess + excess % SAMPLE_WIDTH]
            return False
        if pending:
            seconds = len(pending) / BYTES_PER_SECOND
            entry.clock.feed(seconds, ended_at=self._clock(), anchor=anchor)
            with contextlib.suppress(CaptionInputError):  # ended by a restart meanwhile
                stream.push(bytes(pending))
            pending.clear()
        return True

    async def _publish(self, entry: _Captioned, room: LiveRoom | None, caption: Caption) -> None:
        track = entry.track
        participant = room.state.participants.get(track.user_id) if room else None
        speaker = (track.user_id, participant.name if participant else "")
        utterance = f"a:{track.track_id}:{caption.utterance}"
        if not caption.final or not caption.text:
            self.stats.partials += 1
            event = captions.partial(
                source="auto",
                utterance=utterance,
                speaker=speaker,
                text=caption.text[: captions.MAX_CAPTION_LENGTH],
                track_id=track.track_id,
            )
            await self.manager.publish_volatile(entry.room_id, [event])
            return
        start = entry.clock.wall(caption.start)
        end = entry.clock.wall(caption.end)
        now = self._clock()
        self.stats.finals += 1
        self.stats.delays.append(max(0.0, now - end))
        line = captions.line(
            line_id=str(uuid.uuid4()),
            source="auto",
            utterance=utterance,
            speaker=speaker,
            text=caption.text[: captions.MAX_CAPTION_LENGTH],
            start=datetime.fromtimestamp(start, UTC),
            end=datetime.fromtimestamp(max(end, start), UTC),
            track_id=track.track_id,
        )
        at = datetime.fromtimestamp(now, UTC).isoformat()
        await self.manager.publish(entry.room_id, [captions.line_event(line, at=at)])

    # ------------------------------------------------------------------ the worker

    async def _get_worker(self) -> CaptionWorker | None:
        """The running worker, started (engine loaded in each process) on first use; None
        when the engine cannot load (``EngineUnavailable``: for good) or the node closes. A
        start that failed otherwise (a worker process died) is tried again after a backoff."""
        while self._worker is None:
            if self.unavailable is not None or self._closing:
                return None
            wait = self._retry_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            self._starting = self._starting or asyncio.Lock()
            async with self._starting:
                if self._worker is None and self._retry_at <= time.monotonic():
                    await self._start_worker()
        return self._worker

    async def _start_worker(self) -> None:
        worker = self._make_worker(self.config)
        try:
            name = await worker.start()
        except EngineUnavailable as exc:
            self.unavailable = str(exc) or type(exc).__name__
            logger.error("automatic captions unavailable: %s", self.unavailable)
        except Exception:
            self._start_failures += 1
            delay = RESTART_BACKOFF.delay(self._start_failures, random.random())
            self._retry_at = time.monotonic() + delay
            logger.exception("captions engine failed to start; again in %.0f s", delay)
        else:
            logger.info("captions engine loaded", extra={"engine": name})
            self._worker, self._start_failures = worker, 0
            return
        await worker.aclose()

    def _warm_up(self) -> None:
        """Start loading the engine now (a room turned captions on), not at the first word."""
        if self._worker is None and self.unavailable is None and not self._closing:
            self._spawn(self._get_worker())

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _restart(self, broken: CaptionWorker) -> None:
        """A worker process died: replace the worker (once, whoever notices first)."""
        if self._worker is broken:
            self._worker = None
            self.stats.restarts += 1
            logger.warning("a captions worker process died; restarting the worker")
            with contextlib.suppress(Exception):
                await broken.aclose()

    # ------------------------------------------------------------------ node

    def gauges(self) -> dict[str, float]:
        """For /metrics: streams, captions, restarts, dropped audio, recent delays."""
        delays = sorted(self.stats.delays)
        dropped = self._dropped_total + sum(
            e.dropped_before + (e.stream.dropped_seconds if e.stream else 0.0)
            for e in self.captioned.values()
        )
        return {
            "streams": float(len(self.captioned)),
            "finals_total": float(self.stats.finals),
            "partials_total": float(self.stats.partials),
            "worker_restarts_total": float(self.stats.restarts),
            "track_failures_total": float(self.stats.track_failures),
            "bad_packets_total": float(self.stats.bad_packets),
            "gap_seconds_total": self.stats.gap_seconds,
            "dropped_seconds_total": dropped,
            "delay_p50_seconds": delays[len(delays) // 2] if delays else 0.0,
            "delay_p99_seconds": delays[int(len(delays) * 0.99)] if delays else 0.0,
            "engine_up": 0.0 if self.unavailable else 1.0,
            "engine_loaded": 1.0 if self._worker is not None else 0.0,
        }

    async def close(self) -> None:
        """Node shutdown: stop every captioned track, then the worker processes."""
        self._closing = True
        tasks = [e.task for e in self.captioned.values() if e.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, *self._tasks, return_exceptions=True)
        if self._worker is not None:
            await self._worker.aclose()
            self._worker = None
