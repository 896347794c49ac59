"""The caller's notifications: the inbox, the unread count, marking read, preferences per
category, Web Push subscriptions and the token of the live channel."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import SessionDep, SettingsDep
from lms.errors import Conflict
from lms.notifications import live, service
from lms.notifications.categories import CATEGORIES
from lms.notifications.schemas import (
    CategoryOut,
    ChannelToken,
    Marked,
    NotificationOut,
    NotificationPage,
    Preferences,
    PreferencesUpdate,
    PushKey,
    PushSubscriptionIn,
    PushSubscriptionOut,
    UnreadCount,
)
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.permissions import CurrentUser, Permission, require
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Writer = Annotated[Principal, Depends(require(Permission.PROFILE_WRITE))]
NotificationId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("", summary="My notifications, newest first")
async def list_notifications(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentUser,
    unread: bool = False,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> NotificationPage:
    """The caller's inbox (only unread ones with ``unread=true``); page on with ``next``
    (or the Link header)."""
    found = await service.page(
        session,
        principal.user_id,
        before=decode_cursor(cursor),
        limit=limit,
        unread_only=unread,
    )
    following = encode_cursor(found.next_before) if found.next_before else None
    link_next(request, response, following)
    return NotificationPage(
        items=[NotificationOut.model_validate(r) for r in found.items],
        next=following,
        unread=await service.unread_count(session, principal.user_id),
    )


@router.get("/unread-count", summary="My unread count")
async def unread_count(session: SessionDep, principal: CurrentUser) -> UnreadCount:
    """How many of the caller's notifications are unread (the bell's number)."""
    return UnreadCount(unread=await service.unread_count(session, principal.user_id))


@router.post("/{notification_id}/read", summary="Mark one notification read")
async def mark_read(
    notification_id: NotificationId, request: Request, session: SessionDep, principal: Writer
) -> NotificationOut:
    """Mark it read; 404 if it is not the caller's. The caller's open tabs get the count."""
    row = await service.mark_read(session, principal.user_id, notification_id)
    audit(session, request, "notification.read", target_type="notification", target_id=row.id)
    await session.commit()
    return NotificationOut.model_validate(row)


@router.post("/read-all", summary="Mark all my notifications read")
async def mark_all_read(request: Request, session: SessionDep, principal: Writer) -> Marked:
    """Mark every unread notification of the caller read."""
    marked = await service.mark_all_read(session, principal.user_id)
    audit(
        session,
        request,
        "notification.read_all",
        target_type="user",
        target_id=principal.user_id,
        marked=marked,
    )
    await session.commit()
    return Marked(marked=marked)


def _available() -> list[CategoryOut]:
    return [CategoryOut(name=c.name, label=c.label, default=c.default) for c in CATEGORIES.values()]


@router.get("/preferences", summary="How I get each category by e-mail")
async def get_preferences(session: SessionDep, principal: CurrentUser) -> Preferences:
    """Every category with the caller's delivery: immediately, daily_digest or off."""
    chosen = await service.preferences(session, principal.user_id)
    return Preferences(categories=chosen, available=_available())


@router.put("/preferences", summary="Change how I get categories by e-mail")
async def put_preferences(
    body: PreferencesUpdate, request: Request, session: SessionDep, principal: Writer
) -> Preferences:
    """Set the delivery of the listed categories; an unknown category or delivery is a 422
    problem naming it, and nothing changes."""
    chosen = await service.set_preferences(session, principal.user_id, body.categories)
    audit(
        session,
        request,
        "notification.preferences",
        target_type="user",
        target_id=principal.user_id,
        changes=body.categories,
    )
    await session.commit()
    return Preferences(categories=chosen, available=_available())


@router.get("/push/key", summary="The Web Push (VAPID) public key")
async def push_key(settings: SettingsDep, _: CurrentUser) -> PushKey:
    """Whether this server sends Web Push, and the key to subscribe with."""
    enabled = settings.web_push_enabled
    return PushKey(enabled=enabled, public_key=settings.vapid_public_key if enabled else None)


@router.post(
    "/push/subscriptions",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe this browser to Web Push",
)
async def subscribe(
    body: PushSubscriptionIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Writer,
) -> PushSubscriptionOut:
    """Store the browser's push subscription (409 when Web Push is not configured)."""
    if not settings.web_push_enabled:
        raise Conflict("Web Push is not configured on this server.")
    row = await service.subscribe_push(
        session,
        principal.user_id,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
    )
    audit(session, request, "notification.push_subscribe", target_type="push", target_id=row.id)
    await session.commit()
    return PushSubscriptionOut(id=str(row.id), endpoint=row.endpoint, created_at=row.created_at)


@router.delete(
    "/push/subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unsubscribe a browser from Web Push",
)
async def unsubscribe(
    subscription_id: uuid.UUID, request: Request, session: SessionDep, principal: Writer
) -> Response:
    """Forget one of the caller's push subscriptions (404 for anyone else's)."""
    await service.unsubscribe_push(session, principal.user_id, subscription_id)
    audit(
        session,
        request,
        "notification.push_unsubscribe",
        target_type="push",
        target_id=subscription_id,
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/channel-token", summary="A token for the live notification channel")
async def channel_token(settings: SettingsDep, principal: CurrentUser) -> ChannelToken:
    """A short-lived token to open ``WS /ws/notifications?token=...`` (docs/protocol.md)."""
    user = principal.user
    token = live.mint(
        secret=settings.secret_key, user_id=user.id, version=user.token_version, now=utcnow()
    )
    return ChannelToken(
        token=token,
        url=f"/ws/notifications?token={token}",
        expires_in=int(live.TTL.total_seconds()),
    )
