"""One contract for every blob store: the local directory and S3 (moto's server mode on a
free port, a real S3 API over HTTP). Both must pass the same tests."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from blake3 import blake3

from kits.s3 import ACCESS_KEY, SECRET_KEY, S3Server, s3_server
from persistence.blobs import (
    BlobNotFound,
    BlobStore,
    InvalidKey,
    LocalBlobStore,
    S3BlobStore,
    S3Settings,
)


@pytest.fixture(scope="module")
def moto() -> Iterator[S3Server]:
    """One moto server for the module."""
    with s3_server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """A fresh, empty store of each kind."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    server: S3Server = request.getfixturevalue("moto")
    bucket = server.create_bucket(f"b-{uuid.uuid4().hex[:12]}")
    settings = S3Settings(
        bucket=bucket,
        endpoint=server.endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        part_size=5 << 20,
    )
    return S3BlobStore(settings)


async def chunks_of(data: bytes, size: int = 65_536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, start, end)])


async def test_put_streams_and_hashes(store: BlobStore) -> None:
    data = os.urandom(300_000)
    written = await store.put("a/b/c.bin", chunks_of(data), content_type="image/png")
    assert written.size == len(data)
    assert written.digest == blake3(data).hexdigest()
    assert await read_all(store, "a/b/c.bin") == data
    info = await store.stat("a/b/c.bin")
    assert info.size == len(data)
    assert info.content_type == "image/png"
    assert info.etag.startswith('"')


async def test_large_put_is_multipart_and_whole(store: BlobStore) -> None:
    """Past the part size an S3 put is a multipart upload; the object reads back whole."""
    data = os.urandom(12 << 20)
    written = await store.put("big/object", chunks_of(data, 1 << 20))
    assert written.digest == blake3(data).hexdigest()
    assert (await store.stat("big/object")).size == len(data)
    assert await read_all(store, "big/object", 5 << 20, (5 << 20) + 10) == data[5 << 20 :][:10]


async def test_ranged_reads(store: BlobStore) -> None:
    data = bytes(range(256)) * 40
    await store.put("r", chunks_of(data, 1000))
    assert await read_all(store, "r", 10, 20) == data[10:20]
    assert await read_all(store, "r", 10_000) == data[10_000:]
    assert await read_all(store, "r", 0, len(data) + 100) == data
    assert await read_all(store, "r", 5, 5) == b""


async def test_replace_exists_delete_list(store: BlobStore) -> None:
    await store.put("p/one", chunks_of(b"first"))
    await store.put("p/one", chunks_of(b"second"))
    await store.put("p/two", chunks_of(b""))
    await store.put("q/three", chunks_of(b"x"))
    assert await read_all(store, "p/one") == b"second"
    assert (await store.stat("p/two")).size == 0
    assert sorted([key async for key in store.list("p/")]) == ["p/one", "p/two"]
    assert await store.exists("p/one")
    await store.delete("p/one")
    await store.delete("p/one")  # twice is fine
    assert not await store.exists("p/one")
    with pytest.raises(BlobNotFound):
        await store.stat("p/one")
    with pytest.raises(BlobNotFound):
        await read_all(store, "p/one")


async def test_put_file(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(100_000)
    source = tmp_path / "staged"
    source.write_bytes(data)
    written = await store.put_file("f/staged", source, content_type="application/pdf")
    assert written.digest == blake3(data).hexdigest()
    assert not source.exists()
    assert await read_all(store, "f/staged") == data
    assert (await store.stat("f/staged")).content_type == "application/pdf"


async def test_failed_put_leaves_nothing(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 1000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put("half", broken())
    assert not await store.exists("half")


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "/abs",
        "a/../../b",
        "a//b",
        ".tmp/x",
        ".meta/x",
        "a/",
        "",
        "a\x00b",
        "x" * 2000,
    ],
)
async def test_keys_cannot_escape(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        await store.put(key, chunks_of(b"no"))
    with pytest.raises(InvalidKey):
        await store.stat(key)


def test_local_store_is_a_directory(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    assert store.local_path("a/b") == tmp_path.resolve() / "a" / "b"


@pytest.mark.parametrize("check", ["openat2", "proc"])
async def test_local_files_opened_for_sending_stay_under_the_root(
    tmp_path: Path, check: str
) -> None:
    """``open_for_sending`` (the byte-serving fast path's open) keeps ``local_path``'s rule:
    plain keys only, and no symlink planted under the root leads outside it; checked by the
    kernel (``openat2``) or, where that is missing, through ``/proc/self/fd``."""
    store = LocalBlobStore(tmp_path / "blobs")
    if check == "proc":
        store._beneath.available = False
    await store.put("a/b", chunks_of(b"inside"))
    fd = store.open_for_sending("a/b")
    try:
        assert os.pread(fd, 100, 0) == b"inside"
    finally:
        os.close(fd)
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret").write_bytes(b"not a blob")
    (outside / "dir" / "file").write_bytes(b"not a blob")
    (tmp_path / "blobs" / "link").symlink_to(outside / "secret")
    (tmp_path / "blobs" / "linked").symlink_to(outside / "dir")
    (tmp_path / "blobs" / "up").symlink_to("../outside/secret")
    (tmp_path / "blobs" / "a" / "same").symlink_to("b")
    before = len(os.listdir("/proc/self/fd"))
    for key in ("link", "linked/file", "up"):
        with pytest.raises(BlobNotFound):
            store.open_for_sending(key)
        with pytest.raises(BlobNotFound):
            store.local_path(key)
    for key in ("../outside/secret", "a/../b", ".meta/x"):
        with pytest.raises(InvalidKey):
            store.open_for_sending(key)
    with pytest.raises(FileNotFoundError):
        store.open_for_sending("a/missing")
    assert len(os.listdir("/proc/self/fd")) == before  # nothing left open
    fd = store.open_for_sending("a/same")  # a link that stays inside is followed, as before
    try:
        assert os.pread(fd, 100, 0) == b"inside"
    finally:
        os.close(fd)
    assert store._beneath.available is (check == "openat2")


async def test_local_delete_unlinks_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unlinking a large blob takes a fraction of a second: a worker thread does it."""
    store = LocalBlobStore(tmp_path / "blobs")
    await store.put("files/a", chunks_of(b"bytes"))
    removed_by: list[threading.Thread] = []
    unlink = Path.unlink

    def watched(path: Path, missing_ok: bool = False) -> None:
        removed_by.append(threading.current_thread())
        unlink(path, missing_ok)

    monkeypatch.setattr(Path, "unlink", watched)
    await store.delete("files/a")
    assert not await store.exists("files/a")
    assert removed_by
    assert threading.main_thread() not in removed_by
