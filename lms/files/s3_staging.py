"""Uploads staged in the S3-compatible store itself, so any node continues any upload.

As tusd's S3 store does: one S3 multipart upload per tus upload (`uploads/<id>/data`),
started once the first part is full; parts of `part_size` bytes (S3 wants at least 5 MiB
but the last); the bytes past the last part (the tail, less than a part) kept as their own
object (`uploads/<id>/tail`) until the next request tops them up into a part or the upload
ends. The offset, the upload id, the parts' ETags and a lease (one writing request at a time
across nodes; 423 to another) are in the database (`UploadStage`); a request's memory is one
part at most.

A failed checksum changes nothing recorded (parts sent meanwhile are sent again under the
same numbers next time); a dropped connection keeps what arrived: the parts, and the rest
as the tail. Once complete the object is read once to hash it (a hash's state cannot move
between nodes), the first bytes sniffed on the way, then copied inside the store to its
content-addressed key.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.files.errors import FilesError, OffsetMismatch, UploadBusy, UploadTooLarge
from lms.files.sniff import SNIFF_BYTES
from lms.files.tus import Checksum
from persistence.blobs.s3 import S3BlobStore
from persistence.blobs.s3_multipart import MIN_PART, MultipartClient
from persistence.blobs.store import Hashing
from persistence.models import UploadStage
from persistence.models.base import utcnow

LEASE = timedelta(minutes=2)
"""How long a writing request holds an upload without sending a part (renewed per part)."""


@dataclass(frozen=True)
class Staged:
    """A completed staged upload: its object's key, content digest and first bytes."""

    key: str
    digest: str
    head: bytes


PREFIX = "uploads/"


def data_key(upload_id: uuid.UUID) -> str:
    """The object the multipart upload becomes."""
    return f"{PREFIX}{upload_id.hex}/data"


def tail_key(upload_id: uuid.UUID) -> str:
    """The bytes past the last part."""
    return f"{PREFIX}{upload_id.hex}/tail"


