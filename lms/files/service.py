"""The files domain's rules: uploads within the size cap and the course's quota, completed
uploads stored content-addressed, files listed, linked and deleted. No HTTP here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.events import emit
from lms.courses.roles import CourseAction, CourseRole, may
from lms.errors import NotFound
from lms.files import signing
from lms.files.errors import UploadGone, UploadTooLarge
from lms.files.events import FILE_UPLOADED, FileUploaded
from lms.files.names import safe_name
from lms.files.s3_staging import StoreStaging
from lms.files.sniff import OCTET_STREAM, may_show_inline, sniff
from lms.files.staging import Staging
from lms.files.tus import Creation
from persistence.blobs import BlobStore
from persistence.models import File, Upload, UploadStage
from persistence.models.base import utcnow

logger = logging.getLogger("liveclass.files")
CONTENT_PREFIX = "files/blake3/"
CONTENT_PREFIXES = (CONTENT_PREFIX, "files/sha256/")
"""Content keys: BLAKE3 since 2026-12-07; files stored before keep their SHA-256 keys."""


@dataclass(frozen=True, kw_only=True)
class FileStorage:
    """One node's file parts: the blob store, the staging area and the limits."""

    blobs: BlobStore
    staging: Staging
    max_file_bytes: int
    course_quota_bytes: int
    upload_expiry: timedelta
    link_ttl: timedelta
    node_id: str
    secret: str
    in_store: StoreStaging | None = None
    """Set with the S3-compatible store: uploads are staged in the bucket, not ``staging``."""


LearnerUploadRule = Callable[[AsyncSession, uuid.UUID, uuid.UUID, str, Creation], Awaitable[None]]
"""Checks a learner's upload into a course for another domain (course id, user id, the
metadata value naming the thing uploaded for, the declared upload); raises to refuse."""


@dataclass(frozen=True)
class LearnerUploads:
    """Which uploads a course's learners may start: a metadata key (``assignment``) and
    the domain's rule for it, registered at start-up by the domain that takes the files."""

    rules: dict[str, LearnerUploadRule]

    async def check(
        self, session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID, creation: Creation
    ) -> bool:
        """Whether a rule covers this upload (it raised if it refuses it)."""
        for key, rule in self.rules.items():
            value = creation.metadata.get(key)
            if value:
                await rule(session, course_id, user_id, value, creation)
                return True
        return False


def content_key(digest: str) -> str:
    """The blob key of bytes with this content digest: equal files share one blob."""
    return f"{CONTENT_PREFIX}{digest[:2]}/{digest}"


def is_immutable(key: str) -> bool:
    """Whether a blob key names content by its digest (never changes: cache forever)."""
    return key.startswith(CONTENT_PREFIXES)


async def course_usage(session: AsyncSession, course_id: uuid.UUID) -> int:
    """Bytes the course's files and its unfinished, unexpired uploads take."""
    files = select(func.coalesce(func.sum(File.size), 0)).where(File.course_id == course_id)
    pending = select(func.coalesce(func.sum(Upload.length), 0)).where(
        Upload.course_id == course_id, Upload.file_id.is_(None), Upload.expires_at > utcnow()
    )
    used = (await session.execute(files)).scalar_one()
    reserved = (await session.execute(pending)).scalar_one()
    return int(used) + int(reserved)


async def create_upload(
    session: AsyncSession,
    storage: FileStorage,
    *,
    course_id: uuid.UUID,
    uploader_id: uuid.UUID,
    creation: Creation,
) -> Upload:
    """Reserve the upload's length within the course's quota and stage an empty file."""
    quota = storage.course_quota_bytes
    if await course_usage(session, course_id) + creation.length > quota:
        raise UploadTooLarge(
            f"The course's files may take {quota} bytes; this upload does not fit.",
            quota=quota,
        )
    metadata = creation.metadata
    upload = Upload(
        id=uuid.uuid4(),
        course_id=course_id,
        uploader_id=uploader_id,
        length=creation.length,
        name=safe_name(metadata.get("filename") or metadata.get("name")),
        declared_type=(metadata.get("filetype") or "").replace("\x00", "")[:100],
        meta={k: (v or "").replace("\x00", "")[:500] for k, v in list(metadata.items())[:20]},
        node_id=storage.node_id,
        expires_at=utcnow() + storage.upload_expiry,
    )
    session.add(upload)
    await session.flush()
    if storage.in_store is not None:
        storage.in_store.create(session, upload.id)
    else:
        storage.staging.create(upload.id)
    return upload


