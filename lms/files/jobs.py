"""The files domain's periodic job: unfinished uploads past their expiry are removed."""

from __future__ import annotations

from jobs.types import JobContext, JobType, Periodic
from lms.files.service import expire_uploads
from lms.files.staging import Staging
from lms.files.storage import open_blob_store, staging_dir, store_staging
from settings import Settings

EXPIRY_SCHEDULE = "@every 10m"
EXPIRE_UPLOADS = "files.expire_uploads"


def periodic(settings: Settings) -> Periodic:
    """``files.expire_uploads`` every ten minutes, on this node's staging area."""
    staging = Staging(staging_dir(settings))
    in_store = store_staging(settings, open_blob_store(settings))

    async def expire(ctx: JobContext) -> None:
        await expire_uploads(ctx.sessions, staging, in_store=in_store)

    job = JobType(
        EXPIRE_UPLOADS,
        expire,
        max_attempts=3,
        timeout=600.0,
        summary="remove expired unfinished uploads",
    )
    return Periodic(job, EXPIRY_SCHEDULE)
