"""The tus PATCH (and POST body) of an upload staged in the S3-compatible store: the offset
comes from the database, so the request may reach any node (`lms.files.s3_staging`)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

from lms.files import tus
from lms.files.s3_staging import StoreStaging
from persistence.models import Upload


async def append(
    request: Request, session: AsyncSession, in_store: StoreStaging, upload: Upload, creation: bool
) -> int:
    """Append the request's body where the upload stands; the new offset. A dropped
    connection keeps what arrived (the client asks HEAD and resumes, on any node)."""
    offset = await in_store.offset(session, upload.id)
    chunk = tus.parse_append(
        request.headers, offset=offset, length=upload.length, creation=creation
    )
    await session.commit()  # no transaction while the body streams
    try:
        return await in_store.append(
            session,
            upload.id,
            chunk.offset,
            request.stream(),
            length=upload.length,
            checksum=chunk.checksum,
        )
    except ClientDisconnect:
        return await in_store.offset(session, upload.id)
