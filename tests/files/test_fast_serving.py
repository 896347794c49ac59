"""The byte-serving fast path (ops/fastpath.py, lms/files/fast.py): signed blob links
answered by the HTTP protocol with sendfile give the same answers as the ASGI route, and
the protocol's own edge cases hold (pipelining, keep-alive, HEAD, a client that leaves
mid-body, a slow reader, Connection: close).

Two nodes share one secret and one blob directory: ``fast`` serves with the fast path (the
default), ``plain`` with ``LIVECLASS_FAST_SERVING=false`` (every request through ASGI), so
the same signed link can be asked of both and the answers compared."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from files_kit import Course, make_course, upload

from kits.nodes import Node, start_node
from kits.rawhttp import SocketAnswers
from kits.servers import LiveServer
from lms.files import signing

BIG = 10 * 1024 * 1024
SMALL = 300_000
VARYING = {"date"}  # differs between any two answers


@dataclass
class Pair:
    """The node with the fast path and the one without, on the same blobs."""

    fast: Node
    plain: LiveServer
    course: Course


@pytest.fixture(scope="module")
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("fastserve")
    env = {
        "LIVECLASS_UPLOAD_MAX_FILE_BYTES": str(4 * BIG),
        "LIVECLASS_BLOBS_DIR": str(root / "blobs"),
    }
    for fast in start_node(root / "fast", "sqlite", request, **env):
        plain = LiveServer(
            data_dir=root / "plain",
            env={**fast.server.env, "LIVECLASS_FAST_SERVING": "false"},
        ).start()
        try:
            yield Pair(fast, plain, make_course(fast))
        finally:
            plain.stop()


@pytest.fixture(scope="module")
def files(pair: Pair) -> dict[str, tuple[str, bytes]]:
    """Signed links (path and query) and contents: a small and a 10 MB file."""
    made = {}
    for name, size in (("small.bin", SMALL), ("big.bin", BIG)):
        data = os.urandom(size)
        file = upload(pair.course, data, name)
        with pair.course.client() as client:
            linked = client.post(f"/api/v1/files/{file['id']}/link", json={})
        assert linked.status_code == 200, linked.text
        made[name] = (str(linked.json()["url"]), data)
    return made


def fast_answers(node_url: str, route: str = "/blobs/{key:path}") -> float:
    """How many requests the node's fast path has answered (its Prometheus counter)."""
    text = httpx.get(node_url + "/metrics", timeout=10).text
    line = f'liveclass_http_fast_path_answers_total{{route="{route}"}} '
    found = [row.removeprefix(line) for row in text.splitlines() if row.startswith(line)]
    return float(found[0]) if found else 0.0


def comparable(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in VARYING}
    body = response.content
    kind = headers.get("content-type", "")
    if kind.startswith("multipart/byteranges"):  # a random boundary per answer
        boundary = kind.split("boundary=", 1)[1]
        headers["content-type"] = kind.replace(boundary, "B")
        body = body.replace(boundary.encode(), b"B")
    return response.status_code, headers, body


def test_the_fast_path_answers_as_the_route_does(
    pair: Pair, files: dict[str, tuple[str, bytes]]
) -> None:
    url, data = files["small.bin"]
    with httpx.Client(base_url=pair.fast.url, timeout=30) as fast:
        etag = fast.get(url).headers["etag"]
        modified = fast.get(url).headers["last-modified"]
    path, _, query = url.partition("?")
    exp = re.findall(r"exp=(\d+)", url)[0]
    expired = url.replace(f"exp={exp}", f"exp={int(exp) - 100_000}")
    asks: list[tuple[str, str, dict[str, str]]] = [
        ("GET", url, {}),
        ("HEAD", url, {}),
        ("GET", url, {"Range": "bytes=10-19"}),
        ("GET", url, {"Range": "bytes=-1000"}),
        ("GET", url, {"Range": f"bytes=100-{SMALL * 3}"}),  # an end past the last byte
        ("GET", url, {"Range": f"bytes={SMALL}-"}),  # starts past the end: 416
        ("GET", url, {"Range": "bytes=0-3,100-103"}),  # several: handed to the route
        ("GET", url, {"Range": "bytes=x-y"}),  # malformed: the whole file
        ("GET", url, {"Range": "items=0-3"}),
        ("HEAD", url, {"Range": "bytes=0-9"}),
        ("GET", url, {"If-None-Match": etag}),
        ("GET", url, {"If-None-Match": f'"other", W/{etag}'}),
        ("HEAD", url, {"If-None-Match": "*"}),
        ("GET", url, {"Range": "bytes=0-3", "If-Range": '"stale"'}),
        ("GET", url, {"Range": "bytes=0-3", "If-Range": etag}),
        ("GET", url, {"Range": "bytes=0-3", "If-Range": modified}),
        ("GET", url.replace("d=attachment", "d=inline"), {}),  # forged: 403 problem
        ("GET", expired, {}),
        ("GET", path, {}),  # no signature at all
        ("GET", path + "?" + query + "&sig=x", {}),  # the last value counts
        ("GET", "/blobs/", {}),
        ("GET", "/blobs/" + "a" * 5000 + "?" + query, {}),
    ]
    before = fast_answers(pair.fast.url)
    with (
        httpx.Client(base_url=pair.fast.url, timeout=30) as fast,
        httpx.Client(base_url=pair.plain.url, timeout=30) as plain,
    ):
        for method, target, headers in asks:
            headers["X-Request-ID"] = f"compare-{len(headers)}"  # problem bodies name it
            ours = fast.request(method, target, headers=headers)
            theirs = plain.request(method, target, headers=headers)
            assert comparable(ours) == comparable(theirs), (method, target, headers)
            if ours.status_code == 200 and method == "GET":
                assert ours.content == data
            if ours.status_code == 403:
                assert ours.headers["content-type"] == "application/problem+json"
                assert ours.json()["status"] == 403
    # 200 x2, 206 x3, 416, 200 (malformed) x2, HEAD 206, 304 x2 (one HEAD), If-Range x3
    assert fast_answers(pair.fast.url) - before == 15
    assert fast_answers(pair.plain.url) == 0


