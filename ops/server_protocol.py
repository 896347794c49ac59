"""uvicorn's HTTP protocol, answering requests it cannot parse with a problem document, and
answering the byte-serving fast path's requests itself (``ops.fastpath``).

uvicorn rejects a request it cannot parse (a request line or headers over its buffer, bytes
that are not HTTP) before the app sees it, with a ``text/plain`` 400. This subclass keeps
uvicorn's behaviour and only replaces that body with ``application/problem+json``.

With ``FastPaths`` (``LIVECLASS_FAST_SERVING``, on by default) a GET or HEAD without a body
under one of its prefixes, on a plain-HTTP connection, goes to its responder before any
ASGI task exists; what the responder hands back (None) starts uvicorn's ASGI task as usual.
The request still gets uvicorn's request/response cycle object, so pipelining, keep-alive,
``Connection: close``, the keep-alive timeout and graceful shutdown work as for any other
request: a pipelined request waits in uvicorn's queue until the fast answer is sent.

The commonest case is taken earlier still: bytes that are exactly one whole simple request
for a fast prefix (``ops.fastpath.simple_request``: GET or HEAD, HTTP/1.1, plain characters,
no body or connection headers), arriving while nothing else is under way on the connection,
are answered before the parser sees them, with a small stand-in for the cycle (``_Taken``)
that uvicorn's pipelining, shutdown and disconnection logic read while the answer is sent:
no parser callbacks, scope, cycle object or event per request. What the responder declines
is then parsed as usual and goes straight to the app.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import socket
import time
from typing import TYPE_CHECKING, Any

import orjson

from ops import body_tap, internals
from ops.fastpath import (
    FastAnswer,
    FastPaths,
    FastRequest,
    Responder,
    Sending,
    head_bytes,
    simple_request,
    wrap_socket,
)
from ops.problems import MEDIA_TYPE, PROBLEM_TYPE_BASE
from ops.requests import request_id

if TYPE_CHECKING:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)


def unparseable_request_body(request_id: str) -> bytes:
    """The problem document sent for a request that is not valid HTTP."""
    return orjson.dumps(
        {
            "type": PROBLEM_TYPE_BASE + "malformed-request",
            "title": "Bad Request",
            "status": 400,
            "detail": "The request is not valid HTTP or its request line or headers are too long.",
            "request_id": request_id,
        }
    )


def http_protocol_class(fast: FastPaths | None = None) -> type[asyncio.Protocol] | str:
    """The protocol class for ``uvicorn.Config(http=...)`` ("auto" without httptools);
    with ``fast``, one that answers its prefixes itself."""
    internals.check_uvicorn()  # this class and realtime.ws_protocol's override its internals
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
    except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
        return "auto"
    body_tap.check(HttpToolsProtocol, RequestResponseCycle)

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            request_id = secrets.token_hex(8)
            body = unparseable_request_body(request_id)
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            head += [name + b": " + value + b"\r\n" for name, value in self._default_headers()]
            head += [
                b"content-type: " + MEDIA_TYPE.encode() + b"\r\n",
                b"content-length: " + str(len(body)).encode() + b"\r\n",
                b"x-request-id: " + request_id.encode() + b"\r\n",
                b"x-content-type-options: nosniff\r\n",
                b"connection: close\r\n\r\n",
            ]
            self.transport.write(b"".join(head) + body)
            self.transport.close()

        def _default_headers(self) -> list[tuple[bytes, bytes]]:
            return list(self.server_state.default_headers)

        # A route may take its body's pieces straight from the parser (ops.body_tap).
        def on_headers_complete(self) -> None:
            body_tap.offer(self, _has_body(self.headers))
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not body_tap.taken(self, body):
                super().on_body(body)

        def on_message_complete(self) -> None:
            body_tap.finished(self)
            super().on_message_complete()

    if fast is None or not fast.routes:
        return ProblemHttpToolsProtocol
    return _fast_protocol(ProblemHttpToolsProtocol, fast)


async def _fast(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - a marker
    """Stands for "the fast path" where uvicorn expects the app of a request; never run."""
    raise RuntimeError("the fast path's marker was run as an app")


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


class _Unheard:
    """Stands for a request's ``asyncio.Event`` where nothing waits for it (no app task)."""

    @staticmethod
    def set() -> None:
        """Nothing to wake."""


class _Taken:
    """uvicorn's ``RequestResponseCycle`` for a request the fast path took from the raw
    bytes before its parser saw them: the fields uvicorn's protocol reads of the current
    request (pipelining, graceful shutdown, a lost connection)."""

    __slots__ = (
        "disconnected",
        "keep_alive",
        "on_response",
        "response_complete",
        "response_started",
    )
    message_event = _Unheard()

    def __init__(self, on_response: Any) -> None:
        self.keep_alive = True  # HTTP/1.1 without a Connection header (simple_request)
        self.response_started = self.response_complete = self.disconnected = False
        self.on_response = on_response