async def upload_offset(session: AsyncSession, storage: FileStorage, upload: Upload) -> int:
    """How many bytes of the upload have arrived."""
    if storage.in_store is not None:
        return await storage.in_store.offset(session, upload.id)
    return storage.staging.offset(upload.id)


async def find_upload(
    session: AsyncSession, storage: FileStorage, course_id: uuid.UUID, upload_id: uuid.UUID
) -> Upload:
    """An unfinished upload of the course staged on this node (404, or 410 once gone)."""
    upload = await session.get(Upload, upload_id)
    if upload is None or upload.course_id != course_id:
        raise NotFound("No such upload.")
    if upload.file_id is not None or upload.expires_at <= utcnow():
        raise UploadGone("This upload is finished or expired.")
    if storage.in_store is not None:
        if await session.get(UploadStage, upload.id) is None:
            raise UploadGone("This upload has no staged bytes.")
    elif not storage.staging.exists(upload.id):
        raise UploadGone("This upload's bytes are not on this node.")
    return upload


async def complete(session: AsyncSession, storage: FileStorage, upload: Upload) -> File:
    """Move a finished upload into the blob store and create its file (and event)."""
    if storage.in_store is not None:
        digest, content_type, key = await _complete_in_store(session, storage.in_store, upload)
    else:
        digest, content_type, key = await _complete_on_disk(storage, upload)
    row = File(
        course_id=upload.course_id,
        uploader_id=upload.uploader_id,
        name=upload.name,
        size=upload.length,
        blake3=digest,
        content_type=content_type,
        blob_key=key,
    )
    session.add(row)
    await session.flush()
    upload.file_id = row.id
    await emit(
        session,
        FILE_UPLOADED,
        FileUploaded(
            file_id=row.id,
            course_id=row.course_id,
            uploader_id=row.uploader_id,
            name=row.name,
            size=row.size,
            blake3=digest,
            sha256=None,
            content_type=content_type,
            blob_key=key,
            uploaded_at=row.created_at or utcnow(),
        ),
        aggregate_id=row.id,
    )
    return row


async def _complete_on_disk(storage: FileStorage, upload: Upload) -> tuple[str, str, str]:
    """The staged file hashed and sniffed, moved into the blob store under its content key
    (unless those bytes are there already): (digest, content type, key)."""
    staging = storage.staging
    digest = await staging.digest(upload.id)
    content_type = sniff(await asyncio.to_thread(staging.head, upload.id))
    key = content_key(digest)
    if await storage.blobs.exists(key):
        await staging.forget(upload.id)
    else:
        if storage.blobs.local_path(key) is not None:
            # The staged file becomes the blob (renamed, not copied): its bytes must be on
            # the disk before the file row says they exist ("nothing acknowledged is lost").
            await asyncio.to_thread(staging.sync, upload.id)
        await storage.blobs.put_file(
            key, staging.path(upload.id), content_type=content_type, digest=digest
        )
        await staging.forget(upload.id)
    return digest, content_type, key


async def _complete_in_store(
    session: AsyncSession, in_store: StoreStaging, upload: Upload
) -> tuple[str, str, str]:
    """The staged object hashed (read once) and sniffed, copied inside the store to its
    content key, then dropped: (digest, content type, key)."""
    staged = await in_store.staged(upload.id)
    content_type = sniff(staged.head)
    key = content_key(staged.digest)
    if not await in_store.blobs.exists(key):
        await in_store.blobs.copy(staged.key, key)
    stage = await session.get(UploadStage, upload.id)
    await in_store.discard(upload.id, stage)
    if stage is not None:
        await session.delete(stage)
    return staged.digest, content_type, key


