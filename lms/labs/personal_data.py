"""The labs' part of personal-data export and erasure: a person's workspaces (with the
files' current text), checkpoint completions, help requests and timeline. Erasure deletes
them, and the workspace documents' stored history with them."""

from __future__ import annotations

from typing import Any

import pycrdt
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.labs import workspace_docs
from lms.personal_data import PersonalData
from persistence.documents import current_doc
from persistence.models import (
    DocumentSnapshot,
    DocumentUpdate,
    DocumentVersion,
    Lab,
    LabActivity,
    LabCompletion,
    LabHelpRequest,
    LabWorkspace,
    QuarantinedUpdate,
    User,
)
from persistence.models.base import as_utc


async def export_labs(session: AsyncSession, user: User) -> dict[str, Any]:
    """Workspaces (their files now, and as kept at the lab's end), completions, help
    requests and timeline."""
    rows = await session.execute(
        select(LabWorkspace, Lab)
        .join(Lab, Lab.id == LabWorkspace.lab_id)
        .where(LabWorkspace.user_id == user.id)
        .order_by(LabWorkspace.id)
    )
    workspaces = []
    for ws, lab in rows.all():
        doc = await current_doc(session, workspace_docs.document_name(lab.id, user.id))
        files = {
            key.removeprefix(workspace_docs.FILE_ROOT): str(doc.get(key, type=pycrdt.Text))
            for key in doc.keys()  # noqa: SIM118 (Doc is not typed as a container)
            if key.startswith(workspace_docs.FILE_ROOT)
        }
        workspaces.append(
            {
                "lab_id": str(lab.id),
                "title": lab.title,
                "current_step": ws.current_step,
                "resets": ws.resets,
                "last_check": ws.last_check,
                "created_at": ws.created_at.isoformat(),
                "files": files,
                "final_files": ws.final_files,
                "final_at": as_utc(ws.final_at).isoformat() if ws.final_at else None,
            }
        )
    completions = (
        await session.scalars(select(LabCompletion).where(LabCompletion.user_id == user.id))
    ).all()
    helps = (
        await session.scalars(select(LabHelpRequest).where(LabHelpRequest.user_id == user.id))
    ).all()
    activities = (
        await session.scalars(
            select(LabActivity).where(LabActivity.user_id == user.id).order_by(LabActivity.id)
        )
    ).all()
    return {
        "workspaces": workspaces,
        "completions": [
            {
                "lab_id": str(c.lab_id),
                "step_id": c.step_id,
                "points": c.points,
                "completed_at": c.completed_at.isoformat(),
            }
            for c in completions
        ],
        "help_requests": [
            {
                "lab_id": str(h.lab_id),
                "step_id": h.step_id,
                "note": h.note,
                "status": h.status,
                "created_at": h.created_at.isoformat(),
            }
            for h in helps
        ],
        "timeline": [
            {"lab_id": str(a.lab_id), "kind": a.kind, "detail": a.detail, "at": a.at.isoformat()}
            for a in activities
        ],
    }


async def erase_labs(session: AsyncSession, user: User) -> None:
    """Delete the person's lab rows and their workspaces' documents."""
    labs = (
        await session.scalars(select(LabWorkspace.lab_id).where(LabWorkspace.user_id == user.id))
    ).all()
    for lab_id in labs:
        name = workspace_docs.document_name(lab_id, user.id)
        for stored in (DocumentUpdate, DocumentSnapshot, DocumentVersion, QuarantinedUpdate):
            await session.execute(delete(stored).where(stored.doc == name))
    for model in (LabActivity, LabHelpRequest, LabCompletion, LabWorkspace):
        await session.execute(delete(model).where(model.user_id == user.id))
    await session.flush()


def register(registry: PersonalData) -> None:
    """Add the labs section to the app's personal-data registry."""
    registry.contributes("labs", export=export_labs, erase=erase_labs)
