"""Account e-mails: confirming an address and resetting a forgotten password.

Asking for a reset link answers 202 with the same words whether or not an account has the
address (no account enumeration), and is throttled per address and per client address.
A reset signs the account out everywhere, like a password change.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy import func, select
from starlette.responses import Response

from lms.accounts import emails, service, sessions
from lms.accounts.passwords import hash_password
from lms.accounts.schemas import (
    Accepted,
    EmailVerification,
    PasswordResetConfirm,
    PasswordResetRequest,
    VerifiedEmail,
)
from lms.accounts.throttle import check_requests_allowed
from lms.audit.service import audit
from lms.deps import RevokedHooksDep, SessionDep, SettingsDep, client_ip
from lms.errors import InvalidInput, TooManyRequests
from lms.permissions import CurrentUser, Permission, require
from ops.guards import public
from persistence.models import AccountToken
from persistence.models.base import utcnow

router = APIRouter(tags=["auth"])
RESET_REQUESTED = "auth.password_reset_request"
RESET_SENT = (
    "If an account has this address, we sent it a link to choose a new password. "
    "The link works once and expires soon."
)
BAD_LINK = "This link is invalid, was already used or has expired. Ask for a new one."


@router.post(
    "/api/v1/auth/verify-email",
    dependencies=[Depends(public)],
    summary="Confirm an e-mail address",
)
async def verify_email(
    body: EmailVerification, request: Request, session: SessionDep
) -> VerifiedEmail:
    """Spend the token of a verification e-mail's link; the address is then confirmed."""
    try:
        _row, user = await emails.redeem(session, body.token, emails.VERIFY_EMAIL)
    except emails.TokenRefused:
        raise InvalidInput(
            BAD_LINK, errors=[{"field": "body.token", "message": "refused"}]
        ) from None
    user.email_verified_at = user.email_verified_at or utcnow()
    audit(
        session,
        request,
        "account.email_verified",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    await session.commit()
    return VerifiedEmail(email=user.email, email_verified_at=user.email_verified_at)


@router.post(
    "/api/v1/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(public)],
    summary="Ask for a password reset link",
)
async def request_reset(
    body: PasswordResetRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> Accepted:
    """Always 202 with the same answer; an e-mail goes out only if an active account has
    the address. Throttled per address and per client (429, whoever the address is)."""
    email = service.normalise_email(body.email)
    await check_requests_allowed(
        session,
        RESET_REQUESTED,
        target=email,
        ip=client_ip(request),
        per_target=settings.password_reset_max_per_address,
        per_ip=settings.password_reset_max_per_ip,
        window_seconds=settings.password_reset_window_seconds,
    )
    user = await service.find_by_email(session, email)
    if user is not None and user.is_active and user.erased_at is None:
        await emails.issue(session, user, emails.PASSWORD_RESET, settings=settings)
    audit(session, request, RESET_REQUESTED, target_type="user", target_id=email)
    await session.commit()
    return Accepted(detail=RESET_SENT)


@router.post(
    "/api/v1/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(public)],
    summary="Choose a new password with a reset link",
)
async def confirm_reset(
    body: PasswordResetConfirm,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    revoked: RevokedHooksDep,
) -> Response:
    """Spend the reset token (once, before it expires), set the new password and sign the
    account out everywhere. The address counts as confirmed: the link reached it."""
    password_hash = await hash_password(body.new_password)  # before any lock is taken
    try:
        _row, user = await emails.redeem(session, body.token, emails.PASSWORD_RESET)
    except emails.TokenRefused:
        raise InvalidInput(
            BAD_LINK, errors=[{"field": "body.token", "message": "refused"}]
        ) from None
    service.check_password_policy(
        body.new_password, settings=settings, email=user.email, field="body.new_password"
    )
    user.password_hash = password_hash
    user.email_verified_at = user.email_verified_at or utcnow()
    await sessions.revoke_all(session, user, revoked)
    audit(
        session,
        request,
        "account.password_reset",
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/v1/users/me/email-verification",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require(Permission.PROFILE_WRITE))],
    summary="Send me the address verification e-mail again",
)
async def resend_verification(
    request: Request, session: SessionDep, settings: SettingsDep, principal: CurrentUser
) -> Accepted:
    """A new verification link for the caller's address (the earlier ones stop working);
    at most five an hour. An address already confirmed gets no e-mail."""
    user = principal.user
    if user.email_verified_at is not None:
        return Accepted(detail="Your address is already confirmed.")
    since = utcnow() - timedelta(hours=1)
    recent = (
        await session.execute(
            select(func.count()).where(
                AccountToken.user_id == user.id,
                AccountToken.purpose == emails.VERIFY_EMAIL,
                AccountToken.created_at > since,
            )
        )
    ).scalar_one()
    if recent >= 5:
        raise TooManyRequests(
            "You asked for several links already; try again later.", retry_after=3600
        )
    await emails.issue(session, user, emails.VERIFY_EMAIL, settings=settings)
    audit(session, request, "account.verification_sent", target_type="user", target_id=user.id)
    await session.commit()
    return Accepted(detail="We sent a new link to your address.")
