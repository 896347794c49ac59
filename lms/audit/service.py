"""Writing audit records: inside the caller's transaction, or on their own for failures."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from lms.deps import client_ip, writer_sessions
from ops.context import request_id_var
from persistence.engine import is_read_only
from persistence.models import AuditEvent

if TYPE_CHECKING:
    from lms.auth import Principal


def audit(
    session: AsyncSession,
    request: Request,
    action: str,
    *,
    actor: Principal | None = None,
    actor_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: object = None,
    outcome: str = "success",
    **detail: Any,
) -> AuditEvent:
    """Add an audit record to ``session``; it commits with the action it describes."""
    if actor is None:
        actor = getattr(request.state, "principal", None)
    event = AuditEvent(
        actor_id=actor.user_id if actor else actor_id,
        actor_kind=actor.kind if actor else ("user" if actor_id else "anonymous"),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=client_ip(request),
        outcome=outcome,
        request_id=request_id_var.get(),
        detail=_with_key(actor, detail),
    )
    session.add(event)
    return event


async def audit_now(session: AsyncSession, request: Request, action: str, **fields: Any) -> None:
    """Commit an audit record at once, before the request fails (failures, denials).

    A writing request's own session is reused (on SQLite a second writer would wait for
    the lock it holds); a reading request's session cannot write, so a writer is used.
    """
    if not is_read_only(session):
        audit(session, request, action, **fields)
        await session.commit()
        return
    async with writer_sessions(request)() as writer:
        audit(writer, request, action, **fields)
        await writer.commit()


async def record_denial(
    session: AsyncSession, request: Request, principal: Principal, missing: list[str]
) -> None:
    """Record that ``principal`` was refused a route for lack of ``missing``."""
    route = request.scope.get("route")
    await audit_now(
        session,
        request,
        "access.denied",
        actor=principal,
        target_type="route",
        target_id=f"{request.method} {getattr(route, 'path', request.url.path)}",
        outcome="denied",
        missing=missing,
    )


def _with_key(actor: Principal | None, detail: dict[str, Any]) -> dict[str, Any]:
    if actor is not None and actor.api_key_id is not None:
        return {**detail, "api_key_id": str(actor.api_key_id)}
    return detail
