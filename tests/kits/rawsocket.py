"""A WebSocket done by hand, for tests of clients that stop reading or never answer pings."""

from __future__ import annotations

import base64
import os
import socket
import struct

import orjson

from kits.rooms import TIMEOUT, Message, NodeLike


class RawSocket:
    """A WebSocket done by hand on a blocking socket with a tiny receive buffer.

    After the handshake it reads only when told to, so the server's writes pile up in
    the kernel buffers and then in the server's send queue, as with a client that hangs.
    """

    def __init__(self, node: NodeLike, path: str, *, rcvbuf: int = 4096) -> None:
        host, port = node.url.removeprefix("http://").split(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the TCP connection")
        return chunk

    def read_frame(self) -> tuple[int, bytes]:
        """Read one frame: (opcode, payload). Server frames are never masked."""
        while True:
            frame = self._parse()
            if frame is not None:
                return frame
            self.buffer += self._recv()

    def _parse(self) -> tuple[int, bytes] | None:
        data = self.buffer
        if len(data) < 2:
            return None
        opcode, length, offset = data[0] & 0x0F, data[1] & 0x7F, 2
        if length == 126:
            if len(data) < 4:
                return None
            (length,) = struct.unpack("!H", data[2:4])
            offset = 4
        elif length == 127:
            if len(data) < 10:
                return None
            (length,) = struct.unpack("!Q", data[2:10])
            offset = 10
        if len(data) < offset + length:
            return None
        self.buffer = data[offset + length :]
        return opcode, data[offset : offset + length]

    def messages_until_close(self) -> tuple[list[Message], int, str]:
        """Read everything left: the JSON messages, then the close code and reason."""
        messages: list[Message] = []
        while True:
            opcode, payload = self.read_frame()
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                return messages, code, payload[2:].decode(errors="replace")
            if opcode == 0x1:
                messages += [orjson.loads(line) for line in payload.split(b"\n") if line]

    def close(self) -> None:
        self.sock.close()
