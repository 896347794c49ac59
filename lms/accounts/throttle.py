"""Login throttling per account and per IP, counted from the audit log (shared by all nodes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import TooManyRequests
from persistence.models import AuditEvent
from persistence.models.base import utcnow
from settings import Settings

LOGIN_ACTION = "auth.login"


async def check_login_allowed(
    session: AsyncSession, *, email: str, ip: str | None, settings: Settings
) -> None:
    """Raise 429 when the account or the address has failed too often recently."""
    window = timedelta(seconds=settings.login_failure_window_seconds)
    now = utcnow()
    since = max(now - window, await _last_success(session, email) or now - window)
    by_account = AuditEvent.target_id == email
    await _enforce(session, by_account, since, settings.login_max_failures_per_account, window, now)
    if ip:
        by_ip = AuditEvent.ip == ip
        await _enforce(
            session, by_ip, now - window, settings.login_max_failures_per_ip, window, now
        )


async def _last_success(session: AsyncSession, email: str) -> datetime | None:
    query = select(func.max(AuditEvent.at)).where(
        AuditEvent.action == LOGIN_ACTION,
        AuditEvent.target_id == email,
        AuditEvent.outcome == "success",
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _enforce(
    session: AsyncSession,
    scope: ColumnElement[bool],
    since: datetime,
    limit: int,
    window: timedelta,
    now: datetime,
) -> None:
    query = (
        select(AuditEvent.at)
        .where(
            AuditEvent.action == LOGIN_ACTION,
            AuditEvent.outcome == "failure",
            AuditEvent.at > since,
            scope,
        )
        .order_by(AuditEvent.at.desc())
        .limit(limit)
    )
    failures = list((await session.execute(query)).scalars())
    if len(failures) >= limit:
        # Allowed again once the oldest of the last ``limit`` failures leaves the window.
        retry_after = (failures[-1] + window - now).total_seconds()
        raise TooManyRequests(
            "Too many failed sign-in attempts; try again later.",
            retry_after=int(retry_after) + 1,
        )
