"""``S3BlobStore``: blobs in an S3-compatible bucket through obstore.

Puts stream: large ones go up as a multipart upload part by part (at most
``concurrency`` parts of ``part_size`` bytes in memory), never the whole object.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from persistence.blobs.store import BlobInfo, BlobNotFound, Hashing, Written, check_key

if TYPE_CHECKING:
    from obstore import GetOptions

READ_CHUNK = 1 << 20
FILE_CHUNK = 1 << 20
DEFAULT_TYPE = "application/octet-stream"
# obstore raises its NotFoundError, or the builtin one for a HEAD answered 404
_MISSING = (NotFoundError, FileNotFoundError)


@dataclass(frozen=True, kw_only=True)
class S3Settings:
    """Where the bucket is and how to sign in (empty keys: the environment's credentials)."""

    bucket: str
    endpoint: str = ""
    region: str = "us-east-1"
    access_key_id: str = ""
    secret_access_key: str = ""
    prefix: str = ""
    part_size: int = 8 << 20
    concurrency: int = 2


class S3BlobStore:
    """A ``BlobStore`` on an S3-compatible bucket."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        config: dict[str, Any] = {"region": settings.region}
        if settings.endpoint:
            config["endpoint"] = settings.endpoint
        if settings.access_key_id:
            config["access_key_id"] = settings.access_key_id
            config["secret_access_key"] = settings.secret_access_key
        self._store = S3Store(
            settings.bucket,
            prefix=settings.prefix or None,
            config=config,  # type: ignore[arg-type]
            client_options={
                "allow_http": settings.endpoint.startswith("http://"),
                "connect_timeout": timedelta(seconds=10),
            },
        )

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str = DEFAULT_TYPE
    ) -> Written:
        """Stream ``chunks`` up (multipart), hashing them on the way."""
        hashing = Hashing(chunks)
        await obstore.put_async(
            self._store,
            check_key(key),
            hashing,
            attributes={"Content-Type": content_type},
            use_multipart=True,
            chunk_size=self.settings.part_size,
            max_concurrency=self.settings.concurrency,
        )
        return Written(key, hashing.size, hashing.digest)

    async def put_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str = DEFAULT_TYPE,
        digest: str | None = None,
    ) -> Written:
        """Stream a local file up, then remove it."""
        written = await self.put(key, _file_chunks(path), content_type=content_type)
        if digest is not None and digest != written.digest:
            await self.delete(key)
            raise OSError(f"{path} changed while it was stored")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return written

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream a byte range of the object (one ranged GET)."""
        options: GetOptions = {}
        if end is not None:
            if end <= start:
                return
            options["range"] = (start, end)
        elif start:
            options["range"] = {"offset": start}
        try:
            result = await obstore.get_async(self._store, check_key(key), options=options)
        except _MISSING:
            raise BlobNotFound(key) from None
        async for chunk in result.stream(min_chunk_size=READ_CHUNK):
            yield bytes(chunk)

    async def stat(self, key: str) -> BlobInfo:
        """A HEAD request: size, ETag, Content-Type, Last-Modified."""
        try:
            result = await obstore.get_async(self._store, check_key(key), options={"head": True})
        except _MISSING:
            raise BlobNotFound(key) from None
        meta = result.meta
        etag = meta["e_tag"] or f'"{meta["size"]:x}"'
        return BlobInfo(
            key=key,
            size=meta["size"],
            etag=etag if etag.startswith(('"', "W/")) else f'"{etag}"',
            content_type=str(result.attributes.get("Content-Type", DEFAULT_TYPE)),
            modified=meta["last_modified"],
        )

    async def copy(self, source: str, key: str) -> None:
        """Copy an object inside the bucket (server-side: no bytes through this node). The
        copy keeps the source's Content-Type; downloads take theirs from the signed link."""
        try:
            await obstore.copy_async(self._store, check_key(source), check_key(key))
        except _MISSING:
            raise BlobNotFound(source) from None

    async def exists(self, key: str) -> bool:
        """Whether the object exists (a HEAD request)."""
        try:
            await obstore.head_async(self._store, check_key(key))
        except _MISSING:
            return False
        return True

    async def delete(self, key: str) -> None:
        """Delete the object (S3 deletes are idempotent)."""
        with contextlib.suppress(*_MISSING):
            await obstore.delete_async(self._store, check_key(key))

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        """The keys under ``prefix``."""
        stream = obstore.list(self._store, prefix or None, chunk_size=500)
        async for batch in stream:
            for meta in batch:
                yield meta["path"]

    def local_path(self, key: str) -> Path | None:
        """Never local."""
        return None


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    file = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, FILE_CHUNK):
            yield chunk
    finally:
        file.close()
