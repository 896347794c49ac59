"""The `Broker` contract, run against every broker: in memory and over a real Redis.

Dense offsets per channel within an epoch, bounded history, ordered delivery to every handler.
Delivery may be asynchronous (Redis), so tests wait for it instead of assuming it is done when
`publish` returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from brokerkit import BrokerFactory, shared_redis, stop_shared_redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kits.redis_server import RedisServer
from kits.waiting import eventually
from realtime.broker import Broker, Publication
from realtime.errors import BrokerUnavailableError


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The run's private redis-server."""
    yield shared_redis()
    stop_shared_redis()


@pytest.fixture(scope="session", params=["memory", "redis"])
def make_broker(request: pytest.FixtureRequest) -> BrokerFactory:
    """A factory of brokers, once in memory and once over the private Redis."""
    if request.param == "redis":
        return BrokerFactory("redis", request.getfixturevalue("redis_server").url)
    return BrokerFactory("memory")


@pytest.fixture
async def broker(make_broker: BrokerFactory) -> AsyncIterator[Broker]:
    """A broker with small history (5 entries, 60 s), closed after the test."""
    made = make_broker(history_size=5, history_ttl=60, meta_ttl=600)
    yield made
    await made.close()


def test_satisfies_broker_protocol(broker: Broker) -> None:
    assert isinstance(broker, Broker)


async def test_gauges_say_connected_and_not_degraded(broker: Broker) -> None:
    seen: list[Publication] = []
    await broker.subscribe("g", seen.append)
    await broker.publish("g", b"x")
    await eventually(lambda: len(seen) == 1, what="delivery")
    await eventually(lambda: broker.gauges()["connected"] == 1.0, what="connected")
    assert broker.gauges()["degraded"] == 0.0
    assert all(isinstance(v, float) for v in broker.gauges().values())


async def test_a_publish_counts_this_node_once_whatever_its_handlers(broker: Broker) -> None:
    assert (await broker.publish("count", b"x")).receivers == 0
    await broker.subscribe("count", lambda pub: None)
    await broker.subscribe("count", lambda pub: None)
    assert (await broker.publish("count", b"y")).receivers == 1


async def test_reset_listeners_are_kept_removed_and_quiet_without_a_loss(broker: Broker) -> None:
    kept: list[str] = []
    removed: list[str] = []
    broker.add_reset_listener(kept.append)
    broker.add_reset_listener(removed.append)
    broker.remove_reset_listener(removed.append)
    broker.remove_reset_listener(removed.append)  # no longer known: ignored
    seen: list[Publication] = []
    await broker.subscribe("r", seen.append)
    for i in range(8):  # more than the history holds, but nothing is lost to a subscriber
        await broker.publish("r", b"%d" % i)
    await eventually(lambda: len(seen) == 8, what="every publication")
    assert kept == removed == []


@pytest.mark.parametrize(("size", "ttl", "meta_ttl"), [(-1, 60, 600), (5, 0, 600), (5, 60, 30)])
def test_rejects_bad_settings(
    make_broker: BrokerFactory, size: int, ttl: float, meta_ttl: float
) -> None:
    with pytest.raises(ValueError, match="history"):
        make_broker(history_size=size, history_ttl=ttl, meta_ttl=meta_ttl)


async def test_offsets_are_dense_per_channel_in_one_epoch(broker: Broker) -> None:
    first = await broker.position("a")
    pubs = [await broker.publish("a", b"%d" % i) for i in range(3)]
    other = await broker.publish("b", b"x")
    assert first.offset == 0
    assert [p.offset for p in pubs] == [1, 2, 3]
    assert {p.epoch for p in pubs} == {first.epoch}
    assert other.offset == 1
    assert other.epoch != first.epoch
    assert await broker.position("a") == pubs[-1].position


async def test_concurrent_publishes_get_distinct_dense_offsets(broker: Broker) -> None:
    pubs = await asyncio.gather(*(broker.publish("a", b"%d" % i) for i in range(20)))
    assert sorted(p.offset for p in pubs) == list(range(1, 21))


async def test_position_of_a_new_channel_is_stable(broker: Broker) -> None:
    first = await broker.position("new")
    assert first == await broker.position("new")
    assert first.offset == 0
    assert first.epoch


async def test_history_since_offset_with_limit(broker: Broker) -> None:
    for i in range(4):
        await broker.publish("a", b"%d" % i)
    result = await broker.history("a", since_offset=1, limit=2)
    assert [p.offset for p in result.publications] == [2, 3]
    assert result.offset == 4
    assert [p.payload for p in result.publications] == [b"1", b"2"]
    assert {p.channel for p in result.publications} == {"a"}


async def test_history_with_zero_limit_or_offset_past_latest_is_empty(broker: Broker) -> None:
    await broker.publish("a", b"x")
    assert (await broker.history("a", since_offset=0, limit=0)).publications == ()
    past = await broker.history("a", since_offset=7, limit=10)
    assert past.publications == ()
    assert past.offset == 1


async def test_history_of_unknown_channel_is_empty_with_an_epoch(broker: Broker) -> None:
    result = await broker.history("nobody", since_offset=0, limit=10)
    assert result.publications == ()
    assert result.offset == 0
    assert result.epoch


async def test_history_is_capped_by_count(broker: Broker) -> None:
    for i in range(8):
        await broker.publish("a", b"%d" % i)
    result = await broker.history("a", since_offset=0, limit=100)
    assert [p.offset for p in result.publications] == [4, 5, 6, 7, 8]


