"""Picture sizes and parameter sets read from encoded frames (media/frame_headers.py)."""

from __future__ import annotations

import fractions

import av
import pytest

from media.frame_headers import (
    HeaderError,
    annexb_nal_units,
    h264_dimensions,
    h264_parameter_sets,
    vp8_dimensions,
)


def _encode(codec: str, width: int, height: int, count: int = 2, **options: str) -> list[bytes]:
    ctx = av.CodecContext.create(codec, "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = fractions.Fraction(1, 30)
    ctx.options = options
    packets: list[bytes] = []
    for i in range(count):
        frame = av.VideoFrame(width, height, "yuv420p")
        frame.pts = i
        packets += [bytes(p) for p in ctx.encode(frame)]
    packets += [bytes(p) for p in ctx.encode(None)]
    return packets


@pytest.mark.parametrize(("width", "height"), [(160, 120), (322, 242), (1280, 720)])
def test_vp8_key_frame_size(width: int, height: int) -> None:
    frames = _encode("libvpx", width, height, deadline="realtime", **{"lag-in-frames": "0"})
    assert vp8_dimensions(frames[0]) == (width, height)
    assert vp8_dimensions(frames[1]) is None  # an inter frame has no size


def test_vp8_bad_headers() -> None:
    assert vp8_dimensions(b"") is None
    with pytest.raises(HeaderError):
        vp8_dimensions(b"\x00\x00\x00\x9d\x01")  # truncated
    with pytest.raises(HeaderError):
        vp8_dimensions(b"\x00\x00\x00\x01\x02\x03\xa0\x00\x78\x00")  # no start code
    with pytest.raises(HeaderError):
        vp8_dimensions(b"\x00\x00\x00\x9d\x01\x2a\x00\x00\x78\x00")  # zero width


@pytest.mark.parametrize(
    ("width", "height", "profile"),
    [(160, 120, "baseline"), (1920, 1080, "high"), (642, 362, "main"), (1280, 720, "high")],
)
def test_h264_sps_size_with_cropping(width: int, height: int, profile: str) -> None:
    frames = _encode(
        "libx264", width, height, preset="ultrafast", tune="zerolatency", profile=profile
    )
    assert h264_dimensions(frames[0]) == (width, height)
    assert h264_dimensions(frames[1]) is None  # no SPS in an inter frame
    sets = h264_parameter_sets(frames[0])
    assert [u[0] & 0x1F for u in annexb_nal_units(sets)] == [7, 8]


def test_h264_truncated_sps() -> None:
    frames = _encode("libx264", 160, 120, preset="ultrafast", tune="zerolatency")
    sps = next(u for u in annexb_nal_units(frames[0]) if u[0] & 0x1F == 7)
    with pytest.raises(HeaderError):
        h264_dimensions(b"\x00\x00\x01" + sps[:5])


def test_annexb_split_keeps_payloads() -> None:
    stream = b"\x00\x00\x00\x01\x67\xaa\x00\x00\x01\x68\xbb\xcc\x00\x00\x00\x01\x65\x00\x01"
    assert annexb_nal_units(stream) == [b"\x67\xaa", b"\x68\xbb\xcc", b"\x65\x00\x01"]
    assert annexb_nal_units(b"no start code") == []
