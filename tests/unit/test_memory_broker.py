"""InMemoryBroker: dense offsets, bounded history, epochs, ordered delivery."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.broker import Broker, Publication
from realtime.errors import BrokerUnavailableError
from realtime.memory_broker import SWEEP_INTERVAL, InMemoryBroker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def broker(clock: FakeClock) -> InMemoryBroker:
    return InMemoryBroker(history_size=5, history_ttl=60, meta_ttl=600, clock=clock)


def test_satisfies_broker_protocol(broker: InMemoryBroker) -> None:
    assert isinstance(broker, Broker)


@pytest.mark.parametrize(("size", "ttl", "meta_ttl"), [(-1, 60, 600), (5, 0, 600), (5, 60, 30)])
def test_rejects_bad_settings(size: int, ttl: float, meta_ttl: float) -> None:
    with pytest.raises(ValueError, match="history"):
        InMemoryBroker(history_size=size, history_ttl=ttl, meta_ttl=meta_ttl)


async def test_offsets_are_dense_per_channel_in_one_epoch(broker: InMemoryBroker) -> None:
    first = await broker.position("a")
    pubs = [await broker.publish("a", b"%d" % i) for i in range(3)]
    other = await broker.publish("b", b"x")
    assert first.offset == 0
    assert [p.offset for p in pubs] == [1, 2, 3]
    assert {p.epoch for p in pubs} == {first.epoch}
    assert other.offset == 1
    assert other.epoch != first.epoch
    assert await broker.position("a") == pubs[-1].position


async def test_history_since_offset_with_limit(broker: InMemoryBroker) -> None:
    for i in range(4):
        await broker.publish("a", b"%d" % i)
    result = await broker.history("a", since_offset=1, limit=2)
    assert [p.offset for p in result.publications] == [2, 3]
    assert result.offset == 4
    assert [p.payload for p in result.publications] == [b"1", b"2"]


async def test_history_of_unknown_channel_is_empty_with_an_epoch(broker: InMemoryBroker) -> None:
    result = await broker.history("nobody", since_offset=0, limit=10)
    assert result.publications == ()
    assert result.offset == 0
    assert result.epoch


async def test_history_is_capped_by_count(broker: InMemoryBroker) -> None:
    for i in range(8):
        await broker.publish("a", b"%d" % i)
    result = await broker.history("a", since_offset=0, limit=100)
    assert [p.offset for p in result.publications] == [4, 5, 6, 7, 8]


async def test_history_expires_by_age_but_epoch_survives(
    broker: InMemoryBroker, clock: FakeClock
) -> None:
    old = await broker.publish("a", b"old")
    clock.now += 30
    await broker.publish("a", b"new")
    clock.now += 31
    result = await broker.history("a", since_offset=0, limit=10)
    assert [p.payload for p in result.publications] == [b"new"]
    assert result.epoch == old.epoch
    assert result.offset == 2


async def test_epoch_changes_when_stream_expires(broker: InMemoryBroker, clock: FakeClock) -> None:
    old = await broker.publish("a", b"x")
    clock.now += 601
    position = await broker.position("a")
    assert position.epoch != old.epoch
    assert position.offset == 0


async def test_sweep_drops_idle_channels(broker: InMemoryBroker, clock: FakeClock) -> None:
    await broker.publish("idle", b"x")
    clock.now += 601 + SWEEP_INTERVAL
    await broker.publish("busy", b"y")
    assert broker.channel_count == 1


async def test_every_subscriber_gets_publications_in_offset_order(
    broker: InMemoryBroker,
) -> None:
    seen: dict[str, list[int]] = {"first": [], "second": []}
    await broker.subscribe("a", lambda pub: seen["first"].append(pub.offset))
    await broker.subscribe("a", lambda pub: seen["second"].append(pub.offset))
    await asyncio.gather(*(broker.publish("a", b"x") for _ in range(3)))
    assert seen == {"first": [1, 2, 3], "second": [1, 2, 3]}


async def test_failing_handler_does_not_stop_others(
    broker: InMemoryBroker, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[bytes] = []

    def boom(pub: Publication) -> None:
        raise RuntimeError("boom")

    await broker.subscribe("a", boom)
    await broker.subscribe("a", lambda pub: got.append(pub.payload))
    with caplog.at_level(logging.ERROR):
        await broker.publish("a", b"x")
    assert got == [b"x"]
    assert "handler failed" in caplog.text


async def test_unsubscribe_removes_one_handler(broker: InMemoryBroker) -> None:
    got: list[int] = []

    def handler(pub: Publication) -> None:
        got.append(pub.offset)

    await broker.subscribe("a", handler)
    await broker.subscribe("a", handler)
    await broker.unsubscribe("a", handler)
    await broker.unsubscribe("nope", handler)
    assert broker.subscriber_count("a") == 1
    await broker.publish("a", b"x")
    await broker.unsubscribe("a", handler)
    await broker.publish("a", b"y")
    assert got == [1]
    assert broker.subscriber_count("a") == 0


async def test_closed_broker_refuses_work(broker: InMemoryBroker) -> None:
    await broker.ping()
    await broker.close()
    with pytest.raises(BrokerUnavailableError) as caught:
        await broker.ping()
    assert caught.value.close_code == 1013
    with pytest.raises(BrokerUnavailableError):
        await broker.publish("a", b"x")
    with pytest.raises(BrokerUnavailableError):
        await broker.history("a", 0, 10)


@given(
    count=st.integers(0, 30),
    size=st.integers(0, 10),
    since=st.integers(-2, 35),
    limit=st.integers(0, 15),
)
def test_history_matches_a_simple_model(count: int, size: int, since: int, limit: int) -> None:
    async def scenario() -> None:
        broker = InMemoryBroker(history_size=size, history_ttl=60, meta_ttl=600)
        for i in range(count):
            await broker.publish("a", b"%d" % i)
        result = await broker.history("a", since_offset=since, limit=limit)
        retained = range(max(1, count - size + 1), count + 1)
        expected = [offset for offset in retained if offset > since][:limit]
        assert [p.offset for p in result.publications] == expected
        assert [p.payload for p in result.publications] == [b"%d" % (o - 1) for o in expected]
        assert result.offset == count

    asyncio.run(scenario())