@pytest.mark.parametrize(
    "payload", [b"", b"plain", b"with:colons:1:abc", b"\x00\xff\r\n binary", "é€".encode()]
)
async def test_payload_bytes_survive_exactly(broker: Broker, payload: bytes) -> None:
    got: list[Publication] = []
    await broker.subscribe("a", got.append)
    published = await broker.publish("a", payload)
    await eventually(lambda: len(got) == 1, what="delivery")
    history = await broker.history("a", since_offset=0, limit=10)
    assert published.payload == got[0].payload == history.publications[0].payload == payload
    assert got[0] == published == history.publications[0]


async def test_every_subscriber_gets_publications_in_offset_order(broker: Broker) -> None:
    seen: dict[str, list[int]] = {"first": [], "second": []}
    await broker.subscribe("a", lambda pub: seen["first"].append(pub.offset))
    await broker.subscribe("a", lambda pub: seen["second"].append(pub.offset))
    await asyncio.gather(*(broker.publish("a", b"x") for _ in range(3)))
    await eventually(lambda: len(seen["second"]) == 3, what="three deliveries")
    assert seen == {"first": [1, 2, 3], "second": [1, 2, 3]}


async def test_channels_are_delivered_separately_in_order(broker: Broker) -> None:
    seen: dict[str, list[tuple[str, int]]] = {"a": [], "b": []}
    for name in seen:
        await broker.subscribe(
            name, lambda pub: seen[pub.channel].append((pub.channel, pub.offset))
        )
    for i in range(10):
        await broker.publish("ab"[i % 2], b"x")
    await eventually(lambda: len(seen["a"]) == len(seen["b"]) == 5, what="ten deliveries")
    assert seen["a"] == [("a", n) for n in range(1, 6)]
    assert seen["b"] == [("b", n) for n in range(1, 6)]


async def test_failing_handler_does_not_stop_others(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[bytes] = []

    def boom(pub: Publication) -> None:
        raise RuntimeError("boom")

    await broker.subscribe("a", boom)
    await broker.subscribe("a", lambda pub: got.append(pub.payload))
    with caplog.at_level(logging.ERROR):
        await broker.publish("a", b"x")
        await broker.publish("a", b"y")
        await eventually(lambda: len(got) == 2, what="deliveries past a failing handler")
    assert got == [b"x", b"y"]
    assert "handler failed" in caplog.text


async def test_unsubscribe_removes_one_handler(broker: Broker) -> None:
    got: list[int] = []
    witness: list[Publication] = []

    def handler(pub: Publication) -> None:
        got.append(pub.offset)

    await broker.subscribe("a", witness.append)
    await broker.subscribe("a", handler)
    await broker.subscribe("a", handler)
    await broker.unsubscribe("a", handler)
    await broker.unsubscribe("nope", handler)
    assert broker.subscriber_count("a") == 2
    await broker.publish("a", b"x")
    await eventually(lambda: len(witness) == 1, what="first delivery")
    await broker.unsubscribe("a", handler)
    await broker.publish("a", b"y")
    await eventually(lambda: len(witness) == 2, what="second delivery")
    assert got == [1]
    assert broker.subscriber_count("a") == 1


async def test_last_unsubscribe_then_subscribe_again(broker: Broker) -> None:
    got: list[Publication] = []
    await broker.subscribe("a", got.append)
    await broker.unsubscribe("a", got.append)
    await broker.publish("a", b"unseen")
    again: list[Publication] = []
    await broker.subscribe("a", again.append)
    await broker.publish("a", b"seen")
    await eventually(lambda: bool(again), what="delivery after resubscribing")
    assert [p.payload for p in again] == [b"seen"]
    assert got == []


async def test_concurrent_subscribes_and_quick_resubscribe(broker: Broker) -> None:
    first: list[Publication] = []
    second: list[Publication] = []
    await asyncio.gather(broker.subscribe("a", first.append), broker.subscribe("a", second.append))
    await broker.publish("a", b"both")
    await eventually(lambda: len(first) == len(second) == 1, what="delivery to both")
    await broker.unsubscribe("a", second.append)
    third: list[Publication] = []
    await asyncio.gather(broker.unsubscribe("a", first.append), broker.subscribe("a", third.append))
    await broker.publish("a", b"third only")
    await eventually(lambda: len(third) == 1, what="delivery after a quick resubscribe")
    assert [p.payload for p in third] == [b"third only"]
    assert len(first) == len(second) == 1


async def test_closed_broker_refuses_work(broker: Broker) -> None:
    await broker.ping()
    await broker.close()
    with pytest.raises(BrokerUnavailableError) as caught:
        await broker.ping()
    assert caught.value.close_code == 1013
    with pytest.raises(BrokerUnavailableError):
        await broker.publish("a", b"x")
    with pytest.raises(BrokerUnavailableError):
        await broker.history("a", 0, 10)
    with pytest.raises(BrokerUnavailableError):
        await broker.subscribe("a", lambda pub: None)
    await broker.close()  # idempotent


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(0, 30),
    size=st.integers(0, 10),
    since=st.integers(-2, 35),
    limit=st.integers(0, 15),
)
def test_history_matches_a_simple_model(
    make_broker: BrokerFactory, count: int, size: int, since: int, limit: int
) -> None:
    async def scenario() -> None:
        broker = make_broker(history_size=size, history_ttl=60, meta_ttl=600)
        try:
            for i in range(count):
                await broker.publish("a", b"%d" % i)
            result = await broker.history("a", since_offset=since, limit=limit)
        finally:
            await broker.close()
        retained = range(max(1, count - size + 1), count + 1)
        expected = [offset for offset in retained if offset > since][:limit]
        assert [p.offset for p in result.publications] == expected
        assert [p.payload for p in result.publications] == [b"%d" % (o - 1) for o in expected]
        assert result.offset == count

    asyncio.run(scenario())
