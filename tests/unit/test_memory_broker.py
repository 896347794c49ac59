"""InMemoryBroker specifics: expiry on its own clock, idle sweeps, synchronous delivery.

The `Broker` contract (offsets, history bounds, ordering, unsubscribe, close) is tested for
this broker and `RedisBroker` alike in tests/realtime/test_broker_contract.py.
"""

from __future__ import annotations

import pytest

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


async def test_every_handler_has_run_when_publish_returns(broker: InMemoryBroker) -> None:
    seen: list[tuple[str, int]] = []
    await broker.subscribe("a", lambda pub: seen.append(("first", pub.offset)))
    await broker.subscribe("a", lambda pub: seen.append(("second", pub.offset)))
    for offset in (1, 2, 3):
        await broker.publish("a", b"x")
        assert seen[-2:] == [("first", offset), ("second", offset)]
