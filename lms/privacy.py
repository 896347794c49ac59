"""Personal-data export and erasure: the routes over the app's registry (lms/personal_data.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, status
from starlette.responses import Response

from lms.accounts.passwords import verify_password
from lms.accounts.schemas import AccountDeletion
from lms.audit.service import audit
from lms.deps import PersonalDataDep, SessionDep
from lms.errors import InvalidCredentials
from lms.permissions import CurrentUser, Permission, require
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1/users/me", tags=["privacy"])


@router.get("/export", summary="Everything stored about me")
async def export_me(
    session: SessionDep, principal: CurrentUser, registry: PersonalDataDep
) -> dict[str, Any]:
    """A JSON document with one section per module that keeps personal data."""
    exporters = registry.exporters.items()
    sections = {name: await export(session, principal.user) for name, export in exporters}
    return {"exported_at": utcnow().isoformat(), "user_id": str(principal.user_id), **sections}


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase my account",
    dependencies=[Depends(require(Permission.PROFILE_WRITE))],
)
async def erase_me(
    body: AccountDeletion,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    registry: PersonalDataDep,
) -> Response:
    """Erase personal data everywhere; what integrity needs stays, anonymised."""
    user = principal.user
    if not await verify_password(user.password_hash, body.password):
        raise InvalidCredentials("The password is wrong.")
    for erase in registry.erasers.values():
        await erase(session, user)
    audit(session, request, "account.erase", target_type="user", target_id=user.id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
