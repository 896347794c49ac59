"""Encoded frame headers (pure): picture sizes and parameter sets a muxer needs up front.

Recording writes encoded frames into a container without decoding them, but a container
header wants the picture size (and, for H.264, the SPS/PPS) before the first frame. They
are read here from the first keyframe: the VP8 key frame header (RFC 6386 9.1) and the
H.264 sequence parameter set (ITU-T H.264 7.3.2.1.1).
"""

from __future__ import annotations

VP8_START_CODE = b"\x9d\x01\x2a"
H264_SPS = 7
H264_PPS = 8
# Profiles whose SPS carries chroma format, bit depths and scaling matrices.
H264_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


class HeaderError(ValueError):
    """The bytes are not the header they should be (truncated or malformed)."""


def vp8_dimensions(frame: bytes) -> tuple[int, int] | None:
    """Width and height of a VP8 key frame; None for an inter frame.

    Layout: a 3-byte frame tag (bit 0 clear on key frames), the start code 9d 01 2a,
    then 16-bit little-endian width and height whose top two bits are a scaling mode.
    """
    if len(frame) < 3 or frame[0] & 0x01:
        return None
    if len(frame) < 10 or frame[3:6] != VP8_START_CODE:
        raise HeaderError("not a VP8 key frame header")
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    if not width or not height:
        raise HeaderError("VP8 key frame with an empty picture")
    return width, height


def annexb_nal_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (3- or 4-byte start codes removed)."""
    units = []
    start = data.find(b"\x00\x00\x01")
    while start != -1:
        begin = start + 3
        start = data.find(b"\x00\x00\x01", begin)
        end = len(data) if start == -1 else start
        unit = data[begin:end]
        if start != -1 and unit.endswith(b"\x00"):
            unit = unit[:-1]  # the leading zero of a 4-byte start code
        if unit:
            units.append(unit)
    return units


def h264_parameter_sets(access_unit: bytes) -> bytes:
    """The SPS and PPS of an access unit, as Annex B (a muxer's extradata); b"" if none."""
    found = [u for u in annexb_nal_units(access_unit) if u[0] & 0x1F in (H264_SPS, H264_PPS)]
    return b"".join(b"\x00\x00\x00\x01" + unit for unit in found)


def h264_dimensions(access_unit: bytes) -> tuple[int, int] | None:
    """Width and height from the access unit's SPS (cropping applied); None without one."""
    for unit in annexb_nal_units(access_unit):
        if unit[0] & 0x1F == H264_SPS:
            return _sps_dimensions(unit[1:])
    return None


class _Bits:
    """An MSB-first bit reader over an RBSP (emulation prevention bytes removed)."""

    def __init__(self, payload: bytes) -> None:
        self.data = payload.replace(b"\x00\x00\x03", b"\x00\x00")
        self.pos = 0

    def bit(self) -> int:
        byte = self.pos >> 3
        if byte >= len(self.data):
            raise HeaderError("truncated H.264 SPS")
        value = (self.data[byte] >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = value << 1 | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise HeaderError("bad Exp-Golomb code in H.264 SPS")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


def _sps_dimensions(payload: bytes) -> tuple[int, int]:
    bits = _Bits(payload)
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    chroma_format, separate_planes = 1, 0
    if profile in H264_HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format == 3:
            separate_planes = bits.bit()
        bits.ue()  # bit depth luma
        bits.ue()  # bit depth chroma
        bits.bit()  # qpprime_y_zero_transform_bypass
        if bits.bit():  # seq_scaling_matrix_present
            for index in range(12 if chroma_format == 3 else 8):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.bit()
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.bit()  # gaps_in_frame_num_allowed
    width_mbs = bits.ue() + 1
    height_units = bits.ue() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()  # mb_adaptive_frame_field
    bits.bit()  # direct_8x8_inference
    width, height = width_mbs * 16, (2 - frame_mbs_only) * height_units * 16
    if bits.bit():  # frame_cropping
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        if chroma_format == 0 or separate_planes:
            unit_x, unit_y = 1, 2 - frame_mbs_only
        else:
            sub_width = 1 if chroma_format == 3 else 2
            sub_height = 2 if chroma_format == 1 else 1
            unit_x, unit_y = sub_width, sub_height * (2 - frame_mbs_only)
        width -= (left + right) * unit_x
        height -= (top + bottom) * unit_y
    if width <= 0 or height <= 0:
        raise HeaderError("H.264 SPS with an empty picture")
    return width, height


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + bits.se() + 256) % 256
        last = next_scale or last
