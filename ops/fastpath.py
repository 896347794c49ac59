"""The byte-serving fast path: GET and HEAD requests under registered path prefixes (signed
blob and media links) answered by the HTTP protocol itself, the body sent with
``os.sendfile`` from the page cache to the socket, with no ASGI app, no task and no copy of
the bytes through Python.

Why: a 1 MiB download through ASGI cost ~1.4 ms of CPU (routing, middleware, then the bytes
read into Python and written out again) against nginx's ~0.3 (docs/benchmarks.md, "Content:
uploads and file serving"). Here a request costs the decision (signature, one ``open`` and
``fstat``, the range and caching rules) and a ``sendfile``.

What: a domain registers a *responder* per prefix (``FastPaths.add``); the responder is a
plain function of the request (no awaiting) that returns a ``FastAnswer`` (status, headers,
an open file and the byte range to send) or None to hand the request to the ASGI app
unchanged, which then answers as it always did (refusals with their problem documents,
stores that are not local files, anything unusual). ``ops.server_protocol`` calls it from
uvicorn's protocol and ``Sending`` writes the answer: the head with ``os.write``, the body
with ``os.sendfile``; on EAGAIN it waits for the socket to be writable (a writer on a
duplicate of the socket's descriptor, since the event loop refuses one on a descriptor its
transport owns) and goes on. The transport writes nothing meanwhile: a fast answer starts
only when its write buffer is empty, and pipelined requests wait for the answer to finish
(uvicorn's own pipeline queue). The metrics and the access-log line of each request are
recorded as ``ops.requests`` does for the app's requests, with the same route templates.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from prometheus_client import Counter

from ops.metrics import Metrics
from ops.requests import HEADER, record

logger = logging.getLogger(__name__)
METHODS = (b"GET", b"HEAD")

# One whole request, nothing before or after it, in the plainest form HTTP/1.1 has: GET or
# HEAD, an origin-form target of RFC 3986 characters only, header lines of a token, a colon
# and visible ASCII, no body. httptools accepts each such request and reads it the same way;
# anything else (another form, HTTP/1.0, pipelined or partial bytes) is left to it.
_SIMPLE = re.compile(
    rb"(GET|HEAD) (/[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*) HTTP/1\.1\r\n"
    rb"((?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\x20-\x7e]*\r\n)*)\r\n"
)
# Headers that change how a connection or a body is read: such requests are parsed as usual
# (but for "Connection: keep-alive", HTTP/1.1's default said aloud, as browsers say it).
_FRAMING = frozenset((b"content-length", b"transfer-encoding", b"connection", b"upgrade"))


@dataclass(frozen=True, slots=True)
class SimpleRequest:
    """A request read by ``simple_request``: method, raw target, path and query as uvicorn
    splits them, and the headers as uvicorn's protocol lists them (names in lower case,
    values without surrounding blanks)."""

    method: bytes
    target: bytes
    path: str
    query_string: bytes
    headers: list[tuple[bytes, bytes]]


def simple_request(data: bytes) -> SimpleRequest | None:
    """``data`` read as one whole simple request (see ``_SIMPLE``), or None: parse it as
    usual. A byte-serving protocol answers such a request without its general parser."""
    found = _SIMPLE.fullmatch(data)
    if found is None:
        return None
    method, target, block = found.groups()
    headers = []
    for line in block.split(b"\r\n")[:-1]:
        name, _, value = line.partition(b":")
        name, value = name.lower(), value.strip(b" \t")
        if name in _FRAMING and (name != b"connection" or value.lower() != b"keep-alive"):
            return None
        headers.append((name, value))
    raw_path, _, query = target.partition(b"?")
    path = raw_path.decode("ascii")
    if "%" in path:
        path = unquote(path)
    return SimpleRequest(method, target, path, query, headers)


@dataclass(frozen=True, slots=True)
class FastRequest:
    """What a responder sees of a request: ``path`` decoded as ASGI's ``scope["path"]``,
    the raw query string and the headers (lower-case names, in order)."""

    method: str
    path: str
    query_string: bytes
    headers: Iterable[tuple[bytes, bytes]]

    def header(self, name: bytes) -> str | None:
        """The first value of header ``name`` (lower case), decoded as Latin-1."""
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return None


@dataclass(slots=True)
class FastAnswer:
    """A responder's answer: status and headers (``Content-Length`` included), and the
    ``count`` bytes of the open file ``fd`` from ``offset`` to send (``fd`` None: no body).
    The fast path owns ``fd`` from then on and closes it. ``route`` is the route template
    the request is counted under (the ASGI route's own)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    route: str
    fd: int | None = None
    offset: int = 0
    count: int = 0

    def close(self) -> None:
        """Close the file (an answer that will not be sent)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


Responder = Callable[[FastRequest], FastAnswer | None]


@dataclass
class FastPaths:
    """The prefixes the fast path answers and their responders; ``metrics`` counts what
    they answer."""

    metrics: Metrics | None = None
    routes: list[tuple[bytes, Responder]] = field(default_factory=list)
    _counters: dict[str, Counter] = field(default_factory=dict)

    def add(self, prefix: str, responder: Responder) -> None:
        """Answer GET and HEAD requests whose path starts with ``prefix`` by ``responder``."""
        self.routes.append((prefix.encode("ascii"), responder))

    def responder(self, method: bytes, url: bytes) -> Responder | None:
        """The responder for a request line, if its method and raw URL are one of ours."""
        if method not in METHODS:
            return None
        for prefix, responder in self.routes:
            if url.startswith(prefix):
                return responder
        return None

    def finished(
        self,
        request: FastRequest,
        answer: FastAnswer,
        *,
        started: float,
        client: str | None,
        request_id: str,
    ) -> None:
        """Count and log one request the fast path answered."""
        if self.metrics is None:
            return
        counter = self._counters.get(answer.route)
        if counter is None:
            counter = self._counters[answer.route] = self.metrics.fast_answers.labels(answer.route)
        counter.inc()
        record(
            self.metrics,
            route=answer.route,
            method=request.method,
            path=request.path,
            status=answer.status,
            seconds=time.perf_counter() - started,
            client=client,
            request_id=request_id,
        )


def head_bytes(
    status_line: bytes,
    default_headers: list[tuple[bytes, bytes]],
    answer: FastAnswer,
    *,
    request_id: str,
    keep_alive: bool,
) -> bytes:
    """The status line and header block of ``answer``, with the request id (as the app's
    answers get it from ``ops.requests``) and ``connection: close`` when the connection
    ends after it."""
    lines = [status_line]
    for name, value in (*default_headers, *answer.headers):
        lines += (name, b": ", value, b"\r\n")
    lines += (HEADER, b": ", request_id.encode("latin-1"), b"\r\n")
    if not keep_alive:
        lines.append(b"connection: close\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


def wrap_socket(transport: asyncio.Transport) -> socket.socket | None:
    """A socket object on the transport's own descriptor (no duplicate), for ``send`` with
    flags; None under TLS or without a socket. The caller must ``detach()`` it before the
    transport closes its descriptor, or the object would close it (or a later one) again."""
    if transport.get_extra_info("sslcontext") is not None:
        return None
    sock = transport.get_extra_info("socket")
    if sock is None:
        return None
    return socket.socket(sock.family, sock.type, sock.proto, sock.fileno())


class Sending:
    """Writes one answer to a non-blocking socket: ``head`` then ``count`` bytes of the
    file ``fd`` from ``offset`` by ``sendfile``, waiting for writability on EAGAIN.
    ``done(ok)`` is called once: True when every byte went out, False when the peer went
    away or the file ended early (the connection must then be closed: the promised length
    cannot be kept)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        head: bytes,
        answer: FastAnswer,
        done: Callable[[bool], None],
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.head = memoryview(head)
        self.answer = answer
        self.done = done
        self.waiting: int | None = None  # the duplicate descriptor a writer is set on

    def run(self) -> None:
        """Write what the socket takes now; finish, or wait for it to take more."""
        answer = self.answer
        try:
            # MSG_MORE: the head leaves in the body's first segment, as one packet and one
            # wake-up of the client instead of two (nginx's tcp_nopush does the same).
            more = socket.MSG_MORE if answer.count else 0
            while self.head:
                self.head = self.head[self.sock.send(self.head, more) :]
            while answer.count:
                assert answer.fd is not None
                sent = os.sendfile(self.sock.fileno(), answer.fd, answer.offset, answer.count)
                if sent == 0:  # the file is shorter than it was when it was opened
                    raise OSError(errno.EIO, "file truncated while being sent")
                answer.offset += sent
                answer.count -= sent
        except BlockingIOError:
            if self.waiting is None:
                try:
                    self.waiting = os.dup(self.sock.fileno())
                    self.loop.add_writer(self.waiting, self.run)
                except OSError as exc:  # out of descriptors, say: give up on this one
                    logger.warning("fast path: cannot wait for the socket: %s", exc)
                    self._finish(False)
            return
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                logger.warning("fast path: sending failed: %s", exc)
            self._finish(False)
            return
        self._finish(True)

    def abort(self) -> None:
        """Stop (the connection is gone): release the file and the descriptor, and report
        the answer unfinished."""
        self._finish(False)

    def _finish(self, ok: bool) -> None:
        self._release()
        self.done(ok)

    def _release(self) -> None:
        if self.waiting is not None:
            self.loop.remove_writer(self.waiting)
            os.close(self.waiting)
            self.waiting = None
        self.answer.close()
