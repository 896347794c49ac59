"""ChannelFeed on a scripted history: order, duplicates, holes, resets, overflow, retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kits.waiting import eventually
from realtime.broker import HistoryResult, Publication, StreamPosition
from realtime.channel_feed import ChannelFeed
from realtime.errors import BrokerUnavailableError


class Stream:
    """A channel's history as a broker would return it; can fail the next reads."""

    def __init__(self, epoch: str = "e1", retained_from: int = 1) -> None:
        self.epoch = epoch
        self.pubs: list[Publication] = []
        self.retained_from = retained_from
        self.failures = 0
        self.reads = 0

    def add(self, count: int) -> list[Publication]:
        start = len(self.pubs) + 1
        new = [Publication("c", n, self.epoch, b"%d" % n) for n in range(start, start + count)]
        self.pubs.extend(new)
        return new

    async def fetch(self, channel: str, since: int, limit: int) -> HistoryResult:
        self.reads += 1
        await asyncio.sleep(0)
        if self.failures:
            self.failures -= 1
            raise BrokerUnavailableError("down")
        kept = [p for p in self.pubs if p.offset > since and p.offset >= self.retained_from]
        return HistoryResult(tuple(kept[:limit]), self.epoch, len(self.pubs))


@pytest.fixture
def stream() -> Stream:
    return Stream()


@pytest.fixture
async def feed(stream: Stream) -> AsyncIterator[tuple[ChannelFeed, list[Publication], list[str]]]:
    got: list[Publication] = []
    resets: list[str] = []
    made = ChannelFeed(
        "c",
        fetch=stream.fetch,
        on_reset=resets.append,
        queue_size=4,
        recovery_limit=100,
        retry_delays=(0.001, 0.01),
    )
    made.handlers.append(got.append)
    yield made, got, resets
    worker = made.close()
    if worker is not None:
        await asyncio.gather(worker, return_exceptions=True)


Feed = tuple[ChannelFeed, list[Publication], list[str]]


def offsets(pubs: list[Publication]) -> list[int]:
    return [p.offset for p in pubs]


async def test_holds_arrivals_until_started_and_skips_those_before_the_start(
    feed: Feed, stream: Stream
) -> None:
    channel, got, _ = feed
    for pub in stream.add(3):
        channel.push(pub)
    await asyncio.sleep(0.01)
    assert got == []
    channel.start(StreamPosition(2, "e1"))
    await eventually(lambda: len(got) == 1)
    assert offsets(got) == [3]
    assert stream.reads == 0


async def test_duplicates_are_skipped_and_holes_filled_from_history(
    feed: Feed, stream: Stream
) -> None:
    channel, got, resets = feed
    channel.start(StreamPosition(0, "e1"))
    pubs = stream.add(6)
    for pub in (pubs[0], pubs[0], pubs[3], pubs[1], pubs[4], pubs[5]):
        channel.push(pub)
    await eventually(lambda: len(got) == 6)
    await asyncio.sleep(0.01)
    assert offsets(got) == [1, 2, 3, 4, 5, 6]
    assert resets == []


async def test_hole_beyond_history_resets_to_the_latest_position(
    feed: Feed, stream: Stream
) -> None:
    channel, got, resets = feed
    channel.start(StreamPosition(0, "e1"))
    pubs = stream.add(10)
    stream.retained_from = 6
    channel.push(pubs[0])
    channel.push(pubs[8])
    channel.push(pubs[9])
    stream.add(1)
    await eventually(lambda: resets == ["c"])
    channel.push(stream.pubs[10])
    await asyncio.sleep(0.01)
    assert offsets(got) == [1]  # after the reset at offset 11, nothing older is delivered
    assert channel.last == StreamPosition(11, "e1")


async def test_another_epoch_resets(feed: Feed, stream: Stream) -> None:
    channel, got, resets = feed
    channel.start(StreamPosition(3, "old"))
    channel.push(stream.add(1)[0])
    await eventually(lambda: resets == ["c"])
    channel.push(stream.add(1)[0])
    await eventually(lambda: len(got) == 1)
    assert [(p.offset, p.epoch) for p in got] == [(2, "e1")]


async def test_overflow_drops_arrivals_and_recovers_them(feed: Feed, stream: Stream) -> None:
    channel, got, resets = feed
    for pub in stream.add(20):
        channel.push(pub)  # not started: only four fit
    assert channel.pending == 4
    assert channel.overflows == 16
    channel.start(StreamPosition(0, "e1"))
    await eventually(lambda: len(got) == 20)
    assert offsets(got) == list(range(1, 21))
    assert resets == []


async def test_check_after_reconnect_retries_until_history_answers(
    feed: Feed, stream: Stream
) -> None:
    channel, got, _ = feed
    channel.start(StreamPosition(0, "e1"))
    stream.add(3)
    stream.failures = 3
    channel.check()
    await eventually(lambda: len(got) == 3)
    assert offsets(got) == [1, 2, 3]
    assert stream.reads == 4


async def test_closed_feed_ignores_arrivals(feed: Feed, stream: Stream) -> None:
    channel, got, _ = feed
    channel.start(StreamPosition(0, "e1"))
    channel.close()
    channel.push(stream.add(1)[0])
    channel.check()
    await asyncio.sleep(0.01)
    assert got == []


async def test_local_mode_delivers_at_once_ignores_the_stream_until_rejoined(
    feed: Feed, stream: Stream
) -> None:
    channel, got, resets = feed
    with pytest.raises(BrokerUnavailableError):
        channel.publish_local(b"too early")  # no position to continue from yet
    channel.start(StreamPosition(0, "e1"))
    pubs = stream.add(4)
    channel.push(pubs[0])
    channel.push(pubs[2])  # a hole: history cannot be read while Redis is down
    stream.failures = 100
    local = [channel.publish_local(b"L%d" % i) for i in range(2)]
    assert got == [pubs[0], *local]  # in sequence first, then ours, without waiting
    assert offsets(local) == [2, 3] and local[0].epoch == local[1].epoch != "e1"
    assert channel.diverged
    channel.push(pubs[3])
    channel.check()
    await asyncio.sleep(0.01)
    assert got == [pubs[0], *local] and resets == []
    stream.failures = 0
    stream.epoch = "e2"  # what the broker's bump does
    channel.rejoin()
    await eventually(lambda: resets == ["c"])
    assert not channel.diverged
    assert channel.last == StreamPosition(4, "e2")
