"""An upload staged in the S3-compatible store goes on from any node: begun on node A, its
connection dropped, resumed on node B with HEAD and PATCH, completed, downloaded whole.

Two real nodes over one PostgreSQL, one Redis and moto's S3 server (server mode, a free
port), with 5 MiB parts: the upload crosses part boundaries on both nodes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from blake3 import blake3

from kits.cluster import Cluster, cluster_of, private_redis
from kits.nodes import Node
from kits.redis_server import RedisServer
from kits.s3 import s3_server
from kits.servers import PostgresServer
from kits.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {**TUS, "Content-Type": "application/offset+octet-stream"}
PART = 5 << 20


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    """A private Redis for this module."""
    yield from private_redis()


@pytest.fixture
def cluster(redis: RedisServer, pg_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    """Two nodes with their own data directories sharing one bucket."""
    with s3_server() as s3:
        env = s3.env(s3.create_bucket("liveclass-uploads"))
        with cluster_of(
            ["a", "b"],
            redis,
            pg_server,
            tmp_path,
            LIVECLASS_S3_UPLOAD_PART_BYTES=str(PART),
            **env,
        ) as found:
            yield found


def course_of(node: Node) -> tuple[str, str]:
    """An instructor's course: (token, uploads path)."""
    _, teacher = node.register("instructor")
    with node.client(teacher) as client:
        made = client.post("/api/v1/courses", json={"title": "Uploads", "code": "UP-1"})
    assert made.status_code == 201, made.text
    return teacher, f"/api/v1/courses/{made.json()['id']}/uploads"


def offset_on(node: Node, token: str, location: str) -> int:
    with node.client(token) as client:
        answer = client.head(location, headers=TUS)
    assert answer.status_code == 200, answer.text
    return int(answer.headers["Upload-Offset"])


def cut_off(node: Node, token: str, location: str, body: bytes, sent: int) -> None:
    """A PATCH declaring all of `body` whose connection drops after `sent` bytes."""
    host, port = node.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        fields = {
            **CHUNK,
            "Host": f"{host}:{port}",
            "Authorization": f"Bearer {token}",
            "Upload-Offset": "0",
            "Content-Length": str(len(body)),
        }
        head = f"PATCH {location} HTTP/1.1\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        sock.sendall(head.encode() + body[:sent])


async def test_an_upload_begun_on_one_node_is_finished_on_another(cluster: Cluster) -> None:
    a, b = cluster.nodes
    token, uploads = course_of(a)
    data = os.urandom(2 * PART + 3_000_000)  # two parts and a last, smaller one
    with a.client(token) as client:
        made = client.post(uploads, headers={**TUS, "Upload-Length": str(len(data))})
    assert made.status_code == 201, made.text
    location = made.headers["Location"]

    # Node A takes a part and a tail, then the connection drops.
    cut_off(a, token, location, data, PART + 1_000_000)
    await eventually(
        lambda: offset_on(a, token, location) == PART + 1_000_000, "node A to keep what came"
    )

    # Node B knows where the upload stands and takes the rest (a stale offset is a 409).
    at = offset_on(b, token, location)
    assert at == PART + 1_000_000
    with b.client(token) as client:
        stale = client.patch(
            location, content=data[at + 1 :], headers={**CHUNK, "Upload-Offset": str(at + 1)}
        )
        assert stale.status_code == 409, stale.text
        done = client.patch(
            location, content=data[at:], headers={**CHUNK, "Upload-Offset": str(at)}
        )
        assert done.status_code == 204, done.text
        assert done.headers["Upload-Offset"] == str(len(data))
        file = client.get(done.headers["Content-Location"]).json()
        assert file["blake3"] == blake3(data).hexdigest()
        assert file["size"] == len(data)
        url = client.post(f"/api/v1/files/{file['id']}/link", json={}).json()["url"]
    # Any node serves it.
    async with httpx.AsyncClient(base_url=a.url, timeout=60) as anonymous:
        got = await anonymous.get(url)
    assert got.status_code == 200
    assert got.content == data
    # Finished: the upload is gone (410) on either node.
    for node in (a, b):
        with node.client(token) as client:
            assert client.head(location, headers=TUS).status_code == 410


async def test_parts_of_a_checksummed_chunk_that_fails_are_not_kept(cluster: Cluster) -> None:
    a, b = cluster.nodes
    token, uploads = course_of(a)
    data = os.urandom(PART + 2_000_000)
    with a.client(token) as client:
        made = client.post(uploads, headers={**TUS, "Upload-Length": str(len(data))})
        location = made.headers["Location"]
        wrong = hashlib.sha256(b"not these bytes").digest()
        refused = client.patch(
            location,
            content=data,
            headers={
                **CHUNK,
                "Upload-Offset": "0",
                "Upload-Checksum": f"sha256 {base64.b64encode(wrong).decode()}",
            },
        )
    assert refused.status_code == 460, refused.text
    assert offset_on(b, token, location) == 0
    with b.client(token) as client:
        done = client.patch(location, content=data, headers={**CHUNK, "Upload-Offset": "0"})
    assert done.status_code == 204, done.text
    assert done.headers["Upload-Offset"] == str(len(data))
