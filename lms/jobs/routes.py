"""Admin API over background jobs: list (dead letters above all), inspect, retry, cancel
and discard. Needs ``jobs:manage`` (admins); every change is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel

from jobs import admin
from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import SessionDep
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import Job

router = APIRouter(prefix="/api/v1/admin/jobs", tags=["jobs"])
Admin = Annotated[Principal, Depends(require(Permission.JOBS_MANAGE))]
JobId = Annotated[int, Path(ge=1, le=2**62)]


class JobOut(BaseModel):
    """A job as listed."""

    id: int
    name: str
    state: str
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None


class JobDetail(JobOut):
    """A job with its arguments, progress and lease."""

    args: dict[str, Any]
    progress: dict[str, Any] | None
    timeout_seconds: float
    ordering_key: str | None
    worker: str | None
    lease_until: datetime | None
    started_at: datetime | None
    cancel_requested: bool


class JobPage(BaseModel):
    """Jobs oldest first; `next` is the cursor of the following page."""

    items: list[JobOut]
    next: str | None


def _out(job: Job) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


def _detail(job: Job) -> JobDetail:
    return JobDetail.model_validate(job, from_attributes=True)


@router.get("", summary="Jobs (dead letters with state=dead)")
async def list_jobs(
    request: Request,
    response: Response,
    session: SessionDep,
    _: Admin,
    state: Literal["queued", "running", "dead", "cancelled"] | None = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobPage:
    """Oldest first, optionally of one state and job type; page on with `next` (or the
    Link header). Jobs that succeeded are not kept, so they are never listed."""
    rows = await admin.list_jobs(
        session, state=state, name=name, after=decode_cursor(cursor), limit=limit + 1
    )
    items = [_out(row) for row in rows[:limit]]
    following = encode_cursor(items[-1].id) if len(rows) > limit and items else None
    link_next(request, response, following)
    return JobPage(items=items, next=following)


@router.get("/{job_id}", summary="One job, with its arguments, progress and last error")
async def read_job(session: SessionDep, _: Admin, job_id: JobId) -> JobDetail:
    """The job as stored."""
    return _detail(await admin.get(session, job_id))


@router.post("/{job_id}/retry", summary="Queue a dead or cancelled job again")
async def retry_job(
    request: Request, session: SessionDep, principal: Admin, job_id: JobId
) -> JobDetail:
    """Attempts count from zero again; it runs as soon as a worker is free (audited)."""
    job = await admin.retry(session, job_id)
    audit(
        session,
        request,
        "job.retry",
        actor=principal,
        target_type="job",
        target_id=job.id,
        job=job.name,
    )
    await session.commit()
    return _detail(job)


@router.post("/{job_id}/cancel", summary="Cancel a queued job, or ask a running one to stop")
async def cancel_job(
    request: Request, session: SessionDep, principal: Admin, job_id: JobId
) -> JobDetail:
    """A queued job is cancelled at once; a running one is asked to stop (audited)."""
    job = await admin.cancel(session, job_id)
    audit(
        session,
        request,
        "job.cancel",
        actor=principal,
        target_type="job",
        target_id=job.id,
        job=job.name,
    )
    await session.commit()
    return _detail(job)


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Discard a job")
async def discard_job(
    request: Request, session: SessionDep, principal: Admin, job_id: JobId
) -> Response:
    """Delete a dead or cancelled job for good (audited)."""
    job = await admin.discard(session, job_id)
    audit(
        session,
        request,
        "job.discard",
        actor=principal,
        target_type="job",
        target_id=job.id,
        job=job.name,
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
