"""Sign-up, sign-in (OAuth2 password grant), token refresh and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from starlette.responses import Response

from lms.accounts import emails, service, sessions
from lms.accounts.schemas import LogoutRequest, RefreshRequest, Registration, TokenPair, UserOut
from lms.audit.service import audit
from lms.deps import RevokedHooksDep, SessionDep, SettingsDep
from lms.errors import InvalidInput
from lms.permissions import CurrentUser
from ops.guards import public

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
FormText = Annotated[str, Form(min_length=1, max_length=1024)]


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(public)],
    summary="Create a student account",
)
async def register(
    body: Registration, request: Request, session: SessionDep, settings: SettingsDep
) -> UserOut:
    """Self-registration always yields the student role; an e-mail asks to confirm the
    address (``POST /api/v1/auth/verify-email`` with the link's token)."""
    user = await service.create_user(
        session,
        email=body.email,
        password=body.password,
        name=body.name,
        role="student",
        settings=settings,
    )
    audit(
        session,
        request,
        "account.register",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    await emails.issue(session, user, emails.VERIFY_EMAIL, settings=settings)
    await session.commit()
    return UserOut.model_validate(user)


@router.post("/token", dependencies=[Depends(public)], summary="OAuth2 token endpoint")
async def token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    grant_type: Annotated[str, Form(max_length=32)] = "password",
    username: Annotated[str | None, Form(max_length=320)] = None,
    password: Annotated[str | None, Form(max_length=1024)] = None,
    refresh_token: Annotated[str | None, Form(max_length=512)] = None,
) -> TokenPair:
    """Password grant (``username`` is the email) or refresh-token grant."""
    if grant_type == "refresh_token" and refresh_token:
        return await _refresh(request, session, settings, refresh_token)
    if grant_type != "password" or not username or not password:
        raise InvalidInput(
            "Send grant_type=password with username and password, "
            "or grant_type=refresh_token with refresh_token.",
            error="unsupported_grant_type"
            if grant_type not in ("password", "refresh_token")
            else "invalid_request",
        )
    user = await service.login(
        session, request, email=username, password=password, settings=settings
    )
    pair = sessions.issue_pair(session, request, user, settings=settings)
    await session.commit()
    return pair


@router.post("/refresh", dependencies=[Depends(public)], summary="Rotate a refresh token")
async def refresh(
    body: RefreshRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """Spend a refresh token for a new pair; a reused token revokes its whole session."""
    return await _refresh(request, session, settings, body.refresh_token)


async def _refresh(
    request: Request, session: SessionDep, settings: SettingsDep, refresh_token: str
) -> TokenPair:
    user, pair = await sessions.rotate(session, request, refresh_token, settings=settings)
    audit(session, request, "auth.refresh", actor_id=user.id, target_type="user", target_id=user.id)
    await session.commit()
    return pair


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out")
async def logout(
    body: LogoutRequest,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    revoked: RevokedHooksDep,
) -> Response:
    """End the session of ``refresh_token``, or every session with ``everywhere``."""
    user = principal.user
    if body.everywhere:
        await sessions.revoke_all(session, user, revoked)
    elif body.refresh_token:
        await sessions.end_session(session, user, body.refresh_token)
    audit(
        session,
        request,
        "auth.logout",
        target_type="user",
        target_id=user.id,
        everywhere=body.everywhere,
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
