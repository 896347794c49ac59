"""Hub: one broker subscription per channel per node, shared frames, recovery on resume."""

from __future__ import annotations

import asyncio

import pytest

from realtime.broker import Handler, HistoryResult, Publication, StreamPosition
from realtime.connection import Frame
from realtime.hub import Hub
from realtime.memory_broker import InMemoryBroker
from realtime.recovery import NeedsSnapshot, Recovered


class Conn:
    """An outbound that records what it is offered; `accept=False` acts like a full queue."""

    def __init__(self, *, accept: bool = True) -> None:
        self.frames: list[Frame] = []
        self.accept = accept

    def offer(self, frame: Frame) -> bool:
        if self.accept:
            self.frames.append(frame)
        return self.accept


class GatedBroker(InMemoryBroker):
    """Subscriptions wait for `gate`; optionally fail."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.fail = False

    async def subscribe(self, channel: str, handler: Handler) -> None:
        await self.gate.wait()
        if self.fail:
            raise ConnectionError("down")
        await super().subscribe(channel, handler)


class RacingBroker(InMemoryBroker):
    """Another client publishes while a history read is in flight."""

    async def history(self, channel: str, since_offset: int, limit: int) -> HistoryResult:
        result = await super().history(channel, since_offset, limit)
        await self.publish(channel, b"during")
        return result


@pytest.fixture
def broker() -> InMemoryBroker:
    return InMemoryBroker()


@pytest.fixture
def hub(broker: InMemoryBroker) -> Hub:
    return Hub(broker)


async def test_one_subscription_per_channel_and_same_frame_for_all(
    hub: Hub, broker: InMemoryBroker
) -> None:
    conns = [Conn() for _ in range(3)]
    for conn in conns:
        await hub.join("room", conn)
    assert broker.subscriber_count("room") == 1
    publication = await hub.publish("room", b"hello")
    assert publication.offset == 1
    assert all(conn.frames == [b"hello"] for conn in conns)
    assert conns[0].frames[0] is conns[2].frames[0]


async def test_last_leave_drops_channel_and_subscription(hub: Hub, broker: InMemoryBroker) -> None:
    a, b = Conn(), Conn()
    await hub.join("room", a)
    await hub.join("room", b)
    hub.leave("room", a)
    hub.leave("room", a)
    assert hub.channel_count == 1
    hub.leave("room", b)
    await hub.settle()
    assert hub.channel_count == 0
    assert broker.subscriber_count("room") == 0
    await hub.publish("room", b"nobody")
    assert b.frames == []


async def test_gauges_count_channels_connections_memberships(hub: Hub) -> None:
    a, b = Conn(), Conn()
    await hub.join("x", a)
    await hub.join("y", a)
    await hub.join("x", b)
    await hub.join("x", b)
    assert (hub.channel_count, hub.connection_count, hub.membership_count) == (2, 2, 3)
    assert sorted(hub.channels()) == ["x", "y"]
    assert hub.members("x") == (a, b)
    hub.leave_all(a)
    assert (hub.channel_count, hub.connection_count, hub.membership_count) == (1, 1, 1)
    assert hub.members("y") == ()


async def test_two_nodes_share_one_broker(broker: InMemoryBroker) -> None:
    node1, node2 = Hub(broker), Hub(broker)
    a, b = Conn(), Conn()
    await node1.join("room", a)
    await node2.join("room", b)
    await node1.publish("room", b"hi")
    assert a.frames == b.frames == [b"hi"]
    assert broker.subscriber_count("room") == 2


async def test_refusing_member_does_not_affect_others(hub: Hub) -> None:
    slow, fast = Conn(accept=False), Conn()
    await hub.join("room", slow)
    await hub.join("room", fast)
    await hub.publish("room", b"1")
    await hub.publish("room", b"2")
    assert fast.frames == [b"1", b"2"]
    assert (hub.frames_offered, hub.frames_refused) == (2, 2)


async def test_broadcast_local_skips_the_broker(hub: Hub, broker: InMemoryBroker) -> None:
    a, b = Conn(), Conn()
    await hub.join("room", a)
    await hub.join("room", b)
    frame = "typing"
    assert hub.broadcast_local("room", frame) == 2
    assert hub.broadcast_local("empty", frame) == 0
    assert a.frames[0] is b.frames[0] is frame
    assert (await broker.position("room")).offset == 0


async def test_render_runs_once_per_publication(broker: InMemoryBroker) -> None:
    calls: list[int] = []

    def render(pub: Publication) -> Frame:
        calls.append(pub.offset)
        return b"%d:" % pub.offset + pub.payload

    hub = Hub(broker, render=render)
    conns = [Conn() for _ in range(4)]
    for conn in conns:
        await hub.join("room", conn)
    await hub.publish("room", b"x")
    assert calls == [1]
    assert {conn.frames[0] for conn in conns} == {b"1:x"}


async def test_member_leaving_during_fan_out_is_harmless(hub: Hub) -> None:
    others = [Conn(), Conn()]

    class Leaver(Conn):
        def offer(self, frame: Frame) -> bool:
            hub.leave("room", self)
            return super().offer(frame)

    leaver = Leaver()
    await hub.join("room", leaver)
    for conn in others:
        await hub.join("room", conn)
    await hub.publish("room", b"x")
    assert [conn.frames for conn in others] == [[b"x"], [b"x"]]
    assert hub.members("room") == tuple(others)


async def test_concurrent_first_joins_subscribe_once() -> None:
    broker = GatedBroker()
    hub = Hub(broker)
    a, b = Conn(), Conn()
    joins = asyncio.gather(hub.join("room", a), hub.join("room", b))
    await asyncio.sleep(0)
    broker.gate.set()
    await joins
    assert broker.subscriber_count("room") == 1
    await hub.publish("room", b"x")
    assert a.frames == b.frames == [b"x"]


async def test_failed_subscription_leaves_no_membership() -> None:
    broker = GatedBroker()
    broker.fail = True
    broker.gate.set()
    hub = Hub(broker)
    with pytest.raises(ConnectionError):
        await hub.join("room", Conn())
    await hub.settle()
    assert (hub.channel_count, hub.connection_count) == (0, 0)


async def test_cancelled_join_cleans_up_and_unsubscribes() -> None:
    broker = GatedBroker()
    hub = Hub(broker)
    join = asyncio.create_task(hub.join("room", Conn()))
    await asyncio.sleep(0)
    join.cancel()
    with pytest.raises(asyncio.CancelledError):
        await join
    assert hub.channel_count == 0
    broker.gate.set()
    await hub.settle()
    assert broker.subscriber_count("room") == 0


async def test_rejoin_while_unsubscribing_still_delivers(hub: Hub, broker: InMemoryBroker) -> None:
    a = Conn()
    await hub.join("room", a)
    hub.leave("room", a)
    await hub.join("room", a)
    await hub.settle()
    await hub.publish("room", b"x")
    assert a.frames == [b"x"]
    assert broker.subscriber_count("room") == 1


async def test_resume_offers_missed_then_live(hub: Hub) -> None:
    first = await hub.publish("room", b"1")
    await hub.publish("room", b"2")
    await hub.publish("room", b"3")
    conn = Conn()
    outcome = await hub.resume("room", conn, first.position)
    assert isinstance(outcome, Recovered)
    assert outcome.position == StreamPosition(3, first.epoch)
    await hub.publish("room", b"4")
    assert conn.frames == [b"2", b"3", b"4"]


async def test_resume_merges_publications_made_during_history_read() -> None:
    hub = Hub(RacingBroker())
    watcher, conn = Conn(), Conn()
    await hub.join("room", watcher)
    first = await hub.publish("room", b"1")
    await hub.publish("room", b"2")
    outcome = await hub.resume("room", conn, first.position)
    assert isinstance(outcome, Recovered)
    assert conn.frames == [b"2", b"during"]
    assert watcher.frames == [b"1", b"2", b"during"]
    assert outcome.position.offset == 3


async def test_resume_after_epoch_change_needs_snapshot(hub: Hub) -> None:
    await hub.publish("room", b"1")
    conn = Conn()
    outcome = await hub.resume("room", conn, StreamPosition(1, "stale"))
    assert isinstance(outcome, NeedsSnapshot)
    assert conn.frames == []
    await hub.publish("room", b"2")
    assert conn.frames == [b"2"]


async def test_close_drops_everything(hub: Hub, broker: InMemoryBroker) -> None:
    await hub.join("x", Conn())
    await hub.join("y", Conn())
    await hub.close()
    assert (hub.channel_count, hub.connection_count) == (0, 0)
    assert broker.subscriber_count("x") == broker.subscriber_count("y") == 0
