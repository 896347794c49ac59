"""OutboundQueue and ConnectionWriter: byte bound, FIFO, slow consumers closed with 4008;
the on-demand writer and `read_until_stopped` (no task per idle connection)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime import connection
from realtime.connection import ConnectionWriter, Frame, OutboundQueue, frame_size
from realtime.errors import RealtimeError, SlowConsumerError, UnsupportedDataError
from realtime.sessions import read_until_stopped


class Recorder:
    """A `send` that records frames and can be made to block."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, frame: Frame) -> None:
        await self.gate.wait()
        self.frames.append(frame)


def test_frame_size_counts_bytes_and_bounds_text() -> None:
    assert frame_size(b"abc") == 3
    assert frame_size("abc") == 3
    assert frame_size("é") >= len("é".encode())


def test_fifo_and_pending_bytes() -> None:
    queue = OutboundQueue(max_bytes=10)
    assert queue.offer(b"abc")
    assert queue.offer("de")
    assert (len(queue), queue.pending_bytes) == (2, 5)
    assert queue.pop() == b"abc"
    assert queue.pop() == "de"
    assert queue.pop() is None
    assert queue.pending_bytes == 0


def test_overflow_marks_slow_and_discards() -> None:
    queue = OutboundQueue(max_bytes=4)
    assert queue.offer(b"abcd")
    assert not queue.offer(b"e")
    assert queue.slow
    assert queue.closed
    assert (len(queue), queue.pending_bytes) == (0, 0)
    assert not queue.offer(b"")


def test_oversized_frame_on_empty_queue_is_refused() -> None:
    queue = OutboundQueue(max_bytes=4)
    assert not queue.offer(b"abcde")
    assert queue.slow


def test_closed_queue_refuses_without_being_slow() -> None:
    queue = OutboundQueue(max_bytes=4)
    queue.close()
    assert not queue.offer(b"a")
    assert not queue.slow


def test_rejects_non_positive_bound() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        OutboundQueue(max_bytes=0)


async def test_get_waits_for_offer_and_ends_after_close() -> None:
    queue = OutboundQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.offer(b"x")
    assert await getter == b"x"
    queue.offer(b"y")
    queue.close()
    assert await queue.get() == b"y"
    assert await queue.get() is None


@given(
    st.integers(1, 64),
    st.lists(st.one_of(st.binary(max_size=40), st.text(max_size=20), st.none()), max_size=60),
)
def test_queue_never_exceeds_its_bound(bound: int, ops: list[bytes | str | None]) -> None:
    queue = OutboundQueue(max_bytes=bound)
    model: list[Frame] = []
    for op in ops:
        if op is None:
            assert queue.pop() == (model.pop(0) if model else None)
        elif queue.offer(op):
            model.append(op)
        else:
            assert queue.closed
            model.clear()
        assert queue.pending_bytes <= bound
        assert queue.pending_bytes == sum(map(frame_size, model))
        assert len(queue) == len(model)


async def test_writer_sends_in_order_and_ends_after_close() -> None:
    send = Recorder()
    writer = ConnectionWriter(send)
    task = writer.start()
    shared = b"same object"
    for frame in (b"a", shared, "c"):
        assert writer.offer(frame)
    writer.close()
    await task
    assert send.frames == [b"a", shared, "c"]
    assert send.frames[1] is shared
    assert not writer.offer(b"late")


async def test_writer_raises_slow_consumer_when_idle_queue_overflows() -> None:
    writer = ConnectionWriter(Recorder(), max_queue_bytes=2)
    task = writer.start()
    await asyncio.sleep(0)
    assert not writer.offer(b"abc")
    with pytest.raises(SlowConsumerError) as caught:
        await task
    assert caught.value.close_code == 4008
    assert writer.slow


async def test_writer_stuck_in_send_is_interrupted_on_overflow() -> None:
    send = Recorder()
    send.gate.clear()
    writer = ConnectionWriter(send, max_queue_bytes=4)
    task = writer.start()
    writer.offer(b"1234")
    await asyncio.sleep(0)
    assert writer.offer(b"abcd")
    assert not writer.offer(b"x")
    with pytest.raises(SlowConsumerError):
        await asyncio.wait_for(task, timeout=1)
    assert send.frames == []


