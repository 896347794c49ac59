"""The notifications domain's jobs: every delivery after ``notify`` commits.

- ``notifications.live``: publish the notification (or only the new unread count) on the
  user's channel, for their open tabs on every node (``live.py``).
- ``notifications.email``: e-mail one notification (retried with backoff while the SMTP
  server refuses; sent once: ``emailed_at`` records it).
- ``notifications.digest``: once a day, one ``notifications.digest_email`` per person with
  notifications kept for the digest.
- ``notifications.web_push``: Web Push to each of the user's subscriptions (when VAPID keys
  are set); subscriptions the push service says are gone are forgotten.

The job types below are declarations (name, attempts, timeout, backoff) used to enqueue;
``Delivery`` gives them handlers bound to the node's mailer, broker and settings, and the
node registers those (``Delivery.job_types``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select, update

from jobs.errors import PermanentFailure
from jobs.retry import Backoff
from jobs.types import JobContext, JobType, Periodic
from lms.notifications import live, templates
from lms.notifications.mail import Mailer
from persistence.models import Notification, PushSubscription, User
from persistence.models.base import utcnow
from realtime.broker import Broker
from settings import Settings

logger = logging.getLogger("liveclass.notifications")


async def _declared(ctx: JobContext) -> None:  # pragma: no cover - replaced by Delivery
    raise PermanentFailure(f"{ctx.name} has no handler in this process")


MAIL_BACKOFF = Backoff(base=5.0, cap=1800.0)
"""E-mail retries: 5 s doubling up to 30 min, 12 attempts: about four hours of outage."""

PUSH_LIVE = JobType(
    "notifications.live", _declared, max_attempts=5, timeout=30.0, summary="live push to tabs"
)
EMAIL_NOTIFICATION = JobType(
    "notifications.email",
    _declared,
    max_attempts=12,
    timeout=120.0,
    backoff=MAIL_BACKOFF,
    summary="e-mail one notification",
)
DIGEST = JobType(
    "notifications.digest", _declared, max_attempts=3, timeout=600.0, summary="daily digests"
)
DIGEST_EMAIL = JobType(
    "notifications.digest_email",
    _declared,
    max_attempts=12,
    timeout=120.0,
    backoff=MAIL_BACKOFF,
    summary="e-mail one person's digest",
)
WEB_PUSH = JobType(
    "notifications.web_push",
    _declared,
    max_attempts=8,
    timeout=60.0,
    backoff=Backoff(base=5.0, cap=900.0),
    summary="Web Push one notification",
)


def as_json(row: Notification) -> dict[str, Any]:
    """A notification as the API and the live channel show it."""
    return {
        "id": row.id,
        "category": row.category,
        "title": row.title,
        "body": row.body,
        "link": row.link,
        "created_at": row.created_at.isoformat(),
        "read_at": row.read_at.isoformat() if row.read_at else None,
    }


class Delivery:
    """The handlers of the job types above, bound to one node's (or worker's) parts."""

    def __init__(self, settings: Settings, mailer: Mailer, broker: Broker | None) -> None:
        self.settings = settings
        self.mailer = mailer
        self.broker = broker

    def job_types(self) -> list[JobType]:
        """The job types with their handlers (the daily digest is ``periodic``)."""
        return [
            replace(PUSH_LIVE, handler=self.push_live),
            replace(EMAIL_NOTIFICATION, handler=self.email_notification),
            replace(DIGEST_EMAIL, handler=self.digest_email),
            replace(WEB_PUSH, handler=self.web_push),
        ]

    def periodic(self) -> list[Periodic]:
        """The daily digest, on ``LIVECLASS_NOTIFICATIONS_DIGEST_SCHEDULE``."""
        return [
            Periodic(
                replace(DIGEST, handler=self.digest), self.settings.notifications_digest_schedule
            )
        ]

    @property
    def settings_url(self) -> str:
        """The preferences page, as e-mails link to it."""
        return templates.page_url(self.settings.public_url, "/notifications/settings")

    # ------------------------------------------------------------------ live push

    async def push_live(self, ctx: JobContext) -> None:
        """Publish the notification (if any) and the user's unread count on their channel."""
        if self.broker is None:
            return  # a worker without Redis reaches no node's tabs; they read the count
        user_id = uuid.UUID(str(ctx.args["user_id"]))
        notification_id = ctx.args.get("notification_id")
        async with ctx.sessions() as session:
            row = await session.get(Notification, notification_id) if notification_id else None
            unread = int(
                (
                    await session.execute(
                        select(func.count()).where(
                            Notification.user_id == user_id, Notification.read_at.is_(None)
                        )
                    )
                ).scalar_one()
            )
        if row is not None and row.user_id == user_id:
            message = {"type": "notification", "notification": as_json(row), "unread": unread}
        else:
            message = {"type": "unread", "unread": unread}
        await self.broker.publish(live.channel(user_id), json.dumps(message).encode())

    # ------------------------------------------------------------------ e-mail

    async def email_notification(self, ctx: JobContext) -> None:
        """E-mail one notification once; nothing if already sent, read or its owner gone."""
        async with ctx.sessions() as session:
            row = await session.get(Notification, ctx.args["notification_id"])
            if row is None or row.emailed_at is not None:
                return
            user = await session.get(User, row.user_id)
            if user is None or not user.is_active or user.erased_at is not None:
                return
            item = templates.Item(row.title, row.body, row.link, row.category)
            email = templates.notification(
                user.email,
                item,
                public_url=self.settings.public_url,
                settings_url=self.settings_url,
            )
            await session.commit()  # no transaction held while talking to the SMTP server
            await self.mailer.send(email, key=f"notification-{row.id}")
            await session.execute(
                update(Notification).where(Notification.id == row.id).values(emailed_at=utcnow())
            )
            await session.commit()

    async def digest(self, ctx: JobContext) -> None:
        """Enqueue one digest e-mail per person with notifications waiting for it."""
        from jobs.queue import enqueue

        async with ctx.sessions() as session:
            rows = await session.execute(
                select(Notification.user_id, func.max(Notification.id))
                .where(Notification.digest_due.is_(True), Notification.emailed_at.is_(None))
                .group_by(Notification.user_id)
            )
            for user_id, through in rows.all():
                await enqueue(
                    session, DIGEST_EMAIL, {"user_id": str(user_id), "through": int(through)}
                )
            await session.commit()

    async def digest_email(self, ctx: JobContext) -> None:
        """E-mail one person the unread notifications kept for the digest, up to
        ``through``; mark every one of them (read or not) as done."""
        user_id = uuid.UUID(str(ctx.args["user_id"]))
        through = int(ctx.args["through"])
        waiting = (
            Notification.user_id == user_id,
            Notification.digest_due.is_(True),
            Notification.emailed_at.is_(None),
            Notification.id <= through,
        )
        async with ctx.sessions() as session:
            user = await session.get(User, user_id)
            rows = list(
                (
                    await session.execute(
                        select(Notification)
                        .where(*waiting, Notification.read_at.is_(None))
                        .order_by(Notification.id)
                        .limit(200)
                    )
                ).scalars()
            )
            items = [templates.Item(r.title, r.body, r.link, r.category) for r in rows]
            await session.commit()
            if items and user is not None and user.is_active and user.erased_at is None:
                email = templates.digest(
                    user.email,
                    items,
                    public_url=self.settings.public_url,
                    settings_url=self.settings_url,
                )
                await self.mailer.send(email, key=f"digest-{user_id}-{through}")
            await session.execute(update(Notification).where(*waiting).values(emailed_at=utcnow()))
            await session.commit()

    # ------------------------------------------------------------------ Web Push

    async def web_push(self, ctx: JobContext) -> None:
        """Send the notification to each of its owner's push subscriptions."""
        s = self.settings
        if not s.web_push_enabled:
            return
        async with ctx.sessions() as session:
            row = await session.get(Notification, ctx.args["notification_id"])
            if row is None:
                return
            subscriptions = list(
                (
                    await session.execute(
                        select(PushSubscription).where(PushSubscription.user_id == row.user_id)
                    )
                ).scalars()
            )
            payload = json.dumps(
                {"title": row.title, "body": row.body[:500], "link": row.link, "id": row.id}
            )
            await session.commit()
        gone: list[uuid.UUID] = []
        failed = 0
        for sub in subscriptions:
            status = await asyncio.to_thread(self._push_one, sub, payload)
            if status in (404, 410):
                gone.append(sub.id)
            elif status >= 400 or status == 0:
                failed += 1
        if gone:
            async with ctx.sessions() as session:
                for sub_id in gone:
                    found = await session.get(PushSubscription, sub_id)
                    if found is not None:
                        await session.delete(found)
                await session.commit()
        if failed:
            raise RuntimeError(f"{failed} push service(s) refused the message")

    def _push_one(self, sub: PushSubscription, payload: str) -> int:
        """POST one encrypted message to a push service; its HTTP status (0: unreachable)."""
        from pywebpush import WebPushException, webpush

        s = self.settings
        try:
            response = webpush(
                subscription_info={
                    "endpoint": sub.endpoint,
                    "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
                },
                data=payload,
                vapid_private_key=s.vapid_private_key,
                vapid_claims={"sub": s.vapid_subject},
                timeout=10,
                ttl=86_400,
            )
        except WebPushException as exc:
            return int(getattr(exc.response, "status_code", 0) or 0)
        except Exception as exc:  # a malformed key, an unreachable host
            logger.info("web push to a subscription failed: %s", type(exc).__name__)
            return 0
        return int(getattr(response, "status_code", 201) or 201)
