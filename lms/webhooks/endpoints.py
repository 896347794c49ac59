"""Webhook endpoints and their secrets: registering (event types and URL checked), paging,
changing, rotating a secret (the old one signs beside it for a while), disabling and
enabling. Takes sessions, returns rows; no HTTP (routes.py serves it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from lms.webhooks import signing, urls
from lms.webhooks.config import WebhookConfig
from lms.webhooks.errors import (
    EndpointNotFound,
    UnknownEventTypes,
)
from lms.webhooks.events import WEBHOOK_ENDPOINT_DISABLED, EndpointDisabled
from persistence.models import WebhookEndpoint
from persistence.models.base import as_utc, utcnow


def check_types(event_types: Sequence[str] | None, known: Iterable[str]) -> list[str] | None:
    """``event_types`` without repeats if every one is declared (None: every type)."""
    if event_types is None:
        return None
    unknown = sorted(set(event_types) - set(known))
    if unknown:
        raise UnknownEventTypes(f"Unknown event types: {', '.join(unknown)}.", unknown=unknown)
    return sorted(set(event_types))


async def create_endpoint(
    session: AsyncSession,
    config: WebhookConfig,
    *,
    url: str,
    description: str,
    event_types: Sequence[str] | None,
    known_types: Iterable[str],
    owner_id: uuid.UUID | None,
    enabled: bool = True,
) -> WebhookEndpoint:
    """A new endpoint (its URL checked, DNS included) with a fresh secret."""
    types = check_types(event_types, known_types)
    await check_url(url, config)
    now = utcnow()
    endpoint = WebhookEndpoint(
        url=url,
        description=description,
        event_types=types,
        secret=signing.new_secret(),
        enabled=enabled,
        disabled_reason=None if enabled else "Disabled when it was created.",
        owner_id=owner_id,
        failure_streak=0,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def check_url(url: str, config: WebhookConfig) -> None:
    """Refuse a URL a delivery would refuse (UnsafeUrl)."""
    await urls.resolve(
        url,
        allow_http=config.allow_http,
        allow_private=config.allow_private,
        dns_seconds=config.connect_timeout,
    )


async def list_endpoints(
    session: AsyncSession, *, after: int | None, limit: int
) -> list[WebhookEndpoint]:
    """Endpoints by id (oldest first), after id ``after``."""
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.id).limit(limit)
    if after is not None:
        query = query.where(WebhookEndpoint.id > after)
    return list((await session.execute(query)).scalars())


async def get_endpoint(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint ``endpoint_id`` (EndpointNotFound if none)."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise EndpointNotFound("No such webhook endpoint.")
    return endpoint


async def update_endpoint(
    session: AsyncSession,
    config: WebhookConfig,
    endpoint: WebhookEndpoint,
    changes: dict[str, Any],
    *,
    known_types: Iterable[str],
) -> list[str]:
    """Apply ``changes`` (url, description, event_types); return the fields changed."""
    changed: list[str] = []
    if "url" in changes and changes["url"] != endpoint.url:
        await check_url(str(changes["url"]), config)
        endpoint.url = str(changes["url"])
        changed.append("url")
    if "description" in changes and changes["description"] != endpoint.description:
        endpoint.description = str(changes["description"])
        changed.append("description")
    if "event_types" in changes:
        types = check_types(changes["event_types"], known_types)
        if types != endpoint.event_types:
            endpoint.event_types = types
            changed.append("event_types")
    if changed:
        endpoint.updated_at = utcnow()
    return changed


async def rotate_secret(
    session: AsyncSession, config: WebhookConfig, endpoint: WebhookEndpoint
) -> str:
    """A new secret for ``endpoint``; the current one keeps signing (beside it) for the
    rotation grace period, so receivers can switch without missing a message."""
    now = utcnow()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_expires_at = now + timedelta(seconds=config.rotation_grace)
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = now
    return endpoint.secret


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a request now: the current one, and the previous one until
    its grace period ends."""
    found = [endpoint.secret]
    expires = endpoint.previous_expires_at
    if endpoint.previous_secret and expires is not None and as_utc(expires) > now:
        found.append(endpoint.previous_secret)
    return found


def rotating_until(endpoint: WebhookEndpoint, now: datetime) -> datetime | None:
    """Until when the previous secret still signs (None: no rotation under way)."""
    expires = endpoint.previous_expires_at
    if endpoint.previous_secret and expires is not None and as_utc(expires) > now:
        return as_utc(expires)
    return None


def enable(endpoint: WebhookEndpoint) -> None:
    """Deliver to ``endpoint`` again, its failure streak forgotten."""
    endpoint.enabled = True
    endpoint.disabled_reason = None
    endpoint.failure_streak = 0
    endpoint.updated_at = utcnow()


async def disable(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    *,
    reason: str,
    by: uuid.UUID | None,
    failed_delivery_id: int | None = None,
) -> None:
    """Stop delivering to ``endpoint`` and emit ``webhook.endpoint_disabled`` (its owner
    is told). Pending deliveries end ``failed`` at their next attempt."""
    now = utcnow()
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:500]
    endpoint.updated_at = now
    await emit(
        session,
        WEBHOOK_ENDPOINT_DISABLED,
        EndpointDisabled(
            endpoint_id=endpoint.id,
            url=endpoint.url,
            owner_id=endpoint.owner_id,
            reason=endpoint.disabled_reason,
            automatic=by is None,
            disabled_by=by,
            failed_delivery_id=failed_delivery_id,
            disabled_at=now,
        ),
        aggregate_id=endpoint.id,
    )
