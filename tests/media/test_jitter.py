"""The SFU's jitter buffer: a frame leaves as soon as it is complete, in order, whole."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from media.fastpath.jitter import EagerJitterBuffer


def packet(seq: int, timestamp: int, data: bytes, *, marker: bool = False) -> RtpPacket:
    found = RtpPacket(payload_type=96, sequence_number=seq, timestamp=timestamp)
    found.marker = int(marker)
    found._data = data  # type: ignore[attr-defined]  # what aiortc's depayload sets
    return found


def test_a_video_frame_leaves_at_its_marker_not_at_the_next_frame() -> None:
    buffer = EagerJitterBuffer(128, is_video=True)
    assert buffer.add(packet(10, 3000, b"a"))[1] is None
    frame = buffer.add(packet(11, 3000, b"b", marker=True))[1]
    assert frame is not None and (frame.data, frame.timestamp) == (b"ab", 3000)


def test_every_audio_packet_is_a_frame_without_prefetch() -> None:
    buffer = EagerJitterBuffer(16, is_video=False)
    frames = [buffer.add(packet(100 + i, 960 * i, bytes([i])))[1] for i in range(3)]
    assert [f.data for f in frames if f is not None] == [b"\x00", b"\x01", b"\x02"]


def test_a_gap_holds_later_frames_until_it_is_filled_then_all_leave_in_order() -> None:
    buffer = EagerJitterBuffer(128, is_video=True)
    assert buffer.add(packet(1, 0, b"a", marker=True))[1] is not None
    # packet 2 (frame 3000) is lost for now; frames 6000 and 9000 arrive whole
    assert buffer.add(packet(3, 3000, b"c", marker=True))[1] is None
    assert buffer.add(packet(4, 6000, b"d", marker=True))[1] is None
    first = buffer.add(packet(2, 3000, b"b"))[1]  # the retransmission fills the gap
    assert first is not None and (first.data, first.timestamp) == (b"bc", 3000)
    assert [(f.data, f.timestamp) for f in buffer.ready] == [(b"d", 6000)]


def test_a_lost_marker_still_ends_the_frame_when_the_next_one_starts() -> None:
    buffer = EagerJitterBuffer(128, is_video=True)
    assert buffer.add(packet(1, 0, b"a"))[1] is None  # its marker packet never comes
    frame = buffer.add(packet(2, 3000, b"b"))[1]
    assert frame is not None and (frame.data, frame.timestamp) == (b"a", 0)
