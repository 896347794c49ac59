"""The notifications domain's rules: writing to the inbox, reading it, marking it read,
preferences per category and Web Push subscriptions. Sessions in, values out; no HTTP.

``notify`` is what every other domain calls, inside its own transaction: the inbox row and
the jobs that deliver it (e-mail now or in the digest, live push, Web Push) commit together
with the change that caused them, or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.queue import enqueue
from lms.errors import InvalidInput, NotFound
from lms.notifications import jobs as delivery
from lms.notifications.categories import CATEGORIES, Delivery
from persistence.models import Notification, NotificationPreference, PushSubscription
from persistence.models.base import utcnow

MAX_TITLE = 200
MAX_BODY = 4000
MAX_LINK = 500


@dataclass(frozen=True)
class Page:
    """One page of a user's inbox, newest first, and the id to continue before."""

    items: list[Notification]
    next_before: int | None


async def notify(
    session: AsyncSession,
    user_id: uuid.UUID,
    category: str,
    title: str,
    body: str = "",
    link: str | None = None,
    *,
    key: str,
    web_push: bool = True,
) -> Notification:
    """Put a notification in ``user_id``'s inbox and enqueue its delivery, in ``session``'s
    transaction. ``key`` names its cause (an event id, say): notifying the same person with
    the same key again returns the first notification and delivers nothing more."""
    if category not in CATEGORIES:
        raise ValueError(f"undeclared notification category {category!r}")
    if link is not None and not link.startswith("/"):
        raise ValueError("a notification links to a path on this site")
    existing = (
        await session.execute(
            select(Notification).where(
                Notification.user_id == user_id, Notification.event_id == key[:200]
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    choice = await delivery_of(session, user_id, category)
    row = Notification(
        user_id=user_id,
        event_id=key[:200],
        category=category,
        title=title[:MAX_TITLE],
        body=body[:MAX_BODY],
        link=link[:MAX_LINK] if link else None,
        created_at=utcnow(),
        digest_due=choice is Delivery.DAILY_DIGEST,
    )
    session.add(row)
    await session.flush()
    args = {"notification_id": row.id}
    await enqueue(session, delivery.PUSH_LIVE, {"user_id": str(user_id), **args})
    if choice is Delivery.IMMEDIATELY:
        await enqueue(session, delivery.EMAIL_NOTIFICATION, args)
    if web_push and choice is not Delivery.OFF:
        subscribed = await session.execute(
            select(PushSubscription.id).where(PushSubscription.user_id == user_id).limit(1)
        )
        if subscribed.first() is not None:
            await enqueue(session, delivery.WEB_PUSH, args)
    return row


async def delivery_of(session: AsyncSession, user_id: uuid.UUID, category: str) -> Delivery:
    """How ``user_id`` wants ``category`` delivered (their choice, else the default)."""
    chosen = await session.get(NotificationPreference, (user_id, category))
    if chosen is not None:
        try:
            return Delivery(chosen.delivery)
        except ValueError:
            pass
    return CATEGORIES[category].default


async def page(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    before: int | None,
    limit: int,
    unread_only: bool,
) -> Page:
    """A page of ``user_id``'s notifications, newest first, before id ``before``."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(
        (await session.execute(query.order_by(Notification.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    """How many of ``user_id``'s notifications are unread."""
    query = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return int((await session.execute(query)).scalar_one())


async def mark_read(
    session: AsyncSession, user_id: uuid.UUID, notification_id: int
) -> Notification:
    """Mark one of ``user_id``'s notifications read (404 for anyone else's); tell the
    user's open tabs the new count."""
    row = await session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such notification.")
    if row.read_at is None:
        row.read_at = utcnow()
        await enqueue(session, delivery.PUSH_LIVE, {"user_id": str(user_id)})
    return row


async def mark_all_read(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Mark every unread notification of ``user_id`` read; return how many."""
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        await enqueue(session, delivery.PUSH_LIVE, {"user_id": str(user_id)})
    return count


async def preferences(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Delivery]:
    """Every category with the delivery ``user_id`` gets (chosen or default)."""
    rows = await session.execute(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    chosen = {row.category: row.delivery for row in rows.scalars()}
    result: dict[str, Delivery] = {}
    for name, category in CATEGORIES.items():
        try:
            result[name] = Delivery(chosen.get(name, category.default))
        except ValueError:
            result[name] = category.default
    return result


async def set_preferences(
    session: AsyncSession, user_id: uuid.UUID, changes: dict[str, str]
) -> dict[str, Delivery]:
    """Set the delivery of the categories in ``changes``; an unknown category or delivery
    is a 422 naming each bad field, and then nothing changes."""
    errors = []
    for name, value in changes.items():
        if name not in CATEGORIES:
            errors.append({"field": f"body.categories.{name}"[:200], "message": "unknown category"})
        elif value not in {d.value for d in Delivery}:
            errors.append({"field": f"body.categories.{name}", "message": "unknown delivery"})
    if errors:
        raise InvalidInput(
            "Unknown notification categories or deliveries; known categories: "
            + ", ".join(CATEGORIES)
            + "; deliveries: "
            + ", ".join(d.value for d in Delivery)
            + ".",
            errors=errors[:20],
        )
    for name, value in changes.items():
        row = await session.get(NotificationPreference, (user_id, name))
        if row is None:
            session.add(NotificationPreference(user_id=user_id, category=name, delivery=value))
        else:
            row.delivery = value
    await session.flush()
    return await preferences(session, user_id)


async def subscribe_push(
    session: AsyncSession, user_id: uuid.UUID, *, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Record a browser's push subscription for ``user_id`` (a known endpoint moves to
    this user: a browser belongs to whoever signed in last)."""
    row = (
        await session.execute(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    ).scalar_one_or_none()
    if row is None:
        row = PushSubscription(user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth)
        session.add(row)
    else:
        row.user_id, row.p256dh, row.auth = user_id, p256dh, auth
    await session.flush()
    return row


async def unsubscribe_push(
    session: AsyncSession, user_id: uuid.UUID, subscription_id: uuid.UUID
) -> None:
    """Forget one of ``user_id``'s push subscriptions (404 for anyone else's)."""
    row = await session.get(PushSubscription, subscription_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such push subscription.")
    await session.delete(row)


async def forget_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Erase a user's notifications, preferences and push subscriptions."""
    for model in (Notification, NotificationPreference, PushSubscription):
        await session.execute(delete(model).where(model.user_id == user_id))
