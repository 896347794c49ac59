"""RedisBroker on a real redis-server: many nodes, lost connections, restarts, bounded memory."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from brokerkit import (
    BrokerFactory,
    shared_redis,
    start_redis,
    stop_shared_redis,
    unique_prefix,
)
from redis.asyncio import Redis

from kits.redis_server import RedisServer
from kits.waiting import eventually
from realtime.broker import Publication
from realtime.errors import BrokerUnavailableError
from realtime.hub import Hub
from realtime.recovery import Recovered
from realtime.redis_broker import RedisBroker
from realtime.redis_scripts import ChannelKeys, FrameError, parse_frame

Brokers = Callable[..., RedisBroker]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The run's private redis-server."""
    yield shared_redis()
    stop_shared_redis()


@pytest.fixture
def own_redis_server() -> Iterator[RedisServer]:
    """A private redis-server for one test alone (for tests that kill or pause it)."""
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def redis_kit(redis_server: RedisServer) -> BrokerFactory:
    """Builds `RedisBroker`s on the run's redis-server."""
    return BrokerFactory("redis", redis_server.url)


@pytest.fixture
async def brokers(redis_kit: BrokerFactory) -> AsyncIterator[Brokers]:
    """Make `RedisBroker`s (nodes) on the session's Redis; all are closed after the test."""
    made: list[RedisBroker] = []

    def make(**settings: object) -> RedisBroker:
        made.append(redis_kit.redis(**settings))
        return made[-1]

    yield make
    for broker in made:
        await broker.close()