def test_media_links_answer_as_the_route_does(
    pair: Pair, files: dict[str, tuple[str, bytes]]
) -> None:
    """/media/{token}/{key} (a video's files under a signed prefix) through the fast path
    and through the app, for a prefix grant over the blobs of this test's files."""
    url, data = files["small.bin"]
    key = url.partition("?")[0].removeprefix("/blobs/")
    secret = pair.fast.server.env["LIVECLASS_SECRET_KEY"]
    folder = key.rsplit("/", 1)[0] + "/"
    granted = signing.sign_prefix(secret, signing.PrefixGrant(folder, int(time.time()) + 600))
    token = granted.removeprefix("/media/").split("/", 1)[0]
    elsewhere = signing.sign_prefix(
        secret, signing.PrefixGrant("videos/x/", int(time.time()) + 600)
    )
    asks = [
        ("GET", f"{granted}{key.rsplit('/', 1)[1]}", {}),
        ("HEAD", f"{granted}{key.rsplit('/', 1)[1]}", {}),
        ("GET", f"{granted}{key.rsplit('/', 1)[1]}", {"Range": "bytes=7-70"}),
        ("GET", f"{granted}missing", {}),  # covered, but no such blob: 404 from the app
        ("GET", f"{elsewhere}{key}", {}),  # not covered: 403
        ("GET", f"/media/{token[:-2]}xx/{key}", {}),  # forged
        ("GET", f"/media/{token}/", {}),  # an empty key
    ]
    before = fast_answers(pair.fast.url, "/media/{token}/{key:path}")
    with (
        httpx.Client(base_url=pair.fast.url, timeout=30) as fast,
        httpx.Client(base_url=pair.plain.url, timeout=30) as plain,
    ):
        for method, target, headers in asks:
            headers["X-Request-ID"] = "compare-media"
            ours = fast.request(method, target, headers=headers)
            theirs = plain.request(method, target, headers=headers)
            assert comparable(ours) == comparable(theirs), (method, target, headers)
        assert fast.get(asks[0][1]).content == data
    assert fast_answers(pair.fast.url, "/media/{token}/{key:path}") - before == 4


