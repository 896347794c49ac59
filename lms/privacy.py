"""Personal-data export and erasure; every module that stores personal data contributes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from lms.accounts.passwords import verify_password
from lms.accounts.schemas import AccountDeletion
from lms.audit.service import audit
from lms.deps import SessionDep
from lms.errors import InvalidCredentials
from lms.permissions import CurrentUser, Permission, require
from persistence.models import User
from persistence.models.base import utcnow

Exporter = Callable[[AsyncSession, User], Awaitable[Any]]
Eraser = Callable[[AsyncSession, User], Awaitable[None]]
EXPORTERS: dict[str, Exporter] = {}
ERASERS: dict[str, Eraser] = {}


def contributes(section: str, *, export: Exporter, erase: Eraser | None = None) -> None:
    """Register a module's part of the export (under ``section``) and of erasure."""
    EXPORTERS[section] = export
    if erase is not None:
        ERASERS[section] = erase


router = APIRouter(prefix="/api/v1/users/me", tags=["privacy"])


@router.get("/export", summary="Everything stored about me")
async def export_me(session: SessionDep, principal: CurrentUser) -> dict[str, Any]:
    """A JSON document with one section per module that keeps personal data."""
    sections = {name: await export(session, principal.user) for name, export in EXPORTERS.items()}
    return {"exported_at": utcnow().isoformat(), "user_id": str(principal.user_id), **sections}


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase my account",
    dependencies=[Depends(require(Permission.PROFILE_WRITE))],
)
async def erase_me(
    body: AccountDeletion, request: Request, session: SessionDep, principal: CurrentUser
) -> Response:
    """Erase personal data everywhere; what integrity needs stays, anonymised."""
    user = principal.user
    if not await verify_password(user.password_hash, body.password):
        raise InvalidCredentials("The password is wrong.")
    for erase in ERASERS.values():
        await erase(session, user)
    audit(session, request, "account.erase", target_type="user", target_id=user.id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
