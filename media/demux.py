"""RFC 7983 demultiplexing on the SFU's UDP sockets: media goes straight to its handler.

aioice hands every datagram to its STUN parser first and treats a ``ValueError`` as "not
STUN, pass it on", so each RTP and RTCP packet costs a failed parse and an exception; then
it queues the datagram for aiortc's DTLS transport task, a scheduling round trip per packet.
A first byte of 128-191 is RTP or RTCP (RFC 7983 section 7), which is never STUN (0-3).
Such a datagram on a connected peer connection (``attach``) is unprotected and handled at
once, as aiortc's DTLS transport would handle it (same counters, same handlers, run
eagerly); before that, or while older datagrams are still queued, it is queued as before.
STUN and DTLS keep aioice's and aiortc's paths. Each private name is asserted by
``check_internals``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

import pylibsrtp
from aioice.ice import Connection, StunProtocol
from aiortc import RTCPeerConnection, clock
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtp import is_rtcp

from media import eager

logger = logging.getLogger("liveclass.media")
TRANSPORT = "_liveclass_dtls"  # set on an aioice Connection: the DTLS transport it carries
RX_BYTES = "_RTCDtlsTransport__rx_bytes"
RX_PACKETS = "_RTCDtlsTransport__rx_packets"
COUNTS = {"direct": 0}  # media datagrams handled without aioice's queue

_original: Callable[..., None] | None = None


def _datagram_received(self: StunProtocol, data: bytes | str, addr: tuple[Any, ...]) -> None:
    if isinstance(data, bytes) and data and 128 <= data[0] <= 191:
        connection: Connection = self.receiver
        dtls: RTCDtlsTransport | None = getattr(connection, TRANSPORT, None)
        if dtls is not None and dtls._task is not None and connection._queue.empty():
            deliver(dtls, data)
        else:
            connection.data_received(data, self.local_candidate.component)
        return
    assert _original is not None
    _original(self, data, addr)


def deliver(dtls: RTCDtlsTransport, data: bytes) -> None:
    """Handle one SRTP/SRTCP datagram as ``RTCDtlsTransport._recv_next`` would."""
    if dtls._state is not State.CONNECTED or not dtls._rx_srtp:
        return
    COUNTS["direct"] += 1
    setattr(dtls, RX_BYTES, getattr(dtls, RX_BYTES) + len(data))
    setattr(dtls, RX_PACKETS, getattr(dtls, RX_PACKETS) + 1)
    arrival_time_ms = clock.current_ms()
    try:
        if is_rtcp(data):
            handled = dtls._handle_rtcp_data(dtls._rx_srtp.unprotect_rtcp(data))
        else:
            plain = dtls._rx_srtp.unprotect(data)
            handled = dtls._handle_rtp_data(plain, arrival_time_ms=arrival_time_ms)
    except pylibsrtp.Error as exc:
        logger.debug("SRTP unprotect failed: %s", exc)
        return
    eager.run(handled, "media datagram")


def attach(pc: RTCPeerConnection) -> None:
    """From now on, ``pc``'s media datagrams skip aioice's queue (call once it connects)."""
    for transceiver in pc.getTransceivers():
        for dtls in (transceiver.sender.transport, transceiver.receiver.transport):
            check_internals(dtls)
            setattr(dtls.transport._connection, TRANSPORT, dtls)


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


_source_checked = False


def check_internals(dtls: RTCDtlsTransport) -> None:
    """Fail loudly if aiortc's DTLS transport no longer handles media as ``deliver`` does."""
    global _source_checked
    if not _source_checked:
        source = inspect.getsource(RTCDtlsTransport._recv_next)
        for needle in (
            "elif first_byte > 127 and first_byte < 192 and self._rx_srtp:",
            "arrival_time_ms = clock.current_ms()",
            "data = self._rx_srtp.unprotect_rtcp(data)",
            "await self._handle_rtcp_data(data)",
            "await self._handle_rtp_data(data, arrival_time_ms=arrival_time_ms)",
            "self.__rx_packets += 1",
        ):
            if needle not in source:
                raise RuntimeError(f"aiortc RTCDtlsTransport._recv_next no longer does {needle!r}")
        _source_checked = True
    for name in ("_task", "_state", "_rx_srtp", RX_BYTES, RX_PACKETS):
        if not hasattr(dtls, name):
            raise RuntimeError(f"aiortc RTCDtlsTransport.{name} is gone")
    connection = getattr(dtls.transport, "_connection", None)
    if not isinstance(getattr(connection, "_queue", None), asyncio.Queue):
        raise RuntimeError("aioice Connection._queue is gone")
