"""The load generators' HTTP/1.1 response parser (kits/rawhttp.py): framing across reads,
pipelined answers, HEAD and 204 answers without a body."""

from __future__ import annotations

from kits.rawhttp import Responses, request_bytes

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nContent-Type: text/plain\r\n\r\nhello"


def test_a_response_split_at_every_byte_comes_out_once_and_whole() -> None:
    parser = Responses()
    parser.expect()
    got = [r for i in range(len(OK)) for r in parser.feed(OK[i : i + 1])]
    assert [(r.status, r.headers["content-type"], r.body) for r in got] == [
        (200, "text/plain", b"hello")
    ]


def test_pipelined_answers_in_one_read_keep_their_order_and_bodies() -> None:
    parser = Responses()
    for bodiless in (False, True, False, False):
        parser.expect(bodiless=bodiless)
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"  # HEAD: length, no body
    gone = b"HTTP/1.1 204 No Content\r\n\r\n"
    refused = b"HTTP/1.1 409 Conflict\r\ncontent-length: 2\r\n\r\n{}"
    got = parser.feed(OK + head + gone + refused[:10])
    assert [(r.status, r.body) for r in got] == [(200, b"hello"), (200, b""), (204, b"")]
    assert [(r.status, r.body) for r in parser.feed(refused[10:])] == [(409, b"{}")]


def test_a_request_with_a_body_is_length_framed() -> None:
    sent = request_bytes("PUT", "/x", "h:1", {"a": "b"}, b"{}")
    assert sent == b"PUT /x HTTP/1.1\r\nhost: h:1\r\na: b\r\ncontent-length: 2\r\n\r\n{}"
    assert b"content-length" not in request_bytes("GET", "/x", "h:1", {})


def test_an_answer_waits_for_its_request_to_be_known() -> None:
    """Bytes of an answer to a request not yet noted are kept: a HEAD's has no body."""
    parser = Responses()
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
    assert parser.feed(head + OK) == []
    parser.expect(bodiless=True)
    parser.expect()
    got = parser.feed(b"")
    assert [(r.status, r.body) for r in got] == [(200, b""), (200, b"hello")]
