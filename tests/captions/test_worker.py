"""The async side: audio pushed for a stream comes back as captions, off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest
from captions_kit import SENTENCES, silence, spoken

from media.captions import (
    Caption,
    CaptionConfig,
    CaptionInputError,
    CaptionWorker,
    EngineUnavailable,
)
from media.captions.worker import StreamTable, _ensure

ECHO = CaptionConfig(engine="captions_kit:echo_engine", max_pending=1.0)


async def collect(stream_captions: object) -> list[Caption]:
    return [c async for c in stream_captions]  # type: ignore[attr-defined]


async def test_pushed_audio_comes_back_as_captions_and_end_flushes() -> None:
    with ThreadPoolExecutor(1) as pool:
        worker = CaptionWorker(config=ECHO, executors=[pool])
        assert await worker.start() == "echo"
        stream = worker.stream("alice")
        task = asyncio.create_task(collect(stream.captions()))
        stream.push(bytes(640))
        await asyncio.sleep(0.05)
        stream.push(bytes(320))
        stream.end()
        captions = await asyncio.wait_for(task, 10)
        assert [c.text for c in captions] == ["chunk 640", "chunk 320", "end"]
        assert len(_ensure(ECHO)) == 0  # the worker forgot the finished stream
        await worker.aclose()


async def test_audio_pushed_while_busy_is_sent_in_one_call() -> None:
    gate = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        worker = CaptionWorker(config=ECHO, executors=[pool])
        await worker.start()
        pool.submit(gate.wait)  # the worker is busy
        stream = worker.stream("bob")
        task = asyncio.create_task(collect(stream.captions()))
        for _ in range(5):
            stream.push(bytes(640))
            await asyncio.sleep(0)
        stream.end()
        gate.set()
        captions = await asyncio.wait_for(task, 10)
    # the first push was already on its way; the other four waited and went as one
    assert [c.text for c in captions] == ["chunk 640", "chunk 2560", "end"]


async def test_a_worker_that_falls_behind_drops_the_oldest_audio() -> None:
    with ThreadPoolExecutor(1) as pool:
        worker = CaptionWorker(config=ECHO, executors=[pool])
        stream = worker.stream("carol")
        for _ in range(30):
            stream.push(bytes(3200))  # 3 s pushed, 1 s may wait
        assert stream.dropped_seconds == pytest.approx(2.0)
        stream.end()
        captions = await collect(stream.captions())
    assert captions[0].text == "chunk 32000"


async def test_bad_pushes_are_refused_clearly() -> None:
    worker = CaptionWorker(config=ECHO, executors=[ThreadPoolExecutor(1)])
    stream = worker.stream("dave")
    with pytest.raises(CaptionInputError, match="whole 16-bit"):
        stream.push(b"\x01")
    with pytest.raises(CaptionInputError, match="more than the 1 s"):
        stream.push(bytes(64000))
    with pytest.raises(ValueError, match="already open"):
        worker.stream("dave")
    stream.end()
    with pytest.raises(CaptionInputError, match="ended"):
        stream.push(bytes(2))


async def test_abandoned_streams_are_dropped_in_the_worker() -> None:
    with ThreadPoolExecutor(1) as pool:
        worker = CaptionWorker(config=ECHO, executors=[pool])
        stream = worker.stream("erin")
        iterator = cast(AsyncGenerator[Caption, None], stream.captions())
        stream.push(bytes(640))
        assert (await anext(iterator)).text == "chunk 640"
        await iterator.aclose()
    table = _ensure(ECHO)
    assert isinstance(table, StreamTable) and len(table) == 0
    worker.stream("erin")  # the id is free again


async def test_a_missing_model_fails_at_start() -> None:
    config = CaptionConfig(engine="no_such_module:make")
    worker = CaptionWorker(config=config, executors=[ThreadPoolExecutor(1)])
    with pytest.raises(EngineUnavailable):
        await worker.start()


async def test_a_spoken_sentence_through_a_worker_process() -> None:
    """The real shape: a spawned process with the bundled engine; the loop stays free."""
    speech = silence(0.3) + spoken(SENTENCES[1]) + silence(1.0)
    worker = CaptionWorker(config=CaptionConfig())
    try:
        assert await asyncio.wait_for(worker.start(), 120) == "whisper"
        stream = worker.stream("speaker-1")
        task = asyncio.create_task(collect(stream.captions()))
        for offset in range(0, len(speech), 640):
            stream.push(speech[offset : offset + 640])
            await asyncio.sleep(0.002)
        stream.end()
        captions = await asyncio.wait_for(task, 120)
    finally:
        await worker.aclose()
    finals = [c for c in captions if c.final]
    assert "homework" in " ".join(c.text.lower() for c in finals)
    assert stream.dropped_seconds == 0.0
