"""The lean REMB estimator must give the publisher exactly the estimates aiortc's would."""

from __future__ import annotations

import random

import pytest
from aiortc import RTCPeerConnection
from aiortc.rate import InterArrival, RateCounter, RemoteBitrateEstimator

from media.fastpath import remb


def arrivals(seed: int, seconds: int = 40) -> list[tuple[int, int, int]]:
    """(arrival ms, abs-send-time, size) for 30 fps video with jitter and a congested stretch."""
    rnd = random.Random(seed)
    out = []
    queue_ms = 0.0
    sent = 0.0
    for frame in range(30 * seconds):
        sent += rnd.choice([1 / 15, 1 / 30, 1 / 30, 1 / 60])  # the frame rate varies
        congested = 10 * 30 <= frame < 16 * 30
        queue_ms = queue_ms + 1.5 if congested else max(0.0, queue_ms - 3)
        for i in range(rnd.choice([1, 2, 3, 4])):
            at = (sent + 0.0005 * i) * 1000 + queue_ms + rnd.random() * 4
            abs_send = int((sent + 0.0005 * i) * (1 << 18)) & 0xFFFFFF
            out.append((int(at), abs_send, rnd.randint(600, 1200)))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_lean_estimator_gives_aiortcs_estimates(seed: int) -> None:
    stock, lean = RemoteBitrateEstimator(), remb.lean_estimator()
    assert isinstance(lean.estimator, remb.LeanOveruseEstimator)
    assert isinstance(lean.incoming_bitrate, remb.LeanRateCounter)
    assert isinstance(lean.inter_arrival, remb.LeanInterArrival)
    estimates = []
    for at, abs_send, size in arrivals(seed):
        ours = lean.add(arrival_time_ms=at, abs_send_time=abs_send, payload_size=size, ssrc=7)
        theirs = stock.add(arrival_time_ms=at, abs_send_time=abs_send, payload_size=size, ssrc=7)
        assert ours == theirs
        assert lean.estimator.var_noise == stock.estimator.var_noise  # exact, not close
        if ours is not None:
            estimates.append(ours[0])
    assert len(set(estimates)) > 5  # the estimate moved: the filter was exercised
    assert lean.estimator.ts_delta_hist == stock.estimator.ts_delta_hist


@pytest.mark.parametrize("seed", range(8))
def test_the_lean_inter_arrival_groups_as_aiortcs(seed: int) -> None:
    """Send times that wrap, repeat, go back and jump; arrivals in bursts and gaps."""
    rnd = random.Random(seed)
    stock = InterArrival((5 << 26) // 1000, 1000.0 / (1 << 26))
    lean = remb.LeanInterArrival(stock.group_length, stock.timestamp_to_ms)
    timestamp = rnd.randint(0, 0xFFFFFFFF)
    arrival = rnd.randint(0, 10**6)
    one_ms = round(1 / stock.timestamp_to_ms)
    for step in range(6000):
        ms = rnd.choice([0, 0, 1, 2, 5, 6, 33])  # send-time steps, mostly whole milliseconds
        jump = rnd.choice([0] * 12 + [1, stock.group_length, -one_ms, 2**31, 2**31 + 5])
        timestamp = (timestamp + ms * one_ms + jump) & 0xFFFFFFFF
        arrival += ms + rnd.choice([0, 0, 0, 1, -1, 3, 20])  # on time, late, early, bursts
        size = rnd.randint(50, 1200)
        ours = lean.compute_deltas(timestamp, arrival, size)
        theirs = stock.compute_deltas(timestamp, arrival, size)
        assert (ours is None) == (theirs is None), f"step {step}"
        if ours is not None and theirs is not None:
            assert vars(ours) == vars(theirs), f"step {step}"
        for group in ("current_group", "previous_group"):
            mine, stocks = getattr(lean, group), getattr(stock, group)
            assert (None if mine is None else vars(mine)) == (
                None if stocks is None else vars(stocks)
            ), f"step {step}"


@pytest.mark.parametrize("seed", range(6))
def test_the_lean_rate_counter_counts_as_aiortcs(seed: int) -> None:
    """Random gaps (same ms, short, longer than the window, time going back), small windows."""
    rnd = random.Random(seed)
    window = rnd.choice([1, 2, 7, 50, 1000])
    stock, lean = RateCounter(window, 8000), remb.LeanRateCounter(window, 8000)
    now = rnd.randint(0, 10**6)
    for step in range(3000):
        now += rnd.choice([0, 0, 1, 3, 15, 33, window - 1, window, window + 5, 3 * window, -2])
        value = rnd.randint(0, 1500)
        if rnd.random() < 0.5:
            stock.add(value, now)
            lean.add(value, now)
        assert lean.rate(now) == stock.rate(now), f"step {step}"
        if rnd.random() < 0.002:
            stock.reset()
            lean.reset()
    assert lean._count == stock._total.count and lean._value == stock._total.value


async def test_video_receivers_get_it_and_audio_receivers_keep_none() -> None:
    pc = RTCPeerConnection()
    try:
        video = pc.addTransceiver("video").receiver
        audio = pc.addTransceiver("audio").receiver
        remb.install(video)
        remb.install(audio)
        assert isinstance(getattr(video, remb.ESTIMATOR_ATTR).estimator, remb.LeanOveruseEstimator)
        assert getattr(audio, remb.ESTIMATOR_ATTR) is None
    finally:
        await pc.close()