def test_a_request_id_given_is_kept(pair: Pair, files: dict[str, tuple[str, bytes]]) -> None:
    url, _ = files["small.bin"]
    with httpx.Client(base_url=pair.fast.url, timeout=30) as fast:
        assert (
            fast.head(url, headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
        )
        bad = fast.head(url, headers={"X-Request-ID": "no spaces please"}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{16}", bad)


def test_a_link_asked_again_is_refused_once_it_expires(pair: Pair) -> None:
    """The fast path remembers the links whose signature held; each request still checks the
    expiry, and a forged variant of a remembered link is still refused."""
    secret = pair.fast.server.env["LIVECLASS_SECRET_KEY"]
    key = "tests/expiring.bin"
    blob = Path(pair.fast.server.env["LIVECLASS_BLOBS_DIR"]) / key
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(b"soon gone")
    link = signing.Link(key, int(time.time()) + 2, "attachment", "expiring.bin", "text/plain")
    url = signing.sign(secret, link)
    before = fast_answers(pair.fast.url)
    with (
        httpx.Client(base_url=pair.fast.url, timeout=30) as fast,
        httpx.Client(base_url=pair.plain.url, timeout=30) as plain,
    ):
        for _ in range(3):
            assert fast.get(url).content == b"soon gone"
        assert fast_answers(pair.fast.url) - before == 3
        forged = url.replace("n=expiring.bin", "n=other.bin")
        assert fast.get(forged).status_code == plain.get(forged).status_code == 403
        while time.time() <= link.expires:
            time.sleep(0.2)
        headers = {"X-Request-ID": "expired"}
        ours, theirs = fast.get(url, headers=headers), plain.get(url, headers=headers)
        assert ours.status_code == 403
        assert comparable(ours) == comparable(theirs)
    assert fast_answers(pair.fast.url) - before == 3


def test_a_blob_changed_on_disk_is_answered_as_it_is_now(pair: Pair) -> None:
    """A blob under a key that does not name its content, rewritten between requests: the
    fast path answers its new length, entity tag and bytes (nothing remembered is stale)."""
    secret = pair.fast.server.env["LIVECLASS_SECRET_KEY"]
    key = "tests/changing.bin"
    blob = Path(pair.fast.server.env["LIVECLASS_BLOBS_DIR"]) / key
    blob.parent.mkdir(parents=True, exist_ok=True)
    link = signing.Link(key, int(time.time()) + 600, "inline", "changing.bin", "text/plain")
    url = signing.sign(secret, link)
    with (
        httpx.Client(base_url=pair.fast.url, timeout=30) as fast,
        httpx.Client(base_url=pair.plain.url, timeout=30) as plain,
    ):
        for version, content in enumerate((b"first version", b"the second, longer version")):
            blob.write_bytes(content)
            os.utime(blob, ns=(10**18 + version, 10**18 + version))
            for headers in ({}, {"Range": "bytes=4-9"}, {"Range": "bytes=4-9"}):
                headers["X-Request-ID"] = "changing"
                ours, theirs = fast.get(url, headers=headers), plain.get(url, headers=headers)
                assert comparable(ours) == comparable(theirs)
                assert ours.content == (content[4:10] if "Range" in headers else content)


# ------------------------------------------------------------------ raw HTTP/1.1


def connect(node_url: str, *, rcvbuf: int | None = None) -> socket.socket:
    host, port = node_url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(30)
    sock.connect((host, int(port)))
    return sock


def ask(method: str, target: str, *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: test", *headers, "", ""]
    return "\r\n".join(lines).encode()


def test_pipelined_requests_are_answered_in_order(
    pair: Pair, files: dict[str, tuple[str, bytes]]
) -> None:
    small, small_data = files["small.bin"]
    big, big_data = files["big.bin"]
    with connect(pair.fast.url) as sock:
        sock.sendall(
            ask("GET", big)
            + ask("HEAD", small)
            + ask("GET", "/healthz")  # the app's, between two fast ones
            + ask("GET", small, "Range: bytes=5-9")
            + ask("GET", small.replace("sig=", "sig=x"))  # refused by the app
            + ask("GET", small)
        )
        reader = SocketAnswers(sock)
        status, headers, body = reader.next()
        assert (status, hashlib.sha256(body).digest()) == (200, hashlib.sha256(big_data).digest())
        status, headers, body = reader.next(bodiless=True)
        assert (status, headers["content-length"]) == (200, str(SMALL))
        status, _, body = reader.next()
        assert status == 200 and b"ok" in body
        status, headers, body = reader.next()
        assert (status, body, headers["content-range"]) == (
            206,
            small_data[5:10],
            f"bytes 5-9/{SMALL}",
        )
        status, headers, _ = reader.next()
        assert (status, headers["content-type"]) == (403, "application/problem+json")
        status, _, body = reader.next()
        assert (status, body) == (200, small_data)
        assert not reader.partial  # nothing more came


def test_a_request_arriving_while_an_answer_is_sent_waits_its_turn(
    pair: Pair, files: dict[str, tuple[str, bytes]]
) -> None:
    """A plain request answered from its raw bytes (10 MB to a client with a tiny receive
    window, so the answer waits for the socket), then two more sent on their own before it
    is read: they are answered after it, in order, on the same connection."""
    big, big_data = files["big.bin"]
    small, small_data = files["small.bin"]
    with connect(pair.fast.url, rcvbuf=4096) as sock:
        sock.sendall(ask("GET", big))
        time.sleep(0.3)  # the answer is under way, stuck on the client's window
        sock.sendall(ask("GET", small, "Range: bytes=0-9"))
        time.sleep(0.1)
        sock.sendall(ask("GET", small.replace("sig=", "sig=x")))  # refused, by the app
        reader = SocketAnswers(sock)
        status, _, body = reader.next()
        assert (status, hashlib.sha256(body).digest()) == (200, hashlib.sha256(big_data).digest())
        status, _, body = reader.next()
        assert (status, body) == (206, small_data[:10])
        status, headers, _ = reader.next()
        assert (status, headers["content-type"]) == (403, "application/problem+json")
        sock.sendall(ask("GET", small))
        assert reader.next()[2] == small_data


def test_keep_alive_after_many_answers_then_close(
    pair: Pair, files: dict[str, tuple[str, bytes]]
) -> None:
    small, small_data = files["small.bin"]
    with connect(pair.fast.url) as sock:
        reader = SocketAnswers(sock)
        for index in range(20):
            sock.sendall(ask("GET", small, f"Range: bytes={index}-{index}"))
            status, _, body = reader.next()
            assert (status, body) == (206, small_data[index : index + 1])
        sock.sendall(ask("GET", small, "Connection: close"))
        status, headers, body = reader.next()
        assert (status, headers["connection"], body) == (200, "close", small_data)
        assert reader.closed()


def test_http_1_0_gets_its_answer_and_the_connection_closes(
    pair: Pair, files: dict[str, tuple[str, bytes]]
) -> None:
    small, small_data = files["small.bin"]
    with connect(pair.fast.url) as sock:
        sock.sendall(f"GET {small} HTTP/1.0\r\n\r\n".encode())
        reader = SocketAnswers(sock)
        status, _, body = reader.next()
        assert (status, body) == (200, small_data)
        assert reader.closed()


def test_a_slow_reader_gets_every_byte(pair: Pair, files: dict[str, tuple[str, bytes]]) -> None:
    """A 10 MB answer to a client with a tiny receive window that reads slowly: the server
    waits for the socket again and again (EAGAIN) and the bytes arrive whole, then the same
    connection serves another request."""
    big, big_data = files["big.bin"]
    small, small_data = files["small.bin"]
    with connect(pair.fast.url, rcvbuf=4096) as sock:
        sock.sendall(ask("GET", big))
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(4096)
        _, _, received = received.partition(b"\r\n\r\n")
        digest, count = hashlib.sha256(received), len(received)
        while count < BIG:
            chunk = sock.recv(min(16384, BIG - count))
            assert chunk, f"closed after {count} bytes"
            digest.update(chunk)
            count += len(chunk)
            if count < 2 * 1024 * 1024:
                time.sleep(0.001)  # slow at first, so the server's socket buffer fills
        assert digest.digest() == hashlib.sha256(big_data).digest()
        sock.sendall(ask("GET", small))
        assert SocketAnswers(sock).next()[2] == small_data


def open_descriptors(server: LiveServer) -> int:
    assert server.process is not None
    return len(os.listdir(f"/proc/{server.process.pid}/fd"))


def open_blobs(server: LiveServer) -> list[str]:
    """The node's descriptors open on files in the blob directory."""
    assert server.process is not None
    folder = f"/proc/{server.process.pid}/fd"
    blobs = str(Path(server.env["LIVECLASS_BLOBS_DIR"]).resolve())
    found = []
    for name in os.listdir(folder):
        try:
            target = os.readlink(f"{folder}/{name}")
        except FileNotFoundError:  # closed meanwhile
            continue
        if target.startswith(blobs + "/"):  # the directory itself stays open (openat2)
            found.append(target)
    return found


def test_clients_that_leave_mid_body_leave_nothing_open(
    pair: Pair, files: dict[str, tuple[str, bytes]]
) -> None:
    """Clients that close (or reset) the connection part-way through a 10 MB answer: the
    node closes the file and the socket, and goes on serving."""
    big, big_data = files["big.bin"]
    server = pair.fast.server
    with httpx.Client(base_url=pair.fast.url, timeout=30) as fast:
        assert fast.get(big).content == big_data
    settled = open_descriptors(server)
    for index in range(6):
        sock = connect(pair.fast.url, rcvbuf=4096)
        sock.sendall(ask("GET", big))
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 OK")
        if index % 2:  # an abortive close: RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    deadline = time.monotonic() + 30
    while open_descriptors(server) > settled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_descriptors(server) <= settled
    assert open_blobs(server) == []
    with httpx.Client(base_url=pair.fast.url, timeout=30) as fast:
        assert fast.get(big).content == big_data