def _fast_protocol(base: type[HttpToolsProtocol], paths: FastPaths) -> type[asyncio.Protocol]:
    """``base`` (uvicorn's httptools protocol) answering ``paths`` itself."""
    from uvicorn.protocols.http.httptools_impl import (
        HEADER_VALUE_RE,
        STATUS_LINE,
        RequestResponseCycle,
    )

    class FastHttpToolsProtocol(base):  # type: ignore[valid-type, misc]
        """uvicorn's protocol with the fast path (see the module's docstring)."""

        app: Any  # uvicorn's, swapped for the marker while a fast request is parsed
        cycle: Any  # uvicorn's RequestResponseCycle, or a _Taken

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.sending: Sending | None = None
            self.parsing = False
            self.sock: socket.socket | None = None
            self.asgi = self.app
            self.between = True  # the parser holds no part of a request
            self.to_app = False  # the fast path declined the request being parsed

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            if self.scheme == "http":  # sendfile needs the bare socket: never under TLS
                self.sock = wrap_socket(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            self._let_go()
            super().connection_lost(exc)

        def handle_websocket_upgrade(self) -> None:
            self._let_go()  # the WebSocket protocol takes the connection from here
            super().handle_websocket_upgrade()

        def _let_go(self) -> None:
            if self.sending is not None:
                self.sending.abort()  # calls _sent(ok=False), which forgets it
            if self.sock is not None:
                self.sock.detach()  # the transport owns and closes the descriptor
                self.sock = None

        def data_received(self, data: bytes) -> None:
            if not self._take(data):
                super().data_received(data)

        def _take(self, data: bytes) -> bool:
            """Answer ``data`` without the parser when it is one whole simple request for a
            fast prefix (``simple_request``) on a connection with nothing else under way:
            no scope, no request/response cycle, no parser callbacks. False: parse it."""
            if (
                not self.between
                or self.pipeline
                or self.sock is None
                or not (self.cycle is None or self.cycle.response_complete)
                or self.limit_concurrency is not None  # uvicorn's 503 rule would apply
                or self.root_path
            ):
                return False
            simple = simple_request(data)
            if simple is None:
                return False
            responder = paths.responder(simple.method, simple.target)
            if responder is None:
                return False
            self._unset_keepalive_if_required()
            request = FastRequest(
                simple.method.decode("ascii"), simple.path, simple.query_string, simple.headers
            )
            previous = self.cycle
            taken = _Taken(self.on_response_complete)
            self.cycle = taken
            if self._answer(taken, responder, request):
                return True
            self.cycle, self.to_app = previous, True  # the app answers: parse it for the app
            return False

        def on_message_begin(self) -> None:
            self.between = False
            super().on_message_begin()

        def on_message_complete(self) -> None:
            self.between = True
            super().on_message_complete()

        def on_headers_complete(self) -> None:
            # An answer finished inside this same parse may have armed the keep-alive timer.
            self._unset_keepalive_if_required()
            to_app, self.to_app = self.to_app, False
            if (
                to_app
                or self.sock is None
                or paths.responder(self.parser.get_method(), self.url) is None
                or _has_body(self.headers)
            ):
                super().on_headers_complete()
                return
            self.app, self.parsing = _fast, True
            try:
                super().on_headers_complete()
            finally:
                self.app, self.parsing = self.asgi, False

        def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
            if app is _fast:
                if not self.parsing:
                    # Popped from the pipeline as the previous answer finished: start it
                    # after that one's callbacks (no recursion through a long pipeline).
                    self.loop.call_soon(self._serve_or_pass, cycle)
                    return
                if self._serve(cycle):
                    return
                app = self.asgi
            super()._start_asgi_task(cycle, app)

        def _serve_or_pass(self, cycle: RequestResponseCycle) -> None:
            if self.transport.is_closing():
                return
            if not self._serve(cycle):
                super()._start_asgi_task(cycle, self.asgi)

        def _serve(self, cycle: RequestResponseCycle) -> bool:
            """Answer ``cycle``'s request here; False: the app answers it."""
            scope = cycle.scope
            responder = paths.responder(scope["method"].encode(), scope["raw_path"])
            if responder is None:  # pragma: no cover - on_headers_complete checked it
                return False
            request = FastRequest(
                scope["method"], scope["path"], scope["query_string"], scope["headers"]
            )
            return self._answer(cycle, responder, request)

        def _answer(
            self, cycle: RequestResponseCycle | _Taken, responder: Responder, request: FastRequest
        ) -> bool:
            """Answer ``request`` (``cycle``'s) by ``responder``; False: the app answers it."""
            if self.transport.is_closing():
                return True  # nobody to answer (uvicorn's app would write into the void)
            if self.transport.get_write_buffer_size():
                return False  # an earlier answer is still queued in the transport
            started = time.perf_counter()
            try:
                answer = responder(request)
            except Exception:
                logger.exception("fast path: the responder failed; the app answers")
                return False
            if answer is None:
                return False
            if HEADER_VALUE_RE.search(b"".join([value for _, value in answer.headers])):
                answer.close()
                return False  # the app refuses such a header its own way
            if request.method == "HEAD":
                answer.close()
                answer.count = 0
            rid = request_id(request.headers)
            head = head_bytes(
                STATUS_LINE[answer.status],
                self.server_state.default_headers,
                answer,
                request_id=rid,
                keep_alive=cycle.keep_alive,
            )
            cycle.response_started = True
            assert self.sock is not None  # on_headers_complete or _take checked it
            done = functools.partial(self._sent, cycle, request, answer, started, rid)
            self.sending = Sending(self.loop, self.sock, head, answer, done)
            self.sending.run()
            return True

        def _sent(
            self,
            cycle: RequestResponseCycle | _Taken,
            request: FastRequest,
            answer: FastAnswer,
            started: float,
            rid: str,
            ok: bool,
        ) -> None:
            self.sending = None
            client = self.client[0] if self.client else None
            paths.finished(request, answer, started=started, client=client, request_id=rid)
            if not ok:
                cycle.disconnected = True
                self.transport.close()
                return
            cycle.response_complete = True
            cycle.message_event.set()
            if not cycle.keep_alive:
                self.transport.close()
            cycle.on_response()

    return FastHttpToolsProtocol
