"""The native send path (media/fastpath/_srtp.c): the bytes on the wire are pylibsrtp's own."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
from pylibsrtp import Policy, Session

from media.fastpath import rtp_writer, srtp_send

KEY = bytes(range(30))  # AES_CM_128_HMAC_SHA1_80: 16-byte key + 14-byte salt
SSRC = 0x1234
BLOCK = bytes([0xBE, 0xDE, 0, 1, 0x10, 0x31, 0, 0])  # one-byte extensions: mid "1"


def session(ssrc_type: int = Policy.SSRC_ANY_OUTBOUND) -> Session:
    return Session(Policy(key=KEY, ssrc_type=ssrc_type))


def payloads(count: int) -> list[bytes]:
    return [bytes([i & 0xFF]) * (200 + i) for i in range(count)]


def header(sequence: int, block: bytes = b"") -> bytes:
    return struct.pack("!BBHLL", 0x90 if block else 0x80, 96, sequence, 90_000, SSRC)


def python_packets(chunks: list[bytes], sequence: int, block: bytes = b"") -> list[bytes]:
    """aiortc's path (``rtp_writer.rtp_packets``): what the native layout must equal."""
    return rtp_writer.rtp_packets(chunks, 96, sequence, 90_000, SSRC, block)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    into = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    into.bind(("127.0.0.1", 0))
    into.settimeout(2)
    yield out, into
    out.close()
    into.close()


def send_frame(
    tx: Session,
    out: socket.socket,
    into: socket.socket,
    chunks: object,
    *,
    sequence: int = 0,
    block: bytes = b"",
    history: list[bytes | None] | None = None,
) -> object:
    assert srtp_send.native is not None
    address = srtp_send.sockaddr(socket.AF_INET, *into.getsockname())
    return srtp_send.native.send_frame(
        srtp_send.protect_address(),
        srtp_send.session_address(tx),
        out.fileno(),
        address,
        header(sequence, block),
        block,
        chunks,  # type: ignore[arg-type]
        [None] * rtp_writer.HISTORY_SIZE if history is None else history,
    )


def test_the_extension_is_built() -> None:
    """The test command installs with the compiler present: the fast path must exist."""
    assert srtp_send.NATIVE


@pytest.mark.parametrize("block", [b"", BLOCK])
@pytest.mark.parametrize(
    ("count", "sequence"), [(1, 0), (3, 7), (32, 100), (33, 65530), (70, 65500)]
)
def test_datagrams_are_the_python_packets_as_pylibsrtp_protects_them(
    count: int, sequence: int, block: bytes, pair: tuple[socket.socket, socket.socket]
) -> None:
    """Laid out in C, the packets are aiortc's path's bytes; a twin session (same key)
    protecting them gives the datagrams, in order; the history keeps the plain packets."""
    out, into = pair
    chunks = payloads(count)
    packets = python_packets(chunks, sequence, block)
    twin = session()
    expected = [twin.protect(p) for p in packets]
    history: list[bytes | None] = [None] * rtp_writer.HISTORY_SIZE
    got = send_frame(session(), out, into, chunks, sequence=sequence, block=block, history=history)
    assert got == (count, 0, sum(map(len, expected)))
    received = [into.recv(4096) for _ in range(count)]
    assert received == expected
    inbound = session(Policy.SSRC_ANY_INBOUND)
    assert [inbound.unprotect(d) for d in received] == packets
    kept = {(sequence + i) & 0xFFFF: p for i, p in enumerate(packets)}
    for number, packet in list(kept.items())[-rtp_writer.HISTORY_SIZE :]:
        assert history[number % rtp_writer.HISTORY_SIZE] == packet


