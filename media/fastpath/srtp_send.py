"""The send fast path: a frame's RTP packets SRTP-protected and sent in one native call.

aiortc sends each packet through four coroutines (DTLS transport, ICE transport, aioice
connection, its protocol) and pylibsrtp's wrapper, which allocates per packet. For a
subscriber reached over a plain UDP candidate pair, ``Route.send_frame`` hands the whole
frame to ``media.fastpath._srtp`` (C): it lays out the RTP packets, the same libsrtp session
protects each, ``sendmmsg`` sends them, and the DTLS transport's counters are kept.
TURN-relayed pairs, a transport not yet (or no longer) connected, or a machine where the
extension could not be compiled: aiortc's path, unchanged. The receive path
(``media.fastpath.demux``) unprotects through the same extension and the libsrtp addresses found
here. Each private name used here is asserted by ``check_internals``.
"""

from __future__ import annotations

import logging
import socket
import struct
from typing import Any

from aioice.ice import CandidatePair, Connection
from aioice.turn import TurnTransport
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from pylibsrtp import Session
from pylibsrtp._binding import ffi, lib

from ops import internals

try:
    from media.fastpath import _srtp
except ImportError:  # not compiled on this machine: aiortc's and pylibsrtp's paths are used
    _srtp = None  # type: ignore[assignment]

native = _srtp
"""The compiled extension (``media.fastpath._srtp``), or None where it could not be built."""

NATIVE = native is not None
logger = logging.getLogger("liveclass.media")
TX_BYTES = "_RTCDtlsTransport__tx_bytes"
TX_PACKETS = "_RTCDtlsTransport__tx_packets"
PROTECT_SIGNATURE = "srtp_err_status_t(*)(struct srtp_ctx_t_ *, void *, int *)"
COUNTS = {"native_frames": 0, "fallback_frames": 0}  # frames sent, by path (rtp_writer)


def function_address(name: str) -> int:
    """Where libsrtp's ``name`` (``srtp_protect``, ``srtp_unprotect``, ...) lives in this
    process (pylibsrtp's copy); its signature must be the one ``media/fastpath/_srtp.c`` calls."""
    pointer = ffi.addressof(lib, name)
    if str(ffi.typeof(pointer)) != f"<ctype '{PROTECT_SIGNATURE}'>":
        raise RuntimeError(f"pylibsrtp's {name} changed: {ffi.typeof(pointer)}")
    return int(ffi.cast("uintptr_t", pointer))


def protect_address() -> int:
    """Where libsrtp's ``srtp_protect`` lives in this process."""
    return function_address("srtp_protect")


def session_address(session: Session) -> int:
    """The ``srtp_t`` behind a pylibsrtp ``Session``."""
    return int(ffi.cast("uintptr_t", session._srtp[0]))


def sockaddr(family: int, host: str, port: int) -> bytes:
    """A raw ``sockaddr_in``/``sockaddr_in6`` for ``(host, port)``, as ``sendmmsg`` takes it."""
    if family == socket.AF_INET:
        return (
            struct.pack("=H", family)
            + struct.pack("!H", port)
            + socket.inet_pton(family, host)
            + bytes(8)
        )
    if family == socket.AF_INET6:
        return (
            struct.pack("=H", family)
            + struct.pack("!HI", port, 0)
            + socket.inet_pton(family, host)
            + struct.pack("=I", 0)
        )
    raise ValueError(f"unsupported address family {family}")


class Route:
    """One subscriber's way out: its SRTP session, UDP socket and remote address."""

    def __init__(self, transport: RTCDtlsTransport, pair: CandidatePair) -> None:
        self.transport = transport
        self.pair = pair
        self.udp = pair.protocol.transport
        sock = self.udp.get_extra_info("socket")
        host, port = pair.remote_addr
        self._session: Session = transport._tx_srtp  # kept alive while the route is in use
        self._args = (
            protect_address(),
            session_address(self._session),
            sock.fileno(),
            sockaddr(sock.family, host, port),
        )

    def usable(self, transport: RTCDtlsTransport) -> bool:
        """Still the transport's connected, nominated pair on an open socket."""
        return (
            transport is self.transport
            and transport._state is State.CONNECTED
            and nominated(transport) is self.pair
            and not self.udp.is_closing()
        )

    def send_frame(
        self, header: bytes, block: bytes, payloads: list[bytes], history: list[bytes | None]
    ) -> int:
        """Build, protect and send one frame's packets (``native.send_frame``); how many went."""
        assert native is not None
        try:
            sent, _failed, octets = native.send_frame(*self._args, header, block, payloads, history)
        except OSError:  # as uvloop's sendto would: a UDP send error loses the datagrams
            logger.debug("native send to %s failed", self.pair.remote_addr, exc_info=True)
            return 0
        transport = self.transport
        setattr(transport, TX_BYTES, getattr(transport, TX_BYTES) + octets)
        setattr(transport, TX_PACKETS, getattr(transport, TX_PACKETS) + sent)
        return int(sent)


def nominated(transport: RTCDtlsTransport) -> CandidatePair | None:
    """The ICE candidate pair a DTLS transport's media goes out on (component 1)."""
    connection: Connection = transport.transport._connection
    return connection._nominated.get(1)


def direct(transport: RTCDtlsTransport, pair: CandidatePair) -> bool:
    """Whether ``pair`` is a plain UDP socket of ours (not a TURN relay or a TCP stream)."""
    udp: Any = pair.protocol.transport
    if isinstance(udp, TurnTransport) or pair.local_candidate.type == "relay":
        return False
    sock = udp.get_extra_info("socket")
    if sock is None or sock.type != socket.SOCK_DGRAM:
        return False
    host = pair.remote_addr[0]
    return "%" not in host and transport._tx_srtp is not None


class Router:
    """Finds and caches the native ``Route`` of one sender, per frame (None: aiortc's path)."""

    def __init__(self) -> None:
        self._route: Route | None = None
        self._refused: tuple[RTCDtlsTransport, CandidatePair | None] | None = None

    def route(self, transport: RTCDtlsTransport) -> Route | None:
        """The route for this frame; rebuilt after an ICE restart or a new transport."""
        route = self._route
        if route is not None and route.usable(transport):
            return route
        self._route = None
        if not NATIVE or transport._state is not State.CONNECTED:
            return None
        pair = nominated(transport)
        if pair is None or self._refused == (transport, pair) or not direct(transport, pair):
            self._refused = (transport, pair)
            return None
        self._route = Route(transport, pair)
        return self._route


def check_internals(transport: RTCDtlsTransport) -> None:
    """Fail loudly if the aiortc/aioice/pylibsrtp internals used here have changed."""
    internals.require_attributes(transport, ("_state", "_tx_srtp", TX_BYTES, TX_PACKETS))
    connection = getattr(transport.transport, "_connection", None)
    if not isinstance(getattr(connection, "_nominated", None), dict):
        raise RuntimeError("aioice Connection._nominated is gone")
    internals.require_attributes(Session(), ["_srtp"])
    protect_address()
