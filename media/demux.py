"""RFC 7983 demultiplexing on the SFU's UDP sockets: media skips aioice's STUN parser.

aioice hands every datagram to its STUN parser first and treats a ``ValueError`` as "not
STUN, pass it on", so each RTP and RTCP packet costs a failed parse and an exception. A
first byte of 128-191 is RTP or RTCP (RFC 7983 section 7), which is never STUN (0-3):
such datagrams go straight to the connection, the rest still take aioice's path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from aioice.ice import StunProtocol

_original: Callable[..., None] | None = None


def _datagram_received(self: StunProtocol, data: bytes | str, addr: tuple[Any, ...]) -> None:
    if isinstance(data, bytes) and data and 128 <= data[0] <= 191:
        self.receiver.data_received(data, self.local_candidate.component)
        return
    assert _original is not None
    _original(self, data, addr)


def install() -> None:
    """Route media datagrams past the STUN parser in every aioice socket (idempotent)."""
    global _original
    if _original is not None:
        return
    source = inspect.getsource(StunProtocol.datagram_received)
    if "self.receiver.data_received(data, self.local_candidate.component)" not in source:
        raise RuntimeError("aioice StunProtocol.datagram_received no longer passes data on")
    _original = StunProtocol.datagram_received
    StunProtocol.datagram_received = _datagram_received  # type: ignore[method-assign]
