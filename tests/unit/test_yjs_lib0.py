"""lib0 varUint, varBytes and varString, checked against the bytes lib0 itself writes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.yjs.errors import MalformedMessage
from realtime.yjs.lib0 import (
    MAX_VAR_UINT,
    MAX_VAR_UINT_BYTES,
    Reader,
    encode_var_bytes,
    encode_var_string,
    encode_var_uint,
)


def read_one_uint(data: bytes) -> int:
    reader = Reader(data)
    value = reader.read_var_uint()
    reader.expect_end()
    return value


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (1, b"\x01"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (300, b"\xac\x02"),
        (16383, b"\xff\x7f"),
        (16384, b"\x80\x80\x01"),
        (2**32 - 1, b"\xff\xff\xff\xff\x0f"),
        (2**32, b"\x80\x80\x80\x80\x10"),
        (2**53 - 1, b"\xff\xff\xff\xff\xff\xff\xff\x0f"),
    ],
)
def test_var_uint_known_layouts(value: int, encoded: bytes) -> None:
    assert encode_var_uint(value) == encoded
    assert read_one_uint(encoded) == value


def test_max_var_uint_is_javascript_safe_integer_and_needs_eight_bytes() -> None:
    assert MAX_VAR_UINT == 9007199254740991
    assert len(encode_var_uint(MAX_VAR_UINT)) == MAX_VAR_UINT_BYTES == 8
    assert len(encode_var_uint(2**49 - 1)) == 7
    assert len(encode_var_uint(2**49)) == 8


@pytest.mark.parametrize("value", [-1, -(2**31), MAX_VAR_UINT + 1, 2**64])
def test_encode_rejects_out_of_range(value: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        encode_var_uint(value)


@pytest.mark.parametrize(
    "encoded",
    [
        b"",
        b"\x80",
        b"\xff\xff",
        b"\xff\xff\xff\xff\xff\xff\xff",
    ],
)
def test_truncated_var_uint_is_malformed(encoded: bytes) -> None:
    with pytest.raises(MalformedMessage, match="truncated"):
        Reader(encoded).read_var_uint()


@pytest.mark.parametrize(
    "encoded",
    [
        b"\x80\x80\x80\x80\x80\x80\x80\x10",  # 2**53: one past the safe range
        b"\xff\xff\xff\xff\xff\xff\xff\x7f",  # 2**56 - 1
    ],
)
def test_var_uint_past_safe_range_is_malformed(encoded: bytes) -> None:
    with pytest.raises(MalformedMessage, match="2\\*\\*53"):
        Reader(encoded).read_var_uint()


@pytest.mark.parametrize(
    "encoded",
    [
        b"\xff" * 9 + b"\x01",  # a huge number
        b"\x80" * 8 + b"\x00",  # zero, padded past eight bytes
        b"\xff" * 64,  # a runaway continuation that must not be read to the end
    ],
)
def test_var_uint_longer_than_eight_bytes_is_malformed(encoded: bytes) -> None:
    with pytest.raises(MalformedMessage, match="longer than 8 bytes"):
        Reader(encoded).read_var_uint()


def test_non_canonical_padding_within_eight_bytes_is_accepted_like_lib0() -> None:
    assert read_one_uint(b"\x80\x00") == 0
    assert read_one_uint(b"\x81\x80\x00") == 1


def test_reader_reads_consecutive_values_and_tracks_remaining() -> None:
    reader = Reader(encode_var_uint(5) + encode_var_uint(300) + b"\x01")
    assert reader.read_var_uint() == 5
    assert reader.read_var_uint() == 300
    assert reader.remaining == 1
    with pytest.raises(MalformedMessage, match="1 trailing bytes"):
        reader.expect_end()


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("", b"\x00"),
        ("abc", b"\x03abc"),
        ("é", b"\x02\xc3\xa9"),
        ("日本", b"\x06\xe6\x97\xa5\xe6\x9c\xac"),
        ("🎉", b"\x04\xf0\x9f\x8e\x89"),
    ],
)
def test_var_string_length_counts_utf8_bytes_not_code_points(text: str, encoded: bytes) -> None:
    assert encode_var_string(text) == encoded
    reader = Reader(encoded)
    assert reader.read_var_string() == text
    reader.expect_end()


def test_long_var_string_has_multi_byte_length() -> None:
    text = "ü" * 100  # 100 code points, 200 bytes
    encoded = encode_var_string(text)
    assert encoded[:2] == b"\xc8\x01"
    assert Reader(encoded).read_var_string() == text


@pytest.mark.parametrize("raw", [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf0\x9f\x8e"])
def test_var_string_rejects_invalid_utf8(raw: bytes) -> None:
    with pytest.raises(MalformedMessage, match="UTF-8"):
        Reader(encode_var_bytes(raw)).read_var_string()


def test_var_bytes_layout_and_empty() -> None:
    assert encode_var_bytes(b"") == b"\x00"
    assert encode_var_bytes(b"\x00\x00") == b"\x02\x00\x00"
    assert Reader(b"\x00").read_var_bytes() == b""


def test_var_bytes_length_past_end_is_malformed() -> None:
    with pytest.raises(MalformedMessage, match="need 5 bytes, 2 left"):
        Reader(b"\x05ab").read_var_bytes()


@given(st.integers(min_value=0, max_value=MAX_VAR_UINT))
def test_var_uint_round_trip(value: int) -> None:
    encoded = encode_var_uint(value)
    assert read_one_uint(encoded) == value
    assert len(encoded) == max(1, -(-value.bit_length() // 7))
    assert all(byte & 0x80 for byte in encoded[:-1])
    assert not encoded[-1] & 0x80


@given(st.text())
def test_var_string_round_trip(text: str) -> None:
    encoded = encode_var_string(text)
    reader = Reader(encoded)
    assert reader.read_var_string() == text
    reader.expect_end()
    assert read_prefix_length(encoded) == len(text.encode("utf-8"))


@given(st.lists(st.binary(max_size=300), max_size=5))
def test_var_bytes_sequence_round_trip(chunks: list[bytes]) -> None:
    reader = Reader(b"".join(encode_var_bytes(chunk) for chunk in chunks))
    assert [reader.read_var_bytes() for _ in chunks] == chunks
    reader.expect_end()


@given(st.binary(max_size=20))
def test_reader_fails_only_with_malformed_message(data: bytes) -> None:
    reader = Reader(data)
    try:
        while reader.remaining:
            reader.read_var_string()
    except MalformedMessage:
        pass


def read_prefix_length(encoded: bytes) -> int:
    return Reader(encoded).read_var_uint()
