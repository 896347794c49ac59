"""Invitations by e-mail: a single-use link that puts the invitee in the cohort.

As for account e-mails (lms/accounts/emails.py), the token is never stored, not even in
the job's arguments: it is an HMAC of the invitation's id under the node's secret key, and
only its SHA-256 is kept. The ``cohorts.invitation_email`` job derives it again and sends
the link through the node's SMTP settings. Accepting needs the account whose address was
invited, before the invitation expires (``TTL``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from html import escape

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.errors import PermanentFailure
from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.accounts.tokens import digest
from lms.cohorts import service
from lms.errors import Conflict, NotFound
from lms.notifications.jobs import MAIL_BACKOFF
from lms.notifications.mail import Email, Mailer
from lms.notifications.templates import page_url
from persistence.models import Cohort, CohortInvitation, CohortMember, Course, User
from settings import Settings

TTL = timedelta(days=14)
ACCEPT_PATH = "/cohort-invitations/accept"


def derive(secret: str, invitation_id: uuid.UUID) -> str:
    """The token of invitation ``invitation_id`` (what the e-mail's link carries)."""
    mac = hmac.new(secret.encode(), f"cohort-invitation:{invitation_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


async def _declared(ctx: JobContext) -> None:  # pragma: no cover - replaced by job_types
    raise PermanentFailure(f"{ctx.name} has no handler in this process")


INVITATION_EMAIL = JobType(
    "cohorts.invitation_email",
    _declared,
    max_attempts=12,
    timeout=120.0,
    backoff=MAIL_BACKOFF,
    summary="e-mail an invitation to join a cohort",
)


async def invite(
    session: AsyncSession,
    cohort: Cohort,
    email: str,
    by: uuid.UUID,
    now: datetime,
    *,
    secret: str,
) -> CohortInvitation:
    """Add an invitation and the job that e-mails it."""
    invitation_id = uuid.uuid4()
    row = CohortInvitation(
        id=invitation_id,
        cohort_id=cohort.id,
        email=email.strip().lower(),
        token_hash=digest(derive(secret, invitation_id)),
        invited_by=by,
        created_at=now,
        expires_at=now + TTL,
    )
    session.add(row)
    await session.flush()
    await enqueue(session, INVITATION_EMAIL, {"invitation_id": str(invitation_id)})
    return row


async def accept(session: AsyncSession, token: str, user: User, now: datetime) -> CohortMember:
    """Spend an invitation: the caller (whose address it was sent to) joins the cohort."""
    row = (
        await session.execute(
            select(CohortInvitation).where(CohortInvitation.token_hash == digest(token))
        )
    ).scalar_one_or_none()
    if row is None or row.email != user.email.lower():
        raise NotFound("No such invitation for this account.")
    if row.accepted_at is not None:
        raise Conflict("This invitation was already used.", reason="used")
    if row.expires_at <= now:
        raise Conflict("This invitation has expired; ask for a new one.", reason="expired")
    member = await service.join(session, row.cohort_id, user, "invitation", now)
    claimed = await session.execute(
        update(CohortInvitation)
        .where(CohortInvitation.id == row.id, CohortInvitation.accepted_at.is_(None))
        .values(accepted_at=now)
    )
    if getattr(claimed, "rowcount", 1) != 1:
        raise Conflict("This invitation was already used.", reason="used")
    return member


def _email(to: str, cohort: str, course: str, url: str, days: int) -> Email:
    title = f"You are invited to {cohort}"
    text = (
        f"Hello,\n\nYou are invited to join the cohort {cohort} of the course {course} on "
        f"liveclass. Accept within {days} days with this link (sign in with this address):"
        f"\n\n{url}\n\nIf you do not want to join, ignore this e-mail.\n"
    )
    html = (
        f'<!doctype html><html lang="en"><body><h1>{escape(title)}</h1>'
        f"<p>You are invited to join the cohort {escape(cohort)} of the course "
        f"{escape(course)}. Accept within {days} days (sign in with this address).</p>"
        f'<p><a href="{escape(url)}">Accept the invitation</a></p>'
        "<p>If you do not want to join, ignore this e-mail.</p></body></html>"
    )
    return Email(to, f"[liveclass] {title}", text, html)


async def send(ctx: JobContext, *, settings: Settings, mailer: Mailer) -> None:
    """The job: e-mail the invitation (nothing if it is gone or already accepted)."""
    async with ctx.sessions() as session:
        row = await session.get(CohortInvitation, uuid.UUID(str(ctx.args["invitation_id"])))
        if row is None or row.accepted_at is not None:
            return
        cohort = await session.get(Cohort, row.cohort_id)
        course = await session.get(Course, cohort.course_id) if cohort else None
        if cohort is None or course is None:
            return
        token = derive(settings.secret_key, row.id)
        url = page_url(settings.public_url, ACCEPT_PATH, token=token)
        email = _email(row.email, cohort.name, course.title, url, TTL.days)
        await session.commit()
    await mailer.send(email, key=f"cohort-invitation-{row.id}")


def job_types(settings: Settings, mailer: Mailer) -> list[JobType]:
    """The invitation job with its handler bound to the node's settings and mailer."""
    return [replace(INVITATION_EMAIL, handler=partial(send, settings=settings, mailer=mailer))]
