"""RFC 7983 demultiplexing on the SFU's UDP sockets: media goes straight to its handler.

aioice hands every datagram to its STUN parser first and treats a ``ValueError`` as "not
STUN, pass it on", so each RTP and RTCP packet costs a failed parse and an exception; then
it queues the datagram for aiortc's DTLS transport task, a scheduling round trip per packet.
A first byte of 128-191 is RTP or RTCP (RFC 7983 section 7), which is never STUN (0-3).
Such a datagram on a connected peer connection (``attach``) is unprotected (natively, by
``media.fastpath._srtp``, where compiled) and handled at once, as aiortc's DTLS transport would
handle it (same counters, same handlers, run eagerly); before that, or while older
datagrams are still queued, it is queued as before.
STUN and DTLS keep aioice's and aiortc's paths. Each private name is asserted by
``check_internals``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pylibsrtp
from aioice.ice import Connection, StunProtocol
from aiortc import RTCPeerConnection, clock
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtp import is_rtcp

from media.fastpath import eager, srtp_send
from ops import internals

logger = logging.getLogger("liveclass.media")
INBOUND = "_liveclass_inbound"  # set on an aioice Connection: the ``Inbound`` it carries
RX_BYTES = "_RTCDtlsTransport__rx_bytes"
RX_PACKETS = "_RTCDtlsTransport__rx_packets"
COUNTS = {"direct": 0}  # media datagrams handled without aioice's queue
NATIVE = srtp_send.NATIVE  # else pylibsrtp unprotects
UNPROTECT = srtp_send.function_address("srtp_unprotect") if NATIVE else 0
UNPROTECT_RTCP = srtp_send.function_address("srtp_unprotect_rtcp") if NATIVE else 0

_original: Callable[..., None] | None = None


class Inbound:
    """A connected DTLS transport's receive side: its SRTP session, held while in use.

    With the native extension, datagrams are unprotected by ``media.fastpath._srtp`` on the same
    libsrtp session as pylibsrtp's (its address is read once, and the session object is
    kept so that address stays valid); without it, by pylibsrtp.
    """

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self.dtls = dtls
        self.session: pylibsrtp.Session = dtls._rx_srtp
        self.address = srtp_send.session_address(self.session) if NATIVE else 0

    def usable(self) -> bool:
        """Still the transport's live session (a stopped transport has no receive task)."""
        dtls = self.dtls
        return (
            dtls._task is not None
            and dtls._state is State.CONNECTED
            and dtls._rx_srtp is self.session
        )


def _datagram_received(self: StunProtocol, data: bytes | str, addr: tuple[Any, ...]) -> None:
    if isinstance(data, bytes) and data and 128 <= data[0] <= 191:
        connection: Connection = self.receiver
        inbound: Inbound | None = getattr(connection, INBOUND, None)
        if inbound is not None and connection._queue.empty() and inbound.usable():
            deliver(inbound, data)
        else:
            connection.data_received(data, self.local_candidate.component)
        return
    assert _original is not None
    _original(self, data, addr)


def deliver(inbound: Inbound, data: bytes) -> None:
    """Handle one SRTP/SRTCP datagram as ``RTCDtlsTransport._recv_next`` would."""
    dtls = inbound.dtls
    COUNTS["direct"] += 1
    setattr(dtls, RX_BYTES, getattr(dtls, RX_BYTES) + len(data))
    setattr(dtls, RX_PACKETS, getattr(dtls, RX_PACKETS) + 1)
    arrival_time_ms = clock.current_ms()
    rtcp = is_rtcp(data)
    if NATIVE:
        function = UNPROTECT_RTCP if rtcp else UNPROTECT
        assert srtp_send.native is not None
        plain = srtp_send.native.unprotect(function, inbound.address, data)
    else:
        plain = _unprotect(inbound.session, data, rtcp)
    if plain is None:
        logger.debug("SRTP unprotect failed")
        return
    if rtcp:
        eager.run(dtls._handle_rtcp_data(plain), "media datagram")
    else:
        eager.run(dtls._handle_rtp_data(plain, arrival_time_ms=arrival_time_ms), "media datagram")


def _unprotect(session: pylibsrtp.Session, data: bytes, rtcp: bool) -> bytes | None:
    try:
        return session.unprotect_rtcp(data) if rtcp else session.unprotect(data)
    except pylibsrtp.Error:
        return None


def attach(pc: RTCPeerConnection) -> None:
    """From now on, ``pc``'s media datagrams skip aioice's queue (call once it connects).

    Only after ``install()``; the names it reads were checked by ``check_internals``.
    """
    for transceiver in pc.getTransceivers():
        for dtls in (transceiver.sender.transport, transceiver.receiver.transport):
            if dtls._state is State.CONNECTED and dtls._rx_srtp:
                setattr(dtls.transport._connection, INBOUND, Inbound(dtls))


def install() -> None:
    """Route media datagrams past the STUN parser in every aioice socket (idempotent)."""
    global _original
    if _original is not None:
        return
    check_source()
    _original = StunProtocol.datagram_received
    StunProtocol.datagram_received = _datagram_received  # type: ignore[method-assign]


def check_source() -> None:
    """Fail loudly if aioice no longer hands non-STUN datagrams to its connection as assumed."""
    needle = "self.receiver.data_received(data, self.local_candidate.component)"
    internals.require_source(_original or StunProtocol.datagram_received, [needle])


RECV_NEXT = (
    "elif first_byte > 127 and first_byte < 192 and self._rx_srtp:",
    "arrival_time_ms = clock.current_ms()",
    "data = self._rx_srtp.unprotect_rtcp(data)",
    "await self._handle_rtcp_data(data)",
    "await self._handle_rtp_data(data, arrival_time_ms=arrival_time_ms)",
    "self.__rx_packets += 1",
)


def check_internals(dtls: RTCDtlsTransport) -> None:
    """Fail loudly if aiortc's DTLS transport no longer handles media as ``deliver`` does."""
    internals.require_source(RTCDtlsTransport._recv_next, RECV_NEXT)
    internals.require_attributes(dtls, ("_task", "_state", "_rx_srtp", RX_BYTES, RX_PACKETS))
    connection = getattr(dtls.transport, "_connection", None)
    if not isinstance(getattr(connection, "_queue", None), asyncio.Queue):
        raise RuntimeError("aioice Connection._queue is gone")