async def terminate(session: AsyncSession, storage: FileStorage, upload: Upload) -> None:
    """Drop an unfinished upload (tus termination)."""
    stage = await session.get(UploadStage, upload.id)
    await session.delete(upload)
    if storage.in_store is not None:
        await storage.in_store.discard(upload.id, stage)
    else:
        await storage.staging.forget(upload.id)


async def list_files(
    session: AsyncSession, course_id: uuid.UUID, *, after: int | None, limit: int
) -> tuple[list[File], int | None]:
    """A page of the course's files by id; the id to continue after, if more remain."""
    query = select(File).where(File.course_id == course_id).order_by(File.id).limit(limit + 1)
    if after is not None:
        query = query.where(File.id > after)
    rows = list((await session.execute(query)).scalars())
    more = len(rows) > limit
    return rows[:limit], rows[limit - 1].id if more else None


async def get_file(session: AsyncSession, file_id: int) -> File:
    """The file (404 if none)."""
    row = await session.get(File, file_id)
    if row is None:
        raise NotFound("No such file.")
    return row


def may_download(role: CourseRole | None, row: File) -> bool:
    """The hook deciding who downloads a file: instructors and TAs anything; others not
    the originals of videos (the video domain serves them renditions)."""
    if may(role, CourseAction.DOWNLOAD_ORIGINALS):
        return True
    return not row.content_type.startswith("video/")


def link(storage: FileStorage, row: File, disposition: str) -> tuple[str, datetime, str]:
    """A signed link to the file's bytes: (path and query, expiry, disposition used)."""
    if disposition == "inline" and not may_show_inline(row.content_type):
        disposition = "attachment"
    expires = datetime.now(UTC).replace(microsecond=0) + storage.link_ttl
    url = signing.sign(
        storage.secret,
        signing.Link(
            key=row.blob_key,
            expires=int(expires.timestamp()),
            disposition=disposition,
            name=row.name,
            content_type=row.content_type or OCTET_STREAM,
        ),
    )
    return url, expires, disposition


async def delete_file(session: AsyncSession, row: File) -> str | None:
    """Delete the file; return its blob key when no other file shares the bytes (the
    caller deletes that blob once the transaction committed)."""
    await session.delete(row)
    await session.flush()
    others = select(func.count()).where(File.blob_key == row.blob_key)
    return row.blob_key if (await session.execute(others)).scalar_one() == 0 else None


async def expire_uploads(
    sessions: async_sessionmaker[AsyncSession],
    staging: Staging,
    *,
    now: datetime | None = None,
    in_store: StoreStaging | None = None,
) -> int:
    """Remove unfinished uploads past their expiry at ``now`` (default: the clock's now),
    and staged bytes nobody tracks; ``in_store``: their multipart uploads are aborted."""
    now = now or utcnow()
    async with sessions() as session:
        expired = select(Upload.id).where(Upload.file_id.is_(None), Upload.expires_at <= now)
        ids = list((await session.execute(expired)).scalars())
        if ids and in_store is not None:
            stages = select(UploadStage).where(UploadStage.upload_id.in_(ids))
            for stage in (await session.execute(stages)).scalars():
                try:
                    await in_store.discard(stage.upload_id, stage)
                except Exception:
                    logger.exception("could not drop the staged bytes of %s", stage.upload_id)
        if ids:
            await session.execute(delete(Upload).where(Upload.id.in_(ids)))
            await session.commit()
        if in_store is not None:

            async def still_tracked() -> set[uuid.UUID]:
                await session.commit()  # a fresh read, after the store was listed
                return set((await session.execute(select(UploadStage.upload_id))).scalars())

            try:
                await in_store.sweep(still_tracked)
            except Exception:
                logger.exception("could not sweep the store's staged uploads")
        staged = staging.staged()
        known = set()
        if staged:
            tracked = select(Upload.id).where(Upload.id.in_(staged), Upload.file_id.is_(None))
            known = set((await session.execute(tracked)).scalars())
    for upload_id in set(staged) - known:
        with contextlib.suppress(OSError):
            await staging.forget(upload_id)
    if ids:
        logger.info("removed %d expired uploads", len(ids))
    return len(ids)
