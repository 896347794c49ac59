"""Service API keys for integrations: scoped, hashed at rest, revocable."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy import select

from lms.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from lms.accounts.tokens import digest, new_api_key
from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import SessionDep
from lms.errors import InvalidInput, NotFound
from lms.permissions import Permission, permissions_of, require
from persistence.models import ApiKey
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])
KeyManager = Annotated[Principal, Depends(require(Permission.API_KEYS_MANAGE))]


@router.get("", summary="My API keys")
async def list_keys(session: SessionDep, principal: KeyManager) -> list[ApiKeyOut]:
    """Every key the caller created, revoked ones included, newest first."""
    query = (
        select(ApiKey).where(ApiKey.user_id == principal.user_id).order_by(ApiKey.created_at.desc())
    )
    return [ApiKeyOut.model_validate(k) for k in (await session.execute(query)).scalars()]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an API key")
async def create_key(
    body: ApiKeyCreate, request: Request, session: SessionDep, principal: KeyManager
) -> ApiKeyCreated:
    """Create a key limited to ``scopes``; the key is in this response and never again."""
    if principal.api_key_id is not None:
        raise InvalidInput("API keys cannot create other API keys.")
    allowed = {p.value for p in permissions_of(principal.role)}
    if unknown := sorted(set(body.scopes) - allowed):
        raise InvalidInput(
            "Scopes must be permissions you hold.",
            errors=[{"field": "body.scopes", "message": f"not allowed: {', '.join(unknown)}"}],
        )
    key, prefix = new_api_key()
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    row = ApiKey(
        user_id=principal.user_id,
        name=body.name,
        prefix=prefix,
        key_hash=digest(key),
        scopes=sorted(set(body.scopes)),
        expires_at=expires,
    )
    session.add(row)
    await session.flush()
    audit(
        session,
        request,
        "api_key.create",
        target_type="api_key",
        target_id=row.id,
        scopes=row.scopes,
    )
    await session.commit()
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(row).model_dump(), "key": key})


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key")
async def revoke_key(
    key_id: uuid.UUID, request: Request, session: SessionDep, principal: KeyManager
) -> None:
    """Revoke one of the caller's keys (admins: anyone's); idempotent."""
    row = await session.get(ApiKey, key_id)
    is_admin = Permission.USERS_MANAGE in permissions_of(principal.role)
    if row is None or (row.user_id != principal.user_id and not is_admin):
        raise NotFound("No such API key.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit(session, request, "api_key.revoke", target_type="api_key", target_id=row.id)
        await session.commit()
