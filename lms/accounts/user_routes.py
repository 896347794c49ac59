"""The signed-in user's own account, and account administration for admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import func, or_, select
from starlette.responses import Response

from lms.accounts import emails, service, sessions
from lms.accounts.passwords import hash_password, verify_password
from lms.accounts.schemas import (
    PasswordChange,
    ProfileUpdate,
    RoleName,
    UserAdminUpdate,
    UserOut,
    UserPage,
)
from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import RevokedHooksDep, SessionDep, SettingsDep
from lms.errors import Conflict, Forbidden, InvalidCredentials, InvalidInput, NotFound
from lms.permissions import CurrentUser, Permission, require
from persistence.models import User

router = APIRouter(prefix="/api/v1/users", tags=["users"])
Manager = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]


@router.get("/me", summary="The signed-in user")
async def me(principal: CurrentUser) -> UserOut:
    """Who the bearer token belongs to."""
    return UserOut.model_validate(principal.user)


@router.patch(
    "/me", summary="Update my profile", dependencies=[Depends(require(Permission.PROFILE_WRITE))]
)
async def update_me(
    body: ProfileUpdate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentUser,
) -> UserOut:
    """Change name and/or email; an email change needs the current password and is
    confirmed again (a verification e-mail goes to the new address)."""
    user = principal.user
    changed = []
    if body.email is not None and service.normalise_email(body.email) != user.email:
        if not body.current_password or not await verify_password(
            user.password_hash, body.current_password
        ):
            raise InvalidCredentials("Changing the email needs the current password.")
        if await service.find_by_email(session, body.email) is not None:
            raise Conflict("An account with this email already exists.")
        user.email = service.normalise_email(body.email)
        user.email_verified_at = None
        await emails.issue(session, user, emails.VERIFY_EMAIL, settings=settings)
        changed.append("email")
    if body.name is not None and body.name != user.name:
        user.name = body.name
        changed.append("name")
    audit(session, request, "account.update", target_type="user", target_id=user.id, fields=changed)
    await session.commit()
    return UserOut.model_validate(user)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password",
    dependencies=[Depends(require(Permission.PROFILE_WRITE))],
)
async def change_password(
    body: PasswordChange,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentUser,
    revoked: RevokedHooksDep,
) -> Response:
    """Set a new password; every session, this one included, must sign in again."""
    user = principal.user
    if not await verify_password(user.password_hash, body.current_password):
        audit(
            session,
            request,
            "account.password_change",
            target_type="user",
            target_id=user.id,
            outcome="failure",
        )
        await session.commit()
        raise InvalidCredentials("The current password is wrong.")
    service.check_password_policy(
        body.new_password, settings=settings, email=user.email, field="body.new_password"
    )
    user.password_hash = await hash_password(body.new_password)
    await sessions.revoke_all(session, user, revoked)
    audit(session, request, "account.password_change", target_type="user", target_id=user.id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", summary="List accounts", dependencies=[Depends(require(Permission.USERS_READ))])
async def list_users(
    session: SessionDep,
    role: RoleName | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> UserPage:
    """Accounts, newest first, filtered by role and by a search on email or name."""
    query = select(User).where(User.erased_at.is_(None))
    if role:
        query = query.where(User.role == role)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(or_(User.email.like(pattern), func.lower(User.name).like(pattern)))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(User.created_at.desc(), User.id).limit(limit).offset(offset)
    )
    items = [UserOut.model_validate(u) for u in rows.scalars()]
    return UserPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/{user_id}", summary="One account", dependencies=[Depends(require(Permission.USERS_READ))]
)
async def get_user(user_id: uuid.UUID, session: SessionDep) -> UserOut:
    """An account by id."""
    return UserOut.model_validate(await _get(session, user_id))


@router.patch("/{user_id}", summary="Change an account's role or status")
async def admin_update(
    user_id: uuid.UUID,
    body: UserAdminUpdate,
    request: Request,
    session: SessionDep,
    principal: Manager,
    revoked: RevokedHooksDep,
) -> UserOut:
    """Admins grant roles and (de)activate accounts; nobody demotes or locks themselves."""
    user = await _get(session, user_id)
    if user.id == principal.user_id and (
        (body.role and body.role != user.role) or body.is_active is False
    ):
        raise Forbidden("Admins cannot demote or deactivate themselves.")
    if user.erased_at is not None:
        raise InvalidInput("An erased account cannot be changed.")
    before = {"role": user.role, "is_active": user.is_active}
    if body.role is not None:
        user.role = body.role
    if body.is_active is not None and body.is_active != user.is_active:
        user.is_active = body.is_active
        if not body.is_active:
            await sessions.revoke_all(session, user, revoked)
    audit(
        session,
        request,
        "account.admin_update",
        target_type="user",
        target_id=user.id,
        before=before,
        after={"role": user.role, "is_active": user.is_active},
    )
    await session.commit()
    return UserOut.model_validate(user)


async def _get(session: SessionDep, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    return user