@pytest.fixture
async def admin(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A plain client for inspecting and disturbing the server."""
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


def offsets(pubs: list[Publication]) -> list[int]:
    return [p.offset for p in pubs]


@pytest.mark.parametrize("sharded", [True, False], ids=["sharded", "classic"])
async def test_two_nodes_see_each_others_publications_in_order(
    brokers: Brokers, sharded: bool
) -> None:
    prefix = unique_prefix()
    node_a, node_b = (brokers(key_prefix=prefix, sharded=sharded) for _ in range(2))
    seen_a: list[Publication] = []
    seen_b: list[Publication] = []
    await node_a.subscribe("room", seen_a.append)
    await node_b.subscribe("room", seen_b.append)
    published = await asyncio.gather(
        *(
            node.publish("room", b"%s%d" % (name, i))
            for i in range(50)
            for name, node in ((b"a", node_a), (b"b", node_b))
        )
    )
    await eventually(lambda: len(seen_a) == len(seen_b) == 100, what="100 on both nodes")
    assert offsets(seen_a) == offsets(seen_b) == list(range(1, 101))
    assert seen_a == seen_b == sorted(published, key=lambda p: p.offset)


async def test_publishes_beyond_the_pool_size_wait_for_a_connection(brokers: Brokers) -> None:
    node = brokers(max_connections=3)
    seen: list[Publication] = []
    await node.subscribe("room", seen.append)  # holds one of the three connections
    published = await asyncio.gather(*(node.publish("room", b"x") for _ in range(300)))
    assert sorted(p.offset for p in published) == list(range(1, 301))
    await eventually(lambda: len(seen) == 300, what="300 deliveries")
    assert offsets(seen) == list(range(1, 301))


async def test_one_publish_per_event_whatever_the_subscribers(
    brokers: Brokers, admin: Redis
) -> None:
    prefix = unique_prefix()
    nodes = [brokers(key_prefix=prefix) for _ in range(3)]
    for node in nodes:
        for _ in range(5):
            await node.subscribe("room", lambda pub: None)
    key = ChannelKeys.for_channel(prefix, "room").pubsub
    counts = await admin.execute_command("PUBSUB", "SHARDNUMSUB", key)
    assert counts == [key, 3]  # one Redis subscription per node, not per handler
    before = await _command_calls(admin)
    await nodes[0].publish("room", b"x")
    after = await _command_calls(admin)
    assert after.get("evalsha", 0) - before.get("evalsha", 0) == 1
    assert after.get("spublish", 0) - before.get("spublish", 0) == 1


@pytest.mark.parametrize("sharded", [True, False], ids=["sharded", "classic"])
async def test_a_publish_says_how_many_nodes_it_reached(brokers: Brokers, sharded: bool) -> None:
    prefix = unique_prefix()
    nodes = [brokers(key_prefix=prefix, sharded=sharded) for _ in range(3)]
    assert (await nodes[0].publish("doc", b"x")).receivers == 0
    for node in nodes[1:]:
        for _ in range(2):  # handlers share their node's one subscription
            await node.subscribe("doc", lambda pub: None)
    assert (await nodes[0].publish("doc", b"y")).receivers == 2
    await nodes[0].subscribe("doc", lambda pub: None)
    assert (await nodes[1].publish("doc", b"z")).receivers == 3


async def _command_calls(admin: Redis) -> dict[str, int]:
    stats = await admin.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


async def test_dropped_connection_is_resubscribed_and_the_gap_recovered(
    brokers: Brokers, admin: Redis
) -> None:
    prefix = unique_prefix()
    resets: list[str] = []
    node_a = brokers(key_prefix=prefix, on_reset=resets.append, reconnect_min_delay=0.2)
    node_b = brokers(key_prefix=prefix)
    seen: list[Publication] = []
    await node_a.subscribe("room", seen.append)
    for i in range(3):
        await node_b.publish("room", b"before %d" % i)
    await eventually(lambda: len(seen) == 3, what="first three")
    await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    for i in range(5):  # the subscription is gone: these only reach the stream
        await node_b.publish("room", b"during %d" % i)
    await eventually(lambda: len(seen) == 8, what="the five missed, from the stream")
    assert node_a.reconnects == 1
    for i in range(3):
        await node_b.publish("room", b"after %d" % i)
    await eventually(lambda: len(seen) == 11, what="all eleven")
    assert offsets(seen) == list(range(1, 12))
    assert [p.payload for p in seen[3:8]] == [b"during %d" % i for i in range(5)]
    assert resets == []
    await node_a.ping()


async def test_gap_longer_than_history_resets_the_channel(brokers: Brokers, admin: Redis) -> None:
    prefix = unique_prefix()
    resets: list[str] = []
    node_a = brokers(
        key_prefix=prefix, history_size=3, on_reset=resets.append, reconnect_min_delay=0.2
    )
    node_b = brokers(key_prefix=prefix, history_size=3)
    later: list[str] = []

    def failing(channel: str) -> None:
        raise RuntimeError(channel)

    node_a.add_reset_listener(failing)  # a failing listener does not stop the next one
    node_a.add_reset_listener(later.append)
    seen: list[Publication] = []
    await node_a.subscribe("room", seen.append)
    await node_b.publish("room", b"first")
    await eventually(lambda: len(seen) == 1, what="first")
    await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    for i in range(10):
        await node_b.publish("room", b"lost %d" % i)
    await eventually(lambda: resets == ["room"] and later == ["room"], what="every listener")
    await node_b.publish("room", b"next")
    await eventually(lambda: len(seen) == 2, what="delivery after the reset")
    assert [(p.offset, p.payload) for p in seen] == [(1, b"first"), (12, b"next")]
    assert node_a.reset_count == 1


async def test_redis_restart_changes_epoch_fires_on_reset_and_delivery_resumes(
    own_redis_server: RedisServer,
) -> None:
    kit = BrokerFactory("redis", own_redis_server.url)
    resets: list[str] = []
    node_a = kit.redis(key_prefix="restart", on_reset=resets.append, timeout=1.0)
    node_b = kit.redis(key_prefix="restart", timeout=1.0)
    seen: list[Publication] = []
    try:
        await node_a.subscribe("room", seen.append)
        for i in range(3):
            await node_b.publish("room", b"%d" % i)
        await eventually(lambda: len(seen) == 3, what="first three")
        old_epoch = seen[0].epoch

        own_redis_server.kill()
        with pytest.raises(BrokerUnavailableError):
            await node_a.ping()
        with pytest.raises(BrokerUnavailableError):
            await node_b.publish("room", b"nowhere")
        await eventually(lambda: not node_a.connected, what="subscriber down")
        with pytest.raises(BrokerUnavailableError):
            await node_a.subscribe("other", seen.append)

        own_redis_server.start()
        await _until_ready(node_a)
        await _until_ready(node_b)  # and node B has given "room" (published nowhere) an epoch
        assert node_b.gauges()["epoch_bumps"] == 1
        await eventually(lambda: resets[:1] == ["room"], what="on_reset after history loss")
        for i in range(2):
            await node_b.publish("room", b"new %d" % i)
        await eventually(lambda: len(seen) == 5, what="delivery in the new epoch")
        assert offsets(seen) == [1, 2, 3, 1, 2]
        assert seen[3].epoch == seen[4].epoch != old_epoch
    finally:
        await node_a.close()
        await node_b.close()


@pytest.mark.parametrize("outage", ["pause", "restart"])
async def test_outage_serves_subscribed_channels_locally_then_every_node_resets(
    own_redis_server: RedisServer, outage: str
) -> None:
    kit = BrokerFactory("redis", own_redis_server.url)
    resets_a: list[str] = []
    resets_b: list[str] = []
    node_a = kit.redis(key_prefix="outage", on_reset=resets_a.append, timeout=0.5)
    node_b = kit.redis(key_prefix="outage", on_reset=resets_b.append, timeout=0.5)
    seen_a: list[Publication] = []
    seen_b: list[Publication] = []
    try:
        await node_a.subscribe("room", seen_a.append)
        await node_b.subscribe("room", seen_b.append)
        for i in range(2):
            await node_b.publish("room", b"%d" % i)
        await eventually(lambda: len(seen_a) == 2, what="first two")
        epoch = seen_a[0].epoch

        if outage == "pause":
            own_redis_server.pause()
        else:
            own_redis_server.kill()
        local = [await node_a.publish("room", b"local %d" % i) for i in range(3)]
        # Delivered here at once, continuing the offsets under a local epoch; not elsewhere.
        assert seen_a[2:] == local
        assert [p.offset for p in local] == [3, 4, 5]
        assert len({p.epoch for p in local}) == 1 and local[0].epoch != epoch
        assert node_a.degraded and node_a.gauges()["local_publishes"] == 3
        with pytest.raises(BrokerUnavailableError):
            await node_a.ping()
        # A reader at the local position recovers; one behind it needs a snapshot.
        history = await node_a.history("room", 5, 100)
        assert history.position == local[-1].position and history.publications == ()
        with pytest.raises(BrokerUnavailableError):
            await node_a.publish("never-subscribed", b"x")
        assert len(seen_b) == 2

        if outage == "pause":
            own_redis_server.resume()
        else:
            own_redis_server.start()
        await _until_ready(node_a)
        # Both nodes reset "room": node A diverged, node B misses what A published alone.
        await eventually(lambda: "room" in resets_a and "room" in resets_b, what="resets")
        await _until_ready(node_b)
        await node_b.publish("room", b"after")
        await eventually(lambda: seen_a[-1].payload == b"after", what="live again on A")
        await eventually(lambda: seen_b[-1].payload == b"after", what="live again on B")
        assert seen_a[-1].position == seen_b[-1].position
        assert seen_a[-1].epoch not in (epoch, local[0].epoch)
    finally:
        await node_a.close()
        await node_b.close()


async def _until_ready(broker: RedisBroker) -> None:
    async def ready() -> bool:
        try:
            await broker.ping()
        except BrokerUnavailableError:
            return False
        return True

    await eventually(ready, within=15, what="broker ready again")


async def burst(url: str, prefix: str, items: list[tuple[str, bytes]]) -> None:
    """Publish `items` in order from another thread and event loop (another node), at full
    speed even while this loop is busy in handlers, so arrivals really pile up here."""

    async def run() -> None:
        node = RedisBroker(url, key_prefix=prefix)
        try:
            for channel, payload in items:
                await node.publish(channel, payload)
        finally:
            await node.close()

    await asyncio.to_thread(asyncio.run, run())


async def test_slow_handler_on_one_channel_does_not_delay_another(
    brokers: Brokers, redis_server: RedisServer
) -> None:
    prefix = unique_prefix()
    node = brokers(key_prefix=prefix)
    slow_done: list[int] = []
    slow_done_when_fast_arrived: list[int] = []

    def slow(pub: Publication) -> None:
        time.sleep(0.01)  # a handler that misbehaves: it blocks the loop for 10 ms
        slow_done.append(pub.offset)

    await node.subscribe("slow", slow)
    await node.subscribe("fast", lambda pub: slow_done_when_fast_arrived.append(len(slow_done)))
    await burst(redis_server.url, prefix, [("slow", b"x")] * 100 + [("fast", b"y")])
    await eventually(lambda: bool(slow_done_when_fast_arrived), what="fast delivery")
    assert slow_done_when_fast_arrived[0] < 50
    await eventually(lambda: len(slow_done) == 100, what="all slow deliveries")
    assert slow_done == list(range(1, 101))


async def test_queue_overflow_is_bounded_and_recovered_from_history(
    brokers: Brokers, redis_server: RedisServer
) -> None:
    prefix = unique_prefix()
    node = brokers(key_prefix=prefix, queue_size=4)
    seen: list[int] = []

    def slowish(pub: Publication) -> None:
        time.sleep(0.002)
        seen.append(pub.offset)

    await node.subscribe("room", slowish)
    await burst(redis_server.url, prefix, [("room", b"x")] * 60)
    await eventually(lambda: len(seen) == 60, what="sixty deliveries")
    assert seen == list(range(1, 61))
    assert node.overflow_count > 0
    assert node.reset_count == 0


async def test_stream_is_capped_and_keys_expire(brokers: Brokers, admin: Redis) -> None:
    prefix = unique_prefix()
    node = brokers(key_prefix=prefix, history_size=10, history_ttl=30, meta_ttl=120)
    for i in range(600):
        await node.publish("room", b"%d" % i)
    keys = ChannelKeys.for_channel(prefix, "room")
    assert 10 <= await admin.xlen(keys.history) <= 10 + 200  # MAXLEN ~ trims whole nodes
    history = await node.history("room", since_offset=0, limit=100)
    assert offsets(list(history.publications)) == list(range(591, 601))
    assert 0 < await admin.pttl(keys.history) <= 30_000
    assert 30_000 < await admin.pttl(keys.meta) <= 120_000


async def test_history_expires_by_age_but_epoch_survives(brokers: Brokers) -> None:
    node = brokers(history_ttl=1.0, meta_ttl=60)
    old = await node.publish("a", b"old")
    await asyncio.sleep(0.6)
    await node.publish("a", b"new")
    await asyncio.sleep(0.6)  # "old" is now 1.2 s old, "new" 0.6 s
    result = await node.history("a", since_offset=0, limit=10)
    assert [p.payload for p in result.publications] == [b"new"]
    assert result.epoch == old.epoch
    assert result.offset == 2


async def test_lost_meta_starts_a_new_epoch_and_a_fresh_stream(
    brokers: Brokers, admin: Redis
) -> None:
    prefix = unique_prefix()
    node = brokers(key_prefix=prefix)
    old = [await node.publish("a", b"%d" % i) for i in range(3)]
    await admin.delete(ChannelKeys.for_channel(prefix, "a").meta)  # as if expired or evicted
    fresh = await node.publish("a", b"fresh")
    assert (fresh.offset, fresh.epoch != old[0].epoch) == (1, True)
    history = await node.history("a", since_offset=0, limit=10)
    assert [p.payload for p in history.publications] == [b"fresh"]


async def test_unsubscribe_and_close_leave_nothing_behind(brokers: Brokers, admin: Redis) -> None:
    prefix = unique_prefix()
    baseline = len(await admin.client_list())
    node = brokers(key_prefix=prefix)
    key = ChannelKeys.for_channel(prefix, "room").pubsub
    handler: Callable[[Publication], None] = lambda pub: None  # noqa: E731
    await node.subscribe("room", handler)
    await node.unsubscribe("room", handler)
    assert node.channel_count == 0
    assert await admin.execute_command("PUBSUB", "SHARDNUMSUB", key) == [key, 0]
    await node.subscribe("room", handler)  # then drop it and subscribe again at once:
    await asyncio.gather(node.unsubscribe("room", handler), node.subscribe("room", handler))
    assert await admin.execute_command("PUBSUB", "SHARDNUMSUB", key) == [key, 1]
    await node.publish("room", b"x")
    assert len(await admin.client_list()) > baseline
    await node.close()
    assert node.channel_count == 0

    async def connections_closed() -> bool:
        return len(await admin.client_list()) == baseline

    await eventually(connections_closed, what="connections closed")
    assert await admin.execute_command("PUBSUB", "SHARDNUMSUB", key) == [key, 0]


async def test_hubs_on_two_nodes_share_a_channel(brokers: Brokers) -> None:
    prefix = unique_prefix()
    hub_a, hub_b = Hub(brokers(key_prefix=prefix)), Hub(brokers(key_prefix=prefix))
    frames: list[bytes] = []

    class Conn:
        def offer(self, frame: bytes | str) -> bool:
            frames.append(frame if isinstance(frame, bytes) else frame.encode())
            return True

    conn = Conn()
    await hub_a.join("room", conn)
    first = await hub_b.publish("room", b"hello from b")
    await eventually(lambda: frames == [b"hello from b"], what="cross-node fan-out")
    hub_a.leave("room", conn)
    await hub_a.settle()
    await hub_b.publish("room", b"missed")
    late = Conn()
    outcome = await hub_a.resume("room", late, first.position)
    assert isinstance(outcome, Recovered)
    assert frames == [b"hello from b", b"missed"]
    await hub_a.close()
    await hub_b.close()


@pytest.mark.parametrize(
    "settings",
    [
        {"queue_size": 0},
        {"reconnect_min_delay": 0},
        {"reconnect_min_delay": 2, "reconnect_max_delay": 1},
        {"ping_interval": 0},
        {"timeout": 0},
        {"max_connections": 1},
    ],
)
def test_rejects_bad_connection_settings(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="need"):
        RedisBroker("redis://127.0.0.1:1/0", **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("frame", [b"", b"1", b"x:e:p", b"1::p", b":e:p"])
def test_malformed_frames_are_rejected(frame: bytes) -> None:
    with pytest.raises(FrameError):
        parse_frame("room", frame)


def test_frame_keeps_colons_in_the_payload() -> None:
    assert parse_frame("room", b"12:ab:c:d:") == Publication("room", 12, "ab", b"c:d:")


async def test_silent_connection_is_detected_by_ping_and_replaced(
    own_redis_server: RedisServer,
) -> None:
    kit = BrokerFactory("redis", own_redis_server.url)
    node_a = kit.redis(key_prefix="pause", ping_interval=0.1, timeout=0.5)
    node_b = kit.redis(key_prefix="pause")
    admin = Redis.from_url(own_redis_server.url)
    seen: list[Publication] = []
    try:
        await node_a.subscribe("room", seen.append)
        await admin.execute_command("CLIENT", "PAUSE", 1500, "ALL")  # nobody gets answers
        await eventually(lambda: not node_a.connected, what="silence noticed")
        await node_b.publish("room", b"after the pause")  # waits for the pause to end
        await eventually(lambda: len(seen) == 1, what="delivery after reconnect")
        assert node_a.reconnects >= 1
        assert seen[0].offset == 1
    finally:
        await node_a.close()
        await node_b.close()
        await admin.aclose()
