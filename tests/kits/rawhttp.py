"""A minimal HTTP/1.1 client for load generators and wire-level tests.

``Responses`` is the Sans-I/O part: bytes in, complete responses out (Content-Length
framing, HEAD answers without a body); ``Connection`` drives one keep-alive connection
with asyncio streams. It costs a small fraction of httpx's CPU per request, so on a
two-core machine a benchmark's load generator does not take the core the server needs.
Chunked responses are not supported: the servers we measure frame with Content-Length.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections import deque
from typing import Any, NamedTuple


class Response(NamedTuple):
    """One HTTP/1.1 response: status, lower-cased headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Responses:
    """Parses the responses of one connection, in order (pure: no I/O)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._head: tuple[int, dict[str, str]] | None = None
        self._bodiless: deque[bool] = deque()

    def expect(self, *, bodiless: bool = False) -> None:
        """Note a request sent; ``bodiless`` for HEAD, whose answer has no body. Answers
        are parsed only as far as requests were noted (``feed(b"")`` parses what waited)."""
        self._bodiless.append(bodiless)

    @property
    def partial(self) -> bool:
        """Whether bytes came that are not (yet) part of a whole answer."""
        return bool(self._buffer) or self._head is not None

    def feed(self, data: bytes) -> list[Response]:
        """Add bytes read off the connection; return the responses now complete."""
        self._buffer += data
        done: list[Response] = []
        while (response := self._next()) is not None:
            done.append(response)
        return done

    def _next(self) -> Response | None:
        if not self._bodiless:  # no request waiting: its method decides the framing
            return None
        if self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return None
            self._head = parse_head(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
        status, headers = self._head
        bodiless = self._bodiless[0]
        length = 0 if bodiless or status in (204, 304) else int(headers.get("content-length", 0))
        if len(self._buffer) < length:
            return None
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        self._head = None
        self._bodiless.popleft()
        return Response(status, headers, body)


def parse_head(block: bytes) -> tuple[int, dict[str, str]]:
    """The status and lower-cased headers of a response head (without its blank line)."""
    status_line, *lines = block.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


def request_bytes(
    method: str, target: str, host: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    """One request's bytes, Content-Length framed when there is a body."""
    if body or method in ("POST", "PUT", "PATCH"):
        headers = {**headers, "content-length": str(len(body))}
    return request_head(method, target, host, headers) + body


def request_head(method: str, target: str, host: str, headers: dict[str, str]) -> bytes:
    """A request's head (through its blank line) with exactly ``headers`` besides ``host``:
    a caller that sends the body itself (``os.sendfile``) states its ``content-length``."""
    lines = [f"{method} {target} HTTP/1.1", f"host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class SocketAnswers:
    """Reads the answers off a blocking socket one at a time, for wire-level tests."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._responses = Responses()

    def next(self, *, bodiless: bool = False) -> Response:
        """The next answer (``bodiless`` for a HEAD request's); ConnectionError if the
        server closed the connection first."""
        self._responses.expect(bodiless=bodiless)
        done = self._responses.feed(b"")
        while not done:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            done = self._responses.feed(data)
        return done[0]

    @property
    def partial(self) -> bool:
        """Whether bytes were read that are not part of an answer returned."""
        return self._responses.partial

    def closed(self) -> bool:
        """Whether the server closed the connection (after what was read)."""
        try:
            return not self.sock.recv(65536, socket.MSG_PEEK)
        except ConnectionError:
            return True


class Connection:
    """One keep-alive HTTP/1.1 connection: one request at a time, answered in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self._reader, self._writer, self._host = reader, writer, host
        self._responses = Responses()

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        """Connect to ``host:port``."""
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> Response:
        """Send one request and wait for its response; ConnectionError if the server closed."""
        self._responses.expect(bodiless=method == "HEAD")
        self._writer.write(request_bytes(method, target, self._host, headers, body))
        while True:
            data = await self._reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            done = self._responses.feed(data)
            if done:
                return done[0]

    def closed(self) -> bool:
        """Whether the server closed its side (seen by a read that returned nothing)."""
        return self._reader.at_eof() or self._writer.is_closing()

    async def close(self) -> None:
        """Close the connection."""
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


class Client:
    """One keep-alive connection to ``host:port``, opened again when the server closed it.

    A request that fails on a kept-alive connection before any answer came is sent once more
    on a fresh one, as browsers do: the server may close an idle connection just as the
    request is written (uvicorn's keep-alive timeout is 5 s)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._connection: Connection | None = None

    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> Response:
        """Send one request and return its response (ConnectionError if it failed twice)."""
        reused = self._connection is not None and not self._connection.closed()
        if not reused:
            await self.close()
            self._connection = await Connection.open(self.host, self.port)
        assert self._connection is not None
        try:
            return await self._connection.request(method, target, headers, body)
        except ConnectionError:
            await self.close()
            if not reused:
                raise
        self._connection = await Connection.open(self.host, self.port)
        return await self._connection.request(method, target, headers, body)

    async def close(self) -> None:
        """Close the connection, if one is open."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()
