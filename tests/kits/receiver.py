"""A real HTTP receiver for webhook tests: a server on a free port (in a thread) that
records every request and answers as told, failing on purpose when asked.

``plan(path, *behaviours)`` queues how the next requests to ``path`` are answered, one
behaviour each (then ``ok`` again): ``ok`` (204), ``status:500`` (any status),
``slow:SECONDS`` (answer after a pause), ``trickle:SECONDS`` (a 200 whose body comes
one byte a second for that long), ``giant`` (a 200 with 64 MiB of body), ``close``
(the connection dropped unanswered), ``redirect`` (a 302 to another path).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it (header names lower-cased)."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """The server and what it received."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._plans: dict[str, deque[str]] = {}
        self._lock = threading.Lock()
        self.giant_bytes_sent = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        Received(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.time(),
                        )
                    )
                    plan = receiver._plans.get(self.path)
                    behaviour = plan.popleft() if plan else "ok"
                with contextlib.suppress(OSError):
                    receiver._answer(self, behaviour)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the receiver."""
        return f"http://127.0.0.1:{self.port}"

    def plan(self, path: str, *behaviours: str) -> None:
        """Answer the next requests to ``path`` with ``behaviours``, in order."""
        with self._lock:
            self._plans.setdefault(path, deque()).extend(behaviours)

    def received(self, path: str | None = None) -> list[Received]:
        """The requests so far (to ``path`` only, if given)."""
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler, behaviour: str) -> None:
        kind, _, value = behaviour.partition(":")
        if kind == "close":
            handler.close_connection = True
            return
        if kind == "slow":
            time.sleep(float(value))
            kind = "ok"
        if kind == "ok":
            handler.send_response(204)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        elif kind == "status":
            text = f"failing on purpose with {value}".encode()
            handler.send_response(int(value))
            handler.send_header("Content-Length", str(len(text)))
            handler.end_headers()
            handler.wfile.write(text)
        elif kind == "redirect":
            handler.send_response(302)
            handler.send_header("Location", "/elsewhere")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        elif kind == "trickle":
            handler.send_response(200)
            handler.send_header("Content-Length", "1000000")
            handler.end_headers()
            until = time.monotonic() + float(value)
            while time.monotonic() < until:
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(1.0)
            handler.close_connection = True
        elif kind == "giant":
            size = 64 * 1024 * 1024
            handler.send_response(200)
            handler.send_header("Content-Length", str(size))
            handler.send_header("Content-Type", "text/plain")
            handler.end_headers()
            chunk = b"G" * 65536
            for _ in range(size // len(chunk)):
                handler.wfile.write(chunk)
                self.giant_bytes_sent += len(chunk)
        else:
            raise ValueError(f"unknown behaviour {behaviour!r}")

    def start(self) -> Receiver:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """A running receiver, stopped afterwards."""
    receiver = Receiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()
