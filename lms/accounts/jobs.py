"""The accounts domain's background jobs: forgetting refresh tokens that can never be used
again, once a day (a periodic job: one run per day across every node and worker)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from jobs.types import JobContext, JobType, Periodic
from persistence.models import RefreshToken
from persistence.models.base import utcnow

EXPIRED_TOKEN_GRACE = timedelta(days=7)
"""How long an expired refresh token is kept (someone reading the audit log may ask)."""


async def purge_expired_tokens(ctx: JobContext) -> None:
    """Delete refresh tokens that expired more than ``EXPIRED_TOKEN_GRACE`` ago.

    An expired token is refused before reuse detection looks at it, so nothing depends on
    it any more; the table would otherwise grow by one row per sign-in and refresh forever.
    """
    async with ctx.sessions() as session:
        await session.execute(
            delete(RefreshToken).where(RefreshToken.expires_at < utcnow() - EXPIRED_TOKEN_GRACE)
        )
        await session.commit()


PURGE_EXPIRED_TOKENS = Periodic(
    JobType(
        "accounts.purge_expired_tokens",
        purge_expired_tokens,
        max_attempts=3,
        timeout=600.0,
        summary="delete refresh tokens expired over a week ago",
    ),
    "41 3 * * *",
)
