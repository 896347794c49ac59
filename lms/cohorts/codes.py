"""Join codes: self-enrolment with a short code, rotatable, with guessing rate-limited.

A code is 10 characters from a 31-letter alphabet without look-alikes (about 49 bits);
it is matched without regard to case, spaces or dashes. Every wrong code a person tries is
recorded (committed even though the request fails); after ``MAX_MISSES`` wrong codes in
``WINDOW`` they get 429 with ``Retry-After`` until the oldest one ages out, whether or not
their next code is right, so guessing cannot outpace the window.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import NotFound, TooManyRequests
from persistence.models import Cohort, CohortCodeAttempt

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ2345679"
LENGTH = 10
MAX_MISSES = 10
WINDOW = timedelta(minutes=15)


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(code: str) -> str:
    """The code as stored: upper case, without blanks and dashes."""
    return "".join(ch for ch in code.upper() if ch not in " -\t")


async def check_rate(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """429 when the person tried too many wrong codes lately."""
    since = now - WINDOW
    misses, oldest = (
        await session.execute(
            select(func.count(), func.min(CohortCodeAttempt.at)).where(
                CohortCodeAttempt.user_id == user_id, CohortCodeAttempt.at > since
            )
        )
    ).one()
    if misses >= MAX_MISSES:
        wait = int(((oldest or now) + WINDOW - now).total_seconds()) + 1
        raise TooManyRequests("Too many wrong codes; try again later.", retry_after=wait)


async def find(session: AsyncSession, user_id: uuid.UUID, code: str, now: datetime) -> Cohort:
    """The cohort whose code this is; a wrong code is recorded (committed) and is a 404."""
    await check_rate(session, user_id, now)
    wanted = normalise(code)
    cohort = None
    if len(wanted) == LENGTH:
        cohort = (
            await session.execute(select(Cohort).where(Cohort.join_code == wanted))
        ).scalar_one_or_none()
    if cohort is None:
        await session.execute(
            delete(CohortCodeAttempt).where(
                CohortCodeAttempt.user_id == user_id, CohortCodeAttempt.at <= now - WINDOW
            )
        )
        session.add(CohortCodeAttempt(user_id=user_id, at=now))
        await session.commit()
        raise NotFound("No cohort has this code.")
    return cohort
