"""lib0 binary primitives used by y-protocols: varUint, varBytes and varString.

A varUint stores 7 bits per byte, least significant group first, with the high bit set on
every byte but the last. lib0 decodes into a JavaScript number, so values stop at 2**53 - 1.
"""

from __future__ import annotations

from typing import Final

from realtime.yjs.errors import MalformedMessage

MAX_VAR_UINT: Final = 2**53 - 1
"""Largest varUint lib0 accepts (JavaScript's `Number.MAX_SAFE_INTEGER`)."""

MAX_VAR_UINT_BYTES: Final = 8
"""Bytes needed to encode `MAX_VAR_UINT`; longer encodings are rejected."""

_LOW_BITS: Final = 0x7F
_CONTINUE: Final = 0x80


def encode_var_uint(value: int) -> bytes:
    """Encode a non-negative integer up to `MAX_VAR_UINT` as a lib0 varUint."""
    if not 0 <= value <= MAX_VAR_UINT:
        raise ValueError(f"varUint out of range: {value}")
    out = bytearray()
    while value > _LOW_BITS:
        out.append(_CONTINUE | (value & _LOW_BITS))
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_var_bytes(data: bytes) -> bytes:
    """Encode bytes prefixed with their varUint length (lib0 `writeVarUint8Array`)."""
    return encode_var_uint(len(data)) + data


def encode_var_string(text: str) -> bytes:
    """Encode text as varUint UTF-8 *byte* length, then the UTF-8 bytes."""
    return encode_var_bytes(text.encode("utf-8"))


class Reader:
    """A cursor over one buffer that reads lib0 primitives and rejects bad input.

    Every failure raises `MalformedMessage`, so a decoder built on it never leaks an
    `IndexError` or `UnicodeDecodeError` to the connection handler.
    """

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self._data) - self._pos

    def read_var_uint(self) -> int:
        """Read one varUint, rejecting truncation, over-long encodings and values past 2**53-1."""
        value = 0
        for index in range(MAX_VAR_UINT_BYTES):
            if self._pos >= len(self._data):
                raise MalformedMessage("truncated varUint")
            byte = self._data[self._pos]
            self._pos += 1
            value |= (byte & _LOW_BITS) << (7 * index)
            if byte < _CONTINUE:
                if value > MAX_VAR_UINT:
                    raise MalformedMessage("varUint exceeds 2**53 - 1")
                return value
        raise MalformedMessage(f"varUint longer than {MAX_VAR_UINT_BYTES} bytes")

    def read_bytes(self, length: int) -> bytes:
        """Read exactly `length` raw bytes."""
        if length > self.remaining:
            raise MalformedMessage(f"need {length} bytes, {self.remaining} left")
        start = self._pos
        self._pos += length
        return bytes(self._data[start : self._pos])

    def read_var_bytes(self) -> bytes:
        """Read a varUint length followed by that many bytes."""
        return self.read_bytes(self.read_var_uint())

    def read_var_string(self) -> str:
        """Read a varBytes holding strict UTF-8."""
        raw = self.read_var_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessage("varString is not valid UTF-8") from exc

    def expect_end(self) -> None:
        """Reject trailing bytes after a complete value."""
        if self.remaining:
            raise MalformedMessage(f"{self.remaining} trailing bytes")
