"""The byte-serving fast path reads the plainest requests itself (``ops.fastpath.
simple_request``), before uvicorn's parser: what it accepts, httptools reads as the same one
request (method, path, query, headers as uvicorn lists them, keep-alive, no body, nothing
left over); everything unusual is left to httptools."""

from __future__ import annotations

from urllib.parse import unquote

import httptools
import pytest

from ops.fastpath import simple_request


class Parsed:
    """What httptools (with uvicorn's header handling) makes of some bytes."""

    def __init__(self, data: bytes) -> None:
        self.messages = 0
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        parser = httptools.HttpRequestParser(self)
        parser.feed_data(data)
        self.method = parser.get_method()
        self.keep_alive = parser.should_keep_alive()
        self.version = parser.get_http_version()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value.rstrip(b" \t")))  # as uvicorn's on_header

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.messages += 1


TARGET = b"/blobs/files/sha256/ab/cd%20e?exp=1&n=a%20b.m4s&t=video%2Fmp4&sig=x-_Y"
ACCEPTED = [
    b"GET " + TARGET + b" HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nRange: bytes=100000-300000\r\n\r\n",
    b"HEAD /media/tok.1.sig/videos/a/b.ts HTTP/1.1\r\n\r\n",
    b'GET /blobs/x HTTP/1.1\r\nhost:x\r\nIf-None-Match:   "e"  \r\nX-Empty:\r\n\r\n',
    b"GET /blobs/x?a?b=c HTTP/1.1\r\nExpect: 100-continue\r\nX-Request-ID: abc-123\r\n\r\n",
    b"GET /blobs/%2e%2e/x%ZZ HTTP/1.1\r\nIf-Range: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n",
    b"GET /blobs/x HTTP/1.1\r\nConnection: Keep-Alive\r\nAccept: */*\r\n\r\n",
]
DECLINED = [
    b"GET /blobs/x HTTP/1.0\r\n\r\n",  # keep-alive rules of HTTP/1.0
    b"GET /blobs/x HTTP/1.1\r\nConnection: close\r\n\r\n",
    b"GET /blobs/x HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n",
    b"GET /blobs/x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /blobs/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    b"GET /blobs/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET /blobs/x HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
    b"GET /blobs/x HTTP/1.1\r\n\r\nGET /blobs/y HTTP/1.1\r\n\r\n",  # pipelined
    b"GET /blobs/x HTTP/1.1\r\nHost: x\r\n",  # not whole yet
    b"GET /blobs/x HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n",  # obsolete line folding
    b"GET /blobs/x HTTP/1.1\r\nX-Latin: caf\xe9\r\n\r\n",
    b"GET /blobs/x HTTP/1.1\r\nX-Tab: a\tb\r\n\r\n",
    b"GET /blobs/x HTTP/1.1\r\nBad Name: a\r\n\r\n",
    b"GET /blobs/x HTTP/1.1\nHost: x\n\n",  # bare line feeds
    b"GET http://host/blobs/x HTTP/1.1\r\n\r\n",  # absolute form
    b'GET /blobs/a"b HTTP/1.1\r\n\r\n',
    b"GET /blobs/x#frag HTTP/1.1\r\n\r\n",
    b"POST /blobs/x HTTP/1.1\r\n\r\n",
    b"get /blobs/x HTTP/1.1\r\n\r\n",
    b"\r\nGET /blobs/x HTTP/1.1\r\n\r\n",
]


@pytest.mark.parametrize("data", ACCEPTED)
def test_an_accepted_request_is_the_one_httptools_reads(data: bytes) -> None:
    simple = simple_request(data)
    parsed = Parsed(data)
    assert simple is not None
    assert (parsed.messages, parsed.body, parsed.version) == (1, b"", "1.1")
    assert parsed.keep_alive
    url = httptools.parse_url(parsed.url)
    path = url.path.decode("ascii")
    assert simple.method == parsed.method
    assert simple.target == parsed.url
    assert simple.path == (unquote(path) if "%" in path else path)  # uvicorn's scope["path"]
    assert simple.query_string == (url.query or b"")
    assert simple.headers == parsed.headers


@pytest.mark.parametrize("data", DECLINED)
def test_anything_unusual_is_left_to_httptools(data: bytes) -> None:
    assert simple_request(data) is None