async def test_external_cancel_still_cancels() -> None:
    send = Recorder()
    send.gate.clear()
    writer = ConnectionWriter(send, max_queue_bytes=4)
    task = writer.start()
    writer.offer(b"1234")
    await asyncio.sleep(0)
    task.cancel()
    writer.offer(b"abcd")
    writer.offer(b"overflow")
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_send_failure_propagates_and_closes_queue() -> None:
    async def broken(frame: Frame) -> None:
        raise ConnectionResetError

    writer = ConnectionWriter(broken)
    task = writer.start()
    writer.offer(b"x")
    with pytest.raises(ConnectionResetError):
        await task
    assert not writer.offer(b"y")
    assert not writer.slow


def test_catch_up_frames_do_not_count_against_the_bound() -> None:
    queue = OutboundQueue(max_bytes=4)
    assert queue.offer(b"a snapshot far bigger than the bound", catch_up=True)
    assert queue.offer(b"recovered backlog", catch_up=True)
    assert queue.pending_bytes == 0
    assert queue.offer(b"live")  # live frames still have the whole bound
    assert not queue.offer(b"x")
    assert queue.slow


async def test_writer_batches_up_to_a_bounded_size() -> None:
    send = Recorder()
    send.gate.clear()
    writer = ConnectionWriter(send, max_queue_bytes=1 << 20, join=b"\n".join)
    task = writer.start()
    writer.offer(b"first")
    await asyncio.sleep(0)  # the writer holds "first" in send()
    chunks = [bytes([65 + i]) * 30_000 for i in range(3)]
    for chunk in chunks:
        writer.offer(chunk)
    writer.close()
    send.gate.set()
    await task
    # Two 30 KB frames fit one 64 KB batch, the third goes in the next: in order, all there.
    assert send.frames == [b"first", chunks[0] + b"\n" + chunks[1], chunks[2]]


async def _until(predicate: Callable[[], bool]) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in 5 s")


async def test_on_demand_writer_has_no_task_while_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "IDLE_SECONDS", 0.05)
    send = Recorder()
    failures: list[BaseException] = []
    writer = ConnectionWriter(send, on_error=failures.append)
    assert not writer.running
    assert writer.offer(b"a") and writer.offer("b")
    assert writer.running
    await _until(lambda: send.frames == [b"a", "b"])
    await _until(lambda: not writer.running)  # retired after an idle period
    assert writer.offer(b"c")  # and started again by the next frame
    await _until(lambda: send.frames == [b"a", "b", b"c"])
    writer.close()
    await writer.drain(5)
    assert not writer.running
    assert failures == []


async def test_on_demand_writer_hands_send_failures_to_on_error() -> None:
    async def broken(frame: Frame) -> None:
        raise ConnectionResetError

    failures: list[BaseException] = []
    writer = ConnectionWriter(broken, on_error=failures.append)
    writer.offer(b"x")
    await _until(lambda: bool(failures))
    assert isinstance(failures[0], ConnectionResetError)
    assert not writer.offer(b"y")
    assert not writer.slow


async def test_on_demand_writer_stuck_in_send_is_interrupted_on_overflow() -> None:
    send = Recorder()
    send.gate.clear()
    writer = ConnectionWriter(send, max_queue_bytes=4, on_error=lambda exc: None)
    writer.offer(b"1234")
    await asyncio.sleep(0)  # the writer holds "1234" in send()
    assert writer.offer(b"abcd")
    assert not writer.offer(b"x")
    assert writer.slow
    await _until(lambda: not writer.running)
    assert send.frames == []


async def test_read_until_stopped_interrupts_the_read_in_this_task() -> None:
    stopped: asyncio.Future[RealtimeError] = asyncio.get_running_loop().create_future()
    blocked = asyncio.Event()

    async def read() -> None:
        await blocked.wait()

    asyncio.get_running_loop().call_soon(stopped.set_result, SlowConsumerError())
    error = await read_until_stopped(read(), stopped, name="test")
    assert isinstance(error, SlowConsumerError)
    await asyncio.sleep(0)  # this task is not left cancelled
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_read_until_stopped_returns_read_errors_and_none_when_the_client_leaves() -> None:
    loop = asyncio.get_running_loop()

    async def fails() -> None:
        raise UnsupportedDataError("send JSON")

    async def leaves() -> None:
        return None

    error = await read_until_stopped(fails(), loop.create_future(), name="test")
    assert isinstance(error, UnsupportedDataError)
    assert await read_until_stopped(leaves(), loop.create_future(), name="test") is None


async def test_read_until_stopped_lets_an_outside_cancel_through() -> None:
    stopped: asyncio.Future[RealtimeError] = asyncio.get_running_loop().create_future()

    async def session() -> RealtimeError | None:
        return await read_until_stopped(asyncio.Event().wait(), stopped, name="test")

    task = asyncio.create_task(session())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
