"""Account e-mails: address verification and password reset, with single-use, expiring
tokens of which only a hash is stored.

A token row is added in the transaction of the request that asks for it, with a job that
writes the e-mail (``accounts.email``). The token itself is never stored, not even in the
job's arguments: it is an HMAC of the row's id under the node's secret key, so the job
derives it again (a retried send carries the same link) and a copy of the database alone
opens nothing. Using a token marks it used in the same transaction as its effect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import replace
from datetime import timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.errors import PermanentFailure
from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.accounts.tokens import digest
from lms.notifications import templates
from lms.notifications.jobs import MAIL_BACKOFF
from lms.notifications.mail import Mailer
from persistence.models import AccountToken, User
from persistence.models.base import new_id, utcnow
from settings import Settings

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"
MAX_TOKEN_LENGTH = 100


class TokenRefused(Exception):
    """The token is unknown, used, expired or no longer matches the account."""


def derive(secret: str, token_id: uuid.UUID, purpose: str) -> str:
    """The token of row ``token_id`` (what the e-mail's link carries)."""
    mac = hmac.new(secret.encode(), f"account-token:{purpose}:{token_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


async def _declared(ctx: JobContext) -> None:  # pragma: no cover - replaced by job_types
    raise PermanentFailure(f"{ctx.name} has no handler in this process")


ACCOUNT_EMAIL = JobType(
    "accounts.email",
    _declared,
    max_attempts=12,
    timeout=120.0,
    backoff=MAIL_BACKOFF,
    summary="send an address verification or password reset e-mail",
)


async def issue(
    session: AsyncSession, user: User, purpose: str, *, settings: Settings
) -> AccountToken:
    """Add a token of ``purpose`` for ``user`` and the job that e-mails it. A new reset or
    verification token voids the user's earlier unused ones of the same purpose."""
    ttl = (
        settings.password_reset_ttl_seconds
        if purpose == PASSWORD_RESET
        else settings.email_verification_ttl_seconds
    )
    now = utcnow()
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token_id = new_id()
    row = AccountToken(
        id=token_id,
        user_id=user.id,
        purpose=purpose,
        email=user.email,
        token_hash=digest(derive(settings.secret_key, token_id, purpose)),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    session.add(row)
    await enqueue(session, ACCOUNT_EMAIL, {"token_id": str(token_id)})
    return row


async def redeem(session: AsyncSession, token: str, purpose: str) -> tuple[AccountToken, User]:
    """Spend a token of ``purpose``: mark it used (in ``session``'s transaction) and return
    it with its user; TokenRefused if it is unknown, used, expired, or the account's
    address changed since it was sent."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRefused()
    row = (
        await session.execute(select(AccountToken).where(AccountToken.token_hash == digest(token)))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        raise TokenRefused()
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active or user.erased_at is not None or user.email != row.email:
        raise TokenRefused()
    claimed = await session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 1) != 1:
        raise TokenRefused()
    return row, user


async def send(ctx: JobContext, *, settings: Settings, mailer: Mailer) -> None:
    """``accounts.email``: write and send the e-mail of one token (nothing if it was used,
    expired or voided meanwhile)."""
    async with ctx.sessions() as session:
        row = await session.get(AccountToken, uuid.UUID(str(ctx.args["token_id"])))
        if row is None or row.used_at is not None or row.expires_at <= utcnow():
            return
        user = await session.get(User, row.user_id)
        await session.commit()
    if user is None or not user.is_active or user.email != row.email:
        return
    token = derive(settings.secret_key, row.id, row.purpose)
    if row.purpose == PASSWORD_RESET:
        url = templates.page_url(settings.public_url, "/reset-password", token=token)
        minutes = settings.password_reset_ttl_seconds // 60
        email = templates.password_reset(row.email, user.name, url=url, minutes=minutes)
    else:
        url = templates.page_url(settings.public_url, "/verify-email", token=token)
        hours = settings.email_verification_ttl_seconds // 3600
        email = templates.verify_email(row.email, user.name, url=url, hours=hours)
    await mailer.send(email, key=f"account-{row.id}")


def job_types(settings: Settings, mailer: Mailer) -> list[JobType]:
    """The accounts e-mail job with its handler bound to the node's settings and mailer."""
    return [replace(ACCOUNT_EMAIL, handler=partial(send, settings=settings, mailer=mailer))]
