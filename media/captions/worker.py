"""Captions off the event loop: engines run in worker processes, an async adapter feeds them.

Transcription is CPU-bound and would stall every room of a node, so it runs in worker
processes (``spawn``ed, one engine each, ``config.workers`` of them, a stream pinned to
one so its state stays there). The process side, ``StreamTable``, is plain synchronous
code; ``CaptionWorker`` and ``CaptionStream`` are the thin asyncio side.

A stream's audio waits in a byte-bounded buffer (``max_pending`` seconds): ``push`` never
blocks, and when the engine falls behind the oldest audio is dropped (``dropped_seconds``
counts it) so captions stay live. While a chunk is being transcribed the next audio
gathers, so one call carries all of it: the slower the engine, the bigger the batches.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

from media.captions.config import CaptionConfig, load_engine
from media.captions.engine import (
    SAMPLE_RATE,
    SAMPLE_WIDTH,
    Caption,
    CaptionInputError,
    SpeechEngine,
    SpeechToText,
    check_pcm,
)

PIECE = SAMPLE_RATE * SAMPLE_WIDTH
"""Bytes handed to a stream at once inside the worker (one second)."""


class StreamTable:
    """The worker process's state: one engine and the streams it has open."""

    def __init__(self, config: CaptionConfig, engine: SpeechEngine) -> None:
        self.config = config
        self.engine = engine
        self._streams: dict[str, SpeechToText] = {}

    def feed(self, stream_id: str, pcm: bytes, end: bool) -> list[Caption]:
        """Give a stream its next audio (opening it on first use); ``end`` finishes it."""
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = self._streams[stream_id] = self.engine.open_stream()
        captions: list[Caption] = []
        try:
            for offset in range(0, len(pcm), PIECE):
                captions += stream.accept(pcm[offset : offset + PIECE])
            if end:
                captions += stream.flush()
        finally:
            if end:
                self.drop(stream_id)
        return captions

    def drop(self, stream_id: str) -> None:
        """Forget a stream without finishing it."""
        stream = self._streams.pop(stream_id, None)
        if stream is not None:
            stream.close()

    def __len__(self) -> int:
        return len(self._streams)


_table: StreamTable | None = None


def _ensure(config: CaptionConfig) -> StreamTable:
    """This process's table, loading the engine on first use (or when config changed)."""
    global _table
    if _table is None or _table.config != config:
        if _table is not None:
            _table.engine.close()
        _table = StreamTable(config, load_engine(config))
    return _table


def _load(config: CaptionConfig) -> str:
    """Load the engine now (so a missing model shows at start-up); its name."""
    return _ensure(config).engine.name


def _feed(config: CaptionConfig, stream_id: str, pcm: bytes, end: bool) -> list[Caption]:
    return _ensure(config).feed(stream_id, pcm, end)


def _drop(config: CaptionConfig, stream_id: str) -> None:
    _ensure(config).drop(stream_id)


class CaptionWorker:
    """The node's handle on its caption workers."""

    def __init__(self, *, config: CaptionConfig, executors: Sequence[Executor] = ()) -> None:
        self.config = config
        self._owned = not executors
        self._executors = list(executors) or [
            ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            for _ in range(config.workers)
        ]
        self._next = itertools.cycle(range(len(self._executors)))
        self._ids: set[str] = set()

    async def start(self) -> str:
        """Load the engine in every worker; its name. Raises ``EngineUnavailable``."""
        loop = asyncio.get_running_loop()
        names = await asyncio.gather(
            *(loop.run_in_executor(ex, _load, self.config) for ex in self._executors)
        )
        return names[0]

    def stream(self, stream_id: str) -> CaptionStream:
        """A new stream (one speaker's track); ids must be unique among open streams."""
        if stream_id in self._ids:
            raise ValueError(f"caption stream {stream_id!r} is already open")
        self._ids.add(stream_id)
        executor = self._executors[next(self._next)]
        return CaptionStream(self, executor, stream_id)

    async def aclose(self) -> None:
        """Stop the worker processes this worker started."""
        if self._owned:
            for executor in self._executors:
                await asyncio.to_thread(executor.shutdown, True, cancel_futures=True)

    def _release(self, stream_id: str) -> None:
        self._ids.discard(stream_id)


class CaptionStream:
    """One speaker's audio in (``push``, ``end``), captions out (``captions()``)."""

    def __init__(self, worker: CaptionWorker, executor: Executor, stream_id: str) -> None:
        self.stream_id = stream_id
        self.dropped_seconds = 0.0
        self._worker = worker
        self._executor = executor
        self._limit = int(worker.config.max_pending * SAMPLE_RATE) * SAMPLE_WIDTH
        self._pending = bytearray()
        self._ended = False
        self._finished = False
        self._ready = asyncio.Event()

    def push(self, pcm: bytes) -> None:
        """Queue 16 kHz mono s16 audio; never blocks; drops the oldest audio when full."""
        if self._ended:
            raise CaptionInputError("the caption stream has ended")
        check_pcm(pcm, sample_rate=SAMPLE_RATE, max_seconds=self._worker.config.max_pending)
        self._pending += pcm
        excess = len(self._pending) - self._limit
        if excess > 0:
            del self._pending[:excess]
            self.dropped_seconds += excess / (SAMPLE_RATE * SAMPLE_WIDTH)
        self._ready.set()

    def end(self) -> None:
        """No more audio: ``captions()`` finishes the last utterance and stops."""
        self._ended = True
        self._ready.set()

    async def captions(self) -> AsyncIterator[Caption]:
        """The stream's captions as they are ready, until ``end()`` has been handled."""
        loop = asyncio.get_running_loop()
        config = self._worker.config
        try:
            while not self._finished:
                await self._ready.wait()
                self._ready.clear()
                pcm, end = bytes(self._pending), self._ended
                self._pending.clear()
                if not pcm and not end:
                    continue
                results = await loop.run_in_executor(
                    self._executor, _feed, config, self.stream_id, pcm, end
                )
                self._finished = end
                for caption in results:
                    yield caption
        finally:
            if not self._finished:
                self._finished = True
                self._executor.submit(_drop, config, self.stream_id)
            self._worker._release(self.stream_id)