def test_a_packet_libsrtp_refuses_is_counted_and_the_rest_still_go(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """Sending a sequence number twice is a replay libsrtp refuses; the others still go out."""
    out, into = pair
    tx = session()
    chunks = payloads(2)
    tx.protect(python_packets(chunks, 5)[0])
    sent, failed, _ = send_frame(tx, out, into, chunks, sequence=5)  # type: ignore[misc]
    assert (sent, failed) == (1, 1)
    assert (
        session(Policy.SSRC_ANY_INBOUND).unprotect(into.recv(4096)) == python_packets(chunks, 5)[1]
    )


def test_an_empty_frame_sends_nothing(pair: tuple[socket.socket, socket.socket]) -> None:
    out, into = pair
    assert send_frame(session(), out, into, []) == (0, 0, 0)


@pytest.mark.parametrize(
    ("chunks", "error"),
    [
        ([b"x", bytes(1900)], ValueError),  # no room for the SRTP trailer
        ([b"x", "text"], TypeError),
        ((b"x",), TypeError),  # a tuple, not a list
    ],
)
def test_malformed_frames_are_refused_before_anything_is_sent(
    chunks: object, error: type[Exception], pair: tuple[socket.socket, socket.socket]
) -> None:
    out, into = pair
    history: list[bytes | None] = [None] * rtp_writer.HISTORY_SIZE
    with pytest.raises(error):
        send_frame(session(), out, into, chunks, history=history)
    into.settimeout(0.05)
    with pytest.raises(TimeoutError):  # not even the valid first packet went out
        into.recv(4096)
    assert history == [None] * rtp_writer.HISTORY_SIZE


def test_bad_arguments_raise_instead_of_crashing(pair: tuple[socket.socket, socket.socket]) -> None:
    out, into = pair
    native = srtp_send.native
    assert native is not None
    tx = session()
    args = (srtp_send.protect_address(), srtp_send.session_address(tx), out.fileno())
    address = srtp_send.sockaddr(socket.AF_INET, *into.getsockname())
    rest = (header(1), b"", [b"x"], [None])
    with pytest.raises(TypeError):
        native.send_frame(*args, address)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="must be set"):
        native.send_frame(0, args[1], args[2], address, *rest)
    with pytest.raises(ValueError, match="not a sockaddr"):
        native.send_frame(*args, b"\x02", *rest)
    with pytest.raises(TypeError):
        native.send_frame(*args, "127.0.0.1", *rest)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="header must be 12 bytes"):
        native.send_frame(*args, address, header(1)[:11], b"", [b"x"], [None])
    with pytest.raises(TypeError, match="history lists"):
        native.send_frame(*args, address, header(1), b"", [b"x"], [])


def test_a_closed_socket_is_an_os_error(pair: tuple[socket.socket, socket.socket]) -> None:
    _, into = pair
    spare = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fd = spare.fileno()
    spare.close()
    tx = session()  # held: the native call takes the address of its srtp_t
    assert srtp_send.native is not None
    with pytest.raises(OSError, match="Bad file descriptor"):
        srtp_send.native.send_frame(
            srtp_send.protect_address(),
            srtp_send.session_address(tx),
            fd,
            srtp_send.sockaddr(socket.AF_INET, *into.getsockname()),
            header(1),
            b"",
            [b"x"],
            [None],
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
        assert srtp_send.native is not None
        tx = session()
        sent = srtp_send.native.send_frame(
            srtp_send.protect_address(),
            srtp_send.session_address(tx),
            out.fileno(),
            srtp_send.sockaddr(socket.AF_INET6, "::1", into.getsockname()[1]),
            header(1),
            b"",
            [b"x"],
            [None],
        )
        assert sent[0] == 1
        plain = session(Policy.SSRC_ANY_INBOUND).unprotect(into.recv(4096))
        assert plain == python_packets([b"x"], 1)[0]
    finally:
        out.close()
        into.close()


def test_unprotect_gives_back_what_pylibsrtp_protected() -> None:
    """RTP and RTCP, on libsrtp's own functions; tampered, replayed or oversized: None."""
    native = srtp_send.native
    assert native is not None
    tx, rx = session(), session(Policy.SSRC_ANY_INBOUND)
    unprotect = srtp_send.function_address("srtp_unprotect")
    unprotect_rtcp = srtp_send.function_address("srtp_unprotect_rtcp")
    address = srtp_send.session_address(rx)
    packets = python_packets(payloads(3), 40, BLOCK)
    datagrams = [tx.protect(p) for p in packets]
    assert [native.unprotect(unprotect, address, d) for d in datagrams] == packets
    assert native.unprotect(unprotect, address, datagrams[0]) is None  # a replay
    tampered = bytearray(tx.protect(python_packets([b"y"], 50)[0]))
    tampered[-1] ^= 1
    assert native.unprotect(unprotect, address, bytes(tampered)) is None
    assert native.unprotect(unprotect, address, bytes(3000)) is None
    report = struct.pack("!BBHL", 0x80, 201, 1, SSRC)  # an empty receiver report
    assert native.unprotect(unprotect_rtcp, address, tx.protect_rtcp(report)) == report
    with pytest.raises(ValueError, match="must be set"):
        native.unprotect(0, address, datagrams[0])
    with pytest.raises(TypeError):
        native.unprotect(unprotect, address, "text")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="changed"):
        srtp_send.function_address("srtp_create")  # another signature
