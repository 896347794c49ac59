"""The native send path (media/_srtpsend.c): the bytes on the wire are pylibsrtp's own."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
from pylibsrtp import Policy, Session

from media import srtp_send

KEY = bytes(range(30))  # AES_CM_128_HMAC_SHA1_80: 16-byte key + 14-byte salt


def session(ssrc_type: int = Policy.SSRC_ANY_OUTBOUND) -> Session:
    return Session(Policy(key=KEY, ssrc_type=ssrc_type))


def rtp(sequence: int, size: int = 1000, ssrc: int = 0x1234) -> bytes:
    header = struct.pack("!BBHLL", 0x80, 96, sequence & 0xFFFF, 90_000, ssrc)
    return header + bytes([sequence & 0xFF]) * size


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    into = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    into.bind(("127.0.0.1", 0))
    into.settimeout(2)
    yield out, into
    out.close()
    into.close()


def send(tx: Session, out: socket.socket, into: socket.socket, packets: object) -> object:
    assert srtp_send._srtpsend is not None
    address = srtp_send.sockaddr(socket.AF_INET, *into.getsockname())
    return srtp_send._srtpsend.send(
        srtp_send.protect_address(),
        srtp_send.session_address(tx),
        out.fileno(),
        address,
        packets,
    )


def test_the_extension_is_built() -> None:
    """The test command installs with the compiler present: the fast path must exist."""
    assert srtp_send.NATIVE


@pytest.mark.parametrize("count", [1, 3, 31, 32, 33, 70])
def test_datagrams_are_what_pylibsrtp_protects(
    count: int, pair: tuple[socket.socket, socket.socket]
) -> None:
    """A twin session (same key) protecting the same packets gives the same bytes, in order."""
    out, into = pair
    packets = [rtp(i, size=200 + i) for i in range(count)]
    twin = session()
    expected = [twin.protect(p) for p in packets]
    sent, failed, octets = send(session(), out, into, packets)  # type: ignore[misc]
    assert (sent, failed, octets) == (count, 0, sum(map(len, expected)))
    received = [into.recv(4096) for _ in range(count)]
    assert received == expected
    inbound = session(Policy.SSRC_ANY_INBOUND)
    assert [inbound.unprotect(d) for d in received] == packets


def test_a_packet_libsrtp_refuses_is_counted_and_the_rest_still_go(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """Sending a sequence number twice is a replay libsrtp refuses; the others still go out."""
    out, into = pair
    tx = session()
    tx.protect(rtp(5))
    sent, failed, _ = send(tx, out, into, [rtp(5), rtp(6)])  # type: ignore[misc]
    assert (sent, failed) == (1, 1)
    assert session(Policy.SSRC_ANY_INBOUND).unprotect(into.recv(4096)) == rtp(6)


def test_an_empty_batch_sends_nothing(pair: tuple[socket.socket, socket.socket]) -> None:
    out, into = pair
    assert send(session(), out, into, []) == (0, 0, 0)


@pytest.mark.parametrize(
    ("packets", "error"),
    [
        ([b"short"], ValueError),  # not even an RTP header
        ([rtp(1, size=1900)], ValueError),  # no room for the SRTP trailer
        ([rtp(1), "text"], TypeError),
        ((rtp(1),), TypeError),  # a tuple, not a list
    ],
)
def test_malformed_packets_are_refused_before_anything_is_sent(
    packets: object, error: type[Exception], pair: tuple[socket.socket, socket.socket]
) -> None:
    out, into = pair
    with pytest.raises(error):
        send(session(), out, into, packets)
    into.settimeout(0.05)
    with pytest.raises(TimeoutError):  # not even the valid first packet went out
        into.recv(4096)


def test_bad_arguments_raise_instead_of_crashing(pair: tuple[socket.socket, socket.socket]) -> None:
    out, into = pair
    native = srtp_send._srtpsend
    assert native is not None
    tx = session()
    args = (srtp_send.protect_address(), srtp_send.session_address(tx), out.fileno())
    address = srtp_send.sockaddr(socket.AF_INET, *into.getsockname())
    with pytest.raises(TypeError):
        native.send(*args, address)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="must be set"):
        native.send(0, args[1], args[2], address, [rtp(1)])
    with pytest.raises(ValueError, match="not a sockaddr"):
        native.send(*args, b"\x02", [rtp(1)])
    with pytest.raises(TypeError):
        native.send(*args, "127.0.0.1", [rtp(1)])  # type: ignore[arg-type]


def test_a_closed_socket_is_an_os_error(pair: tuple[socket.socket, socket.socket]) -> None:
    _, into = pair
    spare = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fd = spare.fileno()
    spare.close()
    tx = session()  # held: the native call takes the address of its srtp_t
    assert srtp_send._srtpsend is not None
    with pytest.raises(OSError, match="Bad file descriptor"):
        srtp_send._srtpsend.send(
            srtp_send.protect_address(),
            srtp_send.session_address(tx),
            fd,
            srtp_send.sockaddr(socket.AF_INET, *into.getsockname()),
            [rtp(1)],
        )


def test_sockaddr_layout() -> None:
    """Raw sockaddr_in / sockaddr_in6 bytes: port and address in network order."""
    v4 = srtp_send.sockaddr(socket.AF_INET, "127.0.0.1", 5004)
    assert (
        len(v4) == 16 and v4[2:4] == (5004).to_bytes(2, "big") and v4[4:8] == bytes([127, 0, 0, 1])
    )
    v6 = srtp_send.sockaddr(socket.AF_INET6, "::1", 5004)
    assert len(v6) == 28 and v6[8:24] == socket.inet_pton(socket.AF_INET6, "::1")
    with pytest.raises(ValueError, match="unsupported address family"):
        srtp_send.sockaddr(socket.AF_UNIX, "x", 1)


def test_ipv6_datagrams_arrive() -> None:
    try:
        into = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        into.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    out = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    into.settimeout(2)
    try:
        assert srtp_send._srtpsend is not None
        tx = session()
        sent = srtp_send._srtpsend.send(
            srtp_send.protect_address(),
            srtp_send.session_address(tx),
            out.fileno(),
            srtp_send.sockaddr(socket.AF_INET6, "::1", into.getsockname()[1]),
            [rtp(1)],
        )
        assert sent[0] == 1
        assert session(Policy.SSRC_ANY_INBOUND).unprotect(into.recv(4096)) == rtp(1)
    finally:
        out.close()
        into.close()
