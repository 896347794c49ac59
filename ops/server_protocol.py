"""uvicorn's HTTP protocol, answering requests it cannot parse with a problem document.

uvicorn rejects a request it cannot parse (a request line or headers over its buffer, bytes
that are not HTTP) before the app sees it, with a ``text/plain`` 400. This subclass keeps
uvicorn's behaviour and only replaces that body with ``application/problem+json``.
"""

from __future__ import annotations

import asyncio
import secrets

import orjson

from ops import internals
from ops.problems import MEDIA_TYPE, PROBLEM_TYPE_BASE


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


def http_protocol_class() -> type[asyncio.Protocol] | str:
    """The protocol class for ``uvicorn.Config(http=...)`` ("auto" without httptools)."""
    internals.check_uvicorn()  # this class and realtime.ws_protocol's override its internals
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
        return "auto"

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

    return ProblemHttpToolsProtocol
