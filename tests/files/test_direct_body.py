"""A PATCH's body read by a worker thread straight from the socket (``lms.files.direct``),
on raw connections: the connection goes on after it (a pipelined request, keep-alive), a
client that stalls halfway gets the event loop's reading back and finishes, one that leaves
halfway keeps what arrived, and bodies the thread does not take (a few bytes, ``Expect:
100-continue``) are read as before. On both nodes of the module (SQLite with the local
store, where the thread reads; PostgreSQL with S3, which streams through the app)."""

from __future__ import annotations

import os
import socket
import time

from blake3 import blake3
from files_kit import CHUNK, TUS, Course, create, download, file_at, head, in_store

from kits.rawhttp import SocketAnswers
from kits.waiting import eventually


def connect(course: Course) -> socket.socket:
    host, port = course.node.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def patch_head(course: Course, location: str, at: int, length: int, **headers: str) -> bytes:
    """A PATCH's request line and headers declaring ``length`` bytes of body."""
    fields = {
        **CHUNK,
        "Host": course.node.url.removeprefix("http://"),
        "Authorization": f"Bearer {course.instructor}",
        "Upload-Offset": str(at),
        "Content-Length": str(length),
        **headers,
    }
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return f"PATCH {location} HTTP/1.1\r\n{lines}\r\n".encode()


def head_request(course: Course, location: str) -> bytes:
    fields = {**TUS, "Host": course.node.url.removeprefix("http://")}
    fields["Authorization"] = f"Bearer {course.instructor}"
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return f"HEAD {location} HTTP/1.1\r\n{lines}\r\n".encode()


def offset(course: Course, location: str) -> int:
    return int(head(course, location).headers["Upload-Offset"])


def finished(course: Course, location: str, answer: dict[str, str], data: bytes) -> None:
    """The upload made a file with exactly ``data``."""
    assert answer["upload-offset"] == str(len(data))
    file = file_at(course, _Done(answer))
    assert file["blake3"] == blake3(data).hexdigest()
    assert download(course, file["id"]) == data


class _Done:
    """Stands for httpx's answer where ``file_at`` reads ``Content-Location``."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = {"Content-Location": headers["content-location"]}


def test_pipelined_requests_after_a_body_are_answered(course: Course) -> None:
    """Two PATCHes and a HEAD in one write: the thread stops at each body's end, so the
    next request reaches the parser; the keep-alive connection answers all three."""
    data = os.urandom(1_500_000)
    location = create(course, len(data), "pipelined.bin")
    first, second = data[:900_000], data[900_000:]
    with connect(course) as sock:
        sock.sendall(
            patch_head(course, location, 0, len(first))
            + first
            + head_request(course, location)
            + patch_head(course, location, len(first), len(second))
            + second
        )
        answers = SocketAnswers(sock)
        status, headers, _ = answers.next()
        assert (status, headers["upload-offset"]) == (204, "900000")
        status, headers, _ = answers.next(bodiless=True)
        assert (status, headers["upload-offset"]) == (200, "900000")
        status, headers, _ = answers.next()
        assert status == 204
        finished(course, location, headers, data)
        sock.sendall(head_request(course, location))  # the same connection still serves
        assert answers.next(bodiless=True)[0] in (200, 404, 410)


def test_a_client_that_stalls_halfway_finishes(course: Course) -> None:
    """A pause longer than the thread waits (``STALL_SECONDS``) hands the body back to the
    event loop mid-way; the rest arrives there and the upload is whole."""
    data = os.urandom(1_200_000)
    location = create(course, len(data), "stalled.bin")
    with connect(course) as sock:
        sock.sendall(patch_head(course, location, 0, len(data)) + data[:500_000])
        if not in_store(course.node):
            eventually_offset(course, location, 500_000)
        time.sleep(1.0)  # past the thread's STALL_SECONDS (0.5): not a timing assertion
        sock.sendall(data[500_000:800_000])
        time.sleep(1.0)  # a second stall, now on the event loop's path
        sock.sendall(data[800_000:])
        answers = SocketAnswers(sock)
        status, headers, _ = answers.next()
        assert status == 204
        finished(course, location, headers, data)
        sock.sendall(head_request(course, location))  # keep-alive after the handback
        assert answers.next(bodiless=True)[0] in (200, 404, 410)


def eventually_offset(course: Course, location: str, expected: int) -> None:
    deadline = time.monotonic() + 30
    while offset(course, location) != expected:
        assert time.monotonic() < deadline, f"the offset never reached {expected}"
        time.sleep(0.05)


async def test_a_client_that_leaves_halfway_keeps_what_arrived(course: Course) -> None:
    """End of stream before the declared length, at once (the thread sees it) or after a
    half-close (the request is short): what arrived is kept and tus resumes from there."""
    data = os.urandom(1_000_000)
    location = create(course, len(data), "left.bin")
    sock = connect(course)
    sock.sendall(patch_head(course, location, 0, 600_000) + data[:300_000])
    sock.close()
    kept = 300_000
    await eventually(lambda: offset(course, location) == kept, f"the offset at {kept}")
    with connect(course) as short:
        short.sendall(patch_head(course, location, kept, 500_000) + data[kept:700_000])
        short.shutdown(socket.SHUT_WR)
        await eventually(lambda: offset(course, location) == 700_000, "the offset at 700000")
    with connect(course) as sock:
        sock.sendall(patch_head(course, location, 700_000, 300_000) + data[700_000:])
        status, headers, _ = SocketAnswers(sock).next()
    assert status == 204
    finished(course, location, headers, data)


def test_small_and_expect_continue_bodies_take_the_loops_path(course: Course) -> None:
    """A body of a few bytes (read whole with its head) and one that waits for ``100
    Continue`` (the thread would never send it) are read by the event loop, as before."""
    data = os.urandom(400_000)
    location = create(course, len(data), "small.bin")
    with connect(course) as sock:
        answers = SocketAnswers(sock)
        sock.sendall(patch_head(course, location, 0, 10) + data[:10])
        status, headers, _ = answers.next()
        assert (status, headers["upload-offset"]) == (204, "10")
        sock.sendall(patch_head(course, location, 10, len(data) - 10, Expect="100-continue"))
        status, *_ = answers.next(bodiless=True)
        assert status == 100
        sock.sendall(data[10:])
        status, headers, _ = answers.next()
    assert status == 204
    finished(course, location, headers, data)
