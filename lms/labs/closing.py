"""How a lab ends and goes away: grading at its end (every learner's score in the lab's
gradebook column, and each workspace's files as they were, kept with the grade), and
deletion by its staff (a draft is deleted outright; a lab that started is archived: hidden
from learners, its workspaces kept read-only for the staff, its feed closed).

Takes a session and returns values; the routes commit and then send the live signals. The
workspaces are read from the node's registry (the live copies, which hold every
acknowledged edit) before anything is written, so no write transaction is held while a
document loads.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.content import structure
from lms.errors import NotFound
from lms.gradebook import service as gradebook
from lms.labs import workspace_docs
from lms.labs.checks import ensure_column
from lms.labs.errors import LabArchived
from lms.labs.roles import LabRole
from persistence.models import Lab, LabCompletion, LabHelpRequest, LabWorkspace
from realtime.yjs.registry import DocumentRegistry

ARCHIVED = "archived"


def not_archived(lab: Lab) -> None:
    """Refuse changes to an archived lab (409)."""
    if lab.status == ARCHIVED:
        raise LabArchived("The lab was deleted; it is kept read-only for its staff.")


def visible(lab: Lab, role: LabRole | None) -> None:
    """Refuse (404) a lab its caller may not see: learners see started, unarchived labs."""
    if role == "staff":
        return
    if role is None or lab.status in ("draft", ARCHIVED):
        raise NotFound("No such lab.")


async def read_files(
    registry: DocumentRegistry, lab: Lab, user_id: uuid.UUID
) -> list[dict[str, str]]:
    """Every template file of a workspace as it is now."""
    document = await registry.acquire(workspace_docs.document_name(lab.id, user_id))
    try:
        return [
            {
                "name": str(f["name"]),
                "text": workspace_docs.read_file(document.ydoc, str(f["name"])),
            }
            for f in lab.files
        ]
    finally:
        registry.release(document)


async def snapshots(
    session: AsyncSession, registry: DocumentRegistry, lab: Lab
) -> dict[uuid.UUID, list[dict[str, str]]]:
    """Every workspace's files now (read before the caller writes anything)."""
    users = list(
        await session.scalars(select(LabWorkspace.user_id).where(LabWorkspace.lab_id == lab.id))
    )
    return {user_id: await read_files(registry, lab, user_id) for user_id in users}


async def grade(
    session: AsyncSession,
    lab: Lab,
    files: dict[uuid.UUID, list[dict[str, str]]],
    now: datetime,
) -> int:
    """The lab's end: each learner's score (the points of the steps they passed, 0 for
    none) in the lab's gradebook column, and their final files kept with it. Returns how
    many workspaces were graded."""
    column = await ensure_column(session, lab)
    totals = dict(
        (
            await session.execute(
                select(LabCompletion.user_id, func.sum(LabCompletion.points))
                .where(LabCompletion.lab_id == lab.id)
                .group_by(LabCompletion.user_id)
            )
        ).all()
    )
    rows = (await session.scalars(select(LabWorkspace).where(LabWorkspace.lab_id == lab.id))).all()
    for workspace in rows:
        found = files.get(workspace.user_id)
        if found is not None:
            workspace.final_files, workspace.final_at = found, now
        await gradebook.record_score(
            session,
            column_id=column,
            user_id=workspace.user_id,
            score=Decimal(int(totals.get(workspace.user_id) or 0)),
            actor_id=None,
            reason="lab ended",
        )
    return len(rows)


async def end(session: AsyncSession, registry: DocumentRegistry, lab: Lab, now: datetime) -> int:
    """End a running lab: no more checks or help, the lock lifted, every workspace graded
    and its files kept."""
    files = await snapshots(session, registry, lab)
    lab.status, lab.locked, lab.updated_at = "ended", False, now
    return await grade(session, lab, files, now)


async def delete(
    session: AsyncSession, registry: DocumentRegistry, lab: Lab, now: datetime
) -> bool:
    """Delete a draft outright (True); archive a lab that started (False): a running one
    is graded first, as at its end; the lock and the sharing are lifted, and its waiting
    help requests resolved. Either way the module items showing it go."""
    await structure.delete_items_showing(session, "lab", lab.id)
    if lab.status == "draft":
        await session.delete(lab)
        return True
    if lab.status == "running":
        await end(session, registry, lab, now)
    lab.status, lab.locked, lab.shared_user_id, lab.updated_at = ARCHIVED, False, None, now
    waiting = await session.scalars(
        select(LabHelpRequest).where(
            LabHelpRequest.lab_id == lab.id, LabHelpRequest.status != "resolved"
        )
    )
    for request in waiting.all():
        request.status, request.resolved_at = "resolved", now
    return False