def _upload_of(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(hex=key.removeprefix(PREFIX).split("/", 1)[0])
    except ValueError:
        return None


class StoreStaging:
    """Staging in the bucket, its state in the database."""

    def __init__(
        self, blobs: S3BlobStore, client: MultipartClient, *, part_size: int = 8 << 20
    ) -> None:
        self.blobs = blobs
        self.client = client
        self.part_size = max(part_size, MIN_PART)

    def create(self, session: AsyncSession, upload_id: uuid.UUID) -> None:
        """Start an empty upload (in the caller's transaction)."""
        session.add(UploadStage(upload_id=upload_id, offset=0, parts_bytes=0, etags=[]))

    async def stage(self, session: AsyncSession, upload_id: uuid.UUID) -> UploadStage | None:
        """The upload's state as stored now."""
        return await session.get(UploadStage, upload_id, populate_existing=True)

    async def offset(self, session: AsyncSession, upload_id: uuid.UUID) -> int:
        """How many bytes have arrived (0 if the upload is unknown)."""
        found = await self.stage(session, upload_id)
        return found.offset if found is not None else 0

    async def _lease(self, session: AsyncSession, upload_id: uuid.UUID) -> str:
        token = secrets.token_hex(16)
        now = utcnow()
        taken = await session.execute(
            update(UploadStage)
            .where(
                UploadStage.upload_id == upload_id,
                (UploadStage.lease_until.is_(None)) | (UploadStage.lease_until < now),
            )
            .values(lease_token=token, lease_until=now + LEASE)
        )
        await session.commit()
        if getattr(taken, "rowcount", 0) != 1:
            raise UploadBusy("Another request is writing this upload; try again shortly.")
        return token

    async def _save(
        self, session: AsyncSession, upload_id: uuid.UUID, token: str, **values: object
    ) -> None:
        """Record progress under our lease (renewed); losing it stops the request."""
        saved = await session.execute(
            update(UploadStage)
            .where(UploadStage.upload_id == upload_id, UploadStage.lease_token == token)
            .values(lease_until=utcnow() + LEASE, **values)
        )
        await session.commit()
        if getattr(saved, "rowcount", 0) != 1:
            raise UploadBusy("This upload was taken over by another request.")

    async def _release(self, session: AsyncSession, upload_id: uuid.UUID, token: str) -> None:
        await session.execute(
            update(UploadStage)
            .where(UploadStage.upload_id == upload_id, UploadStage.lease_token == token)
            .values(lease_token=None, lease_until=None)
        )
        await session.commit()

    async def _tail(self, upload_id: uuid.UUID, size: int) -> bytearray:
        if size == 0:
            return bytearray()
        tail = bytearray()
        async for chunk in self.blobs.read(tail_key(upload_id)):
            tail += chunk
        if len(tail) != size:
            raise FilesError(f"the staged tail of {upload_id} has {len(tail)} bytes, not {size}")
        return tail

    async def append(
        self,
        session: AsyncSession,
        upload_id: uuid.UUID,
        offset: int,
        chunks: AsyncIterable[bytes],
        *,
        length: int,
        checksum: Checksum | None,
    ) -> int:
        """Write `chunks` at `offset` (the upload's `length` bounds them); the new offset.

        The caller has checked `offset` against `offset()`; it is checked again under the
        lease. `session` must have no transaction open (each step commits its own).
        """
        token = await self._lease(session, upload_id)
        try:
            return await self._append(session, upload_id, token, offset, chunks, length, checksum)
        finally:
            await self._release(session, upload_id, token)

    async def _append(
        self,
        session: AsyncSession,
        upload_id: uuid.UUID,
        token: str,
        offset: int,
        chunks: AsyncIterable[bytes],
        length: int,
        checksum: Checksum | None,
    ) -> int:
        stage = await self.stage(session, upload_id)
        if stage is None:
            raise FilesError(f"upload {upload_id} has no stage")
        if stage.offset != offset:
            raise OffsetMismatch(
                f"The upload is at offset {stage.offset}, not {offset}.",
                upload_offset=stage.offset,
            )
        buffer = await self._tail(upload_id, stage.offset - stage.parts_bytes)
        etags, parts_bytes, multipart = list(stage.etags), stage.parts_bytes, stage.multipart_id
        await session.commit()
        verifier = checksum.hasher() if checksum is not None else None
        key = data_key(upload_id)
        try:
            async for chunk in chunks:
                if parts_bytes + len(buffer) + len(chunk) > length:
                    raise UploadTooLarge("The chunk goes past Upload-Length.")
                if verifier is not None:
                    verifier.update(chunk)
                buffer += chunk
                while len(buffer) >= self.part_size:
                    if multipart is None:
                        multipart = await self.client.create(
                            key, content_type="application/octet-stream"
                        )
                        await self._save(session, upload_id, token, multipart_id=multipart)
                    part = bytes(buffer[: self.part_size])
                    etags.append(
                        await self.client.upload_part(key, multipart, len(etags) + 1, part)
                    )
                    del buffer[: self.part_size]
                    parts_bytes += len(part)
                    if verifier is None:  # progress kept: the tail is what follows the part
                        await self._save(
                            session,
                            upload_id,
                            token,
                            etags=etags,
                            parts_bytes=parts_bytes,
                            offset=parts_bytes,
                        )
            if checksum is not None and verifier is not None:
                checksum.verify(verifier.digest())
        except Exception as exc:
            if checksum is None and not isinstance(exc, UploadTooLarge | UploadBusy):
                await self._keep_tail(session, upload_id, token, buffer, parts_bytes)
            raise
        if parts_bytes + len(buffer) == length:
            await self._finish(upload_id, multipart, etags, bytes(buffer))
            await self._save(
                session, upload_id, token, etags=etags, parts_bytes=length, offset=length
            )
            return length
        await self._keep_tail(session, upload_id, token, buffer, parts_bytes, etags=etags)
        return parts_bytes + len(buffer)

    async def _keep_tail(
        self,
        session: AsyncSession,
        upload_id: uuid.UUID,
        token: str,
        buffer: bytearray,
        parts_bytes: int,
        *,
        etags: list[str] | None = None,
    ) -> None:
        if buffer:
            await self.blobs.put(tail_key(upload_id), _once(bytes(buffer)))
        values: dict[str, object] = {
            "offset": parts_bytes + len(buffer),
            "parts_bytes": parts_bytes,
        }
        if etags is not None:
            values["etags"] = etags
        await self._save(session, upload_id, token, **values)

    async def _finish(
        self, upload_id: uuid.UUID, multipart: str | None, etags: list[str], last: bytes
    ) -> None:
        key = data_key(upload_id)
        if multipart is None:  # smaller than a part: one object
            await self.blobs.put(key, _once(last))
            return
        if last:
            etags.append(await self.client.upload_part(key, multipart, len(etags) + 1, last))
        await self.client.complete(key, multipart, etags)

    async def staged(self, upload_id: uuid.UUID) -> Staged:
        """The completed upload's object, hashed by reading it once."""
        key = data_key(upload_id)
        head = bytearray()

        async def chunks() -> AsyncIterable[bytes]:
            async for chunk in self.blobs.read(key):
                if len(head) < SNIFF_BYTES:
                    head.extend(chunk[: SNIFF_BYTES - len(head)])
                yield chunk

        hashing = Hashing(chunks())
        async for _ in hashing:
            pass
        return Staged(key, hashing.digest, bytes(head))

    async def sweep(self, tracked: Callable[[], Awaitable[set[uuid.UUID]]]) -> int:
        """Drop staged objects and multipart uploads of uploads no longer tracked (erased
        with their person, or left by a crash); how many uploads were swept.

        The store is listed before `tracked()` reads the uploads: an upload's objects are
        written only while it is tracked, so one created meanwhile is never listed."""
        objects = [(key, _upload_of(key)) async for key in self.blobs.list(PREFIX)]
        multiparts = [
            (key, m, _upload_of(key)) for key, m, _ in await self.client.unfinished(PREFIX)
        ]
        known = await tracked()
        swept: set[uuid.UUID] = set()
        for key, upload_id in objects:
            if upload_id is not None and upload_id not in known:
                await self.blobs.delete(key)
                swept.add(upload_id)
        for key, multipart, upload_id in multiparts:
            if upload_id is not None and upload_id not in known:
                await self.client.abort(key, multipart)
                swept.add(upload_id)
        return len(swept)

    async def discard(self, upload_id: uuid.UUID, stage: UploadStage | None) -> None:
        """Drop whatever the upload left in the store (terminated, expired or moved)."""
        if stage is not None and stage.multipart_id:  # a completed one: NoSuchUpload, ignored
            await self.client.abort(data_key(upload_id), stage.multipart_id)
        for key in (tail_key(upload_id), data_key(upload_id)):
            await self.blobs.delete(key)  # a missing key is not an error


async def _once(data: bytes) -> AsyncIterable[bytes]:
    yield data
