"""The publisher-side bandwidth estimate (REMB) with aiortc's arithmetic in fewer steps.

Browsers size their video by the REMB the server sends, so a publisher's receiver keeps
aiortc's ``RemoteBitrateEstimator``. Its Kalman estimator finds the shortest of the last 60
frame periods with 60 Python ``min`` calls per frame; ``LeanOveruseEstimator`` does the
same in one C-level ``min``. Its incoming-bitrate counter ages its 1 ms buckets one
millisecond per loop turn, twice per packet; ``LeanRateCounter`` clears them a slice at a
time. Its inter-arrival filter makes eight small calls per packet; ``LeanInterArrival``
does the same 32-bit arithmetic inline. The estimates are identical (a test feeds both the
same packets); only the cost differs.
"""

from __future__ import annotations

from aiortc import RTCRtpReceiver
from aiortc.rate import (
    BURST_DELTA_THRESHOLD_MS,
    MIN_FRAME_PERIOD_HISTORY_LENGTH,
    InterArrival,
    InterArrivalDelta,
    OveruseEstimator,
    RateCounter,
    RemoteBitrateEstimator,
    TimestampGroup,
)

ESTIMATOR_ATTR = "_RTCRtpReceiver__remote_bitrate_estimator"


class LeanOveruseEstimator(OveruseEstimator):
    """aiortc's overuse estimator; the minimum frame period is taken in one ``min``."""

    def update_min_frame_period(self, ts_delta: float) -> float:
        history = self.ts_delta_hist
        if len(history) >= MIN_FRAME_PERIOD_HISTORY_LENGTH:
            del history[0]
        shortest = min(history, default=ts_delta)
        history.append(ts_delta)
        return ts_delta if ts_delta < shortest else shortest


class LeanInterArrival(InterArrival):
    """aiortc's inter-arrival filter (packet groups by send time), its helpers inlined."""

    def compute_deltas(
        self, timestamp: int, arrival_time: int, packet_size: int
    ) -> InterArrivalDelta | None:
        deltas = None
        current = self.current_group
        if current is None:
            current = self.current_group = TimestampGroup(timestamp)
        else:
            first, last = current.first_timestamp, current.last_timestamp
            assert first is not None and last is not None and current.arrival_time is not None
            since_first = (timestamp - first) & 0xFFFFFFFF
            if since_first >= 0x80000000:
                return None  # out of order
            since_last_ms = round(self.timestamp_to_ms * ((timestamp - last) & 0xFFFFFFFF))
            arrival_delta = arrival_time - current.arrival_time
            burst = since_last_ms == 0 or (
                arrival_delta - since_last_ms < 0 and arrival_delta <= BURST_DELTA_THRESHOLD_MS
            )
            if not burst and since_first > self.group_length:  # a new group starts
                previous = self.previous_group
                if previous is not None:
                    assert previous.last_timestamp is not None
                    assert previous.arrival_time is not None
                    deltas = InterArrivalDelta(
                        timestamp=(last - previous.last_timestamp) & 0xFFFFFFFF,
                        arrival_time=current.arrival_time - previous.arrival_time,
                        size=current.size - previous.size,
                    )
                self.previous_group = current
                current = self.current_group = TimestampGroup(timestamp=timestamp)
            elif (timestamp < last and last - timestamp > 0x80000000) or (
                timestamp > last and timestamp - last < 0x80000000
            ):
                current.last_timestamp = timestamp
        current.size += packet_size
        current.arrival_time = arrival_time
        return deltas


class LeanRateCounter(RateCounter):
    """aiortc's rate counter (1 ms buckets over a window); expired buckets cleared by slice."""

    def reset(self) -> None:
        size = self._window_size
        self._counts = [0] * size
        self._values = [0] * size
        self._origin_index = 0
        self._origin_ms: int | None = None
        self._count = 0
        self._value = 0

    def add(self, value: int, now_ms: int) -> None:
        if self._origin_ms is None:
            self._origin_ms = now_ms
        else:
            self._erase_old(now_ms)
        index = (self._origin_index + now_ms - self._origin_ms) % self._window_size
        self._counts[index] += 1
        self._values[index] += value
        self._count += 1
        self._value += value

    def rate(self, now_ms: int) -> int | None:
        if self._origin_ms is not None:
            self._erase_old(now_ms)
            active_window_size = now_ms - self._origin_ms + 1
            if self._count > 0 and active_window_size > 1:
                return round(self._scale * self._value / active_window_size)
        return None

    def _erase_old(self, now_ms: int) -> None:
        assert self._origin_ms is not None
        steps = now_ms - self._window_size + 1 - self._origin_ms
        if steps <= 0:
            return
        size = self._window_size
        start = self._origin_index
        if steps >= size:  # the whole window expired
            self._counts[:] = [0] * size
            self._values[:] = [0] * size
            self._count = self._value = 0
        else:
            for first, end in ((start, min(start + steps, size)), (0, start + steps - size)):
                if first < end:
                    self._count -= sum(self._counts[first:end])
                    self._value -= sum(self._values[first:end])
                    self._counts[first:end] = [0] * (end - first)
                    self._values[first:end] = [0] * (end - first)
        self._origin_index = (start + steps) % size
        self._origin_ms += steps


def lean_estimator() -> RemoteBitrateEstimator:
    """A fresh aiortc estimator with the lean inter-arrival filter, estimator and counter."""
    estimator = RemoteBitrateEstimator()
    if type(estimator.estimator) is not OveruseEstimator:
        raise RuntimeError("aiortc's RemoteBitrateEstimator no longer uses OveruseEstimator")
    counter = estimator.incoming_bitrate
    if type(counter) is not RateCounter:
        raise RuntimeError("aiortc's RemoteBitrateEstimator no longer uses RateCounter")
    arrival = estimator.inter_arrival
    if type(arrival) is not InterArrival:
        raise RuntimeError("aiortc's RemoteBitrateEstimator no longer uses InterArrival")
    estimator.inter_arrival = LeanInterArrival(arrival.group_length, arrival.timestamp_to_ms)
    estimator.estimator = LeanOveruseEstimator()
    estimator.incoming_bitrate = LeanRateCounter(counter._window_size, counter._scale)
    return estimator


def check_internals(receiver: RTCRtpReceiver) -> None:
    """Fail loudly if a video receiver's estimator is not the aiortc one replaced here."""
    if getattr(receiver, ESTIMATOR_ATTR, None) is None:
        raise RuntimeError("aiortc RTCRtpReceiver no longer has a remote bitrate estimator")
    lean_estimator()


def install(receiver: RTCRtpReceiver) -> None:
    """Give a video receiver the lean estimator (audio receivers have none); before it starts."""
    if not hasattr(receiver, ESTIMATOR_ATTR):
        raise RuntimeError("aiortc RTCRtpReceiver no longer has a remote bitrate estimator")
    if getattr(receiver, ESTIMATOR_ATTR) is not None:
        setattr(receiver, ESTIMATOR_ATTR, lean_estimator())
