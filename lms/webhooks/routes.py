"""Admin API over outgoing webhooks: endpoints (create, list, read, change, delete,
rotate the secret, disable, enable, send a test message) and their delivery log (list,
read, redeliver). Needs ``webhooks:manage`` (admins); every change is audited, never
with a secret in it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import CatalogueDep, SessionDep, SettingsDep
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.permissions import Permission, require
from lms.webhooks import deliveries, endpoints
from lms.webhooks.config import EXCERPT_BYTES, WebhookConfig
from lms.webhooks.schemas import (
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPage,
    EndpointPatch,
    EventTypeOut,
    SecretOut,
)
from persistence.models import WebhookDelivery, WebhookEndpoint
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1/admin/webhooks", tags=["webhooks"])
Admin = Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))]
EndpointId = Annotated[int, Path(ge=1, le=2**62)]
DeliveryId = Annotated[int, Path(ge=1, le=2**62)]
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]


async def _config(settings: SettingsDep) -> WebhookConfig:
    return WebhookConfig.from_settings(settings)


Config = Annotated[WebhookConfig, Depends(_config)]


def _out(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=endpoint.event_types,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        owner_id=endpoint.owner_id,
        failure_streak=endpoint.failure_streak,
        last_success_at=endpoint.last_success_at,
        previous_secret_expires_at=endpoints.rotating_until(endpoint, utcnow()),
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _delivery(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut.model_validate(delivery)


def _detail(delivery: WebhookDelivery) -> DeliveryDetail:
    body = delivery.body.encode()
    return DeliveryDetail(
        **_delivery(delivery).model_dump(),
        request_excerpt=body[:EXCERPT_BYTES].decode("utf-8", "ignore"),
        request_truncated=len(body) > EXCERPT_BYTES,
        response_excerpt=delivery.response_excerpt,
        attempt_log=list(delivery.attempt_log),
    )


def _audit(
    request: Request,
    session: SessionDep,
    action: str,
    principal: Principal,
    target: int,
    **detail: Any,
) -> None:
    audit(
        session,
        request,
        action,
        actor=principal,
        target_type="webhook_endpoint",
        target_id=target,
        **detail,
    )


@router.get("/event-types", summary="The event types an endpoint may subscribe to")
async def event_types(_: Admin, catalogue: CatalogueDep) -> list[EventTypeOut]:
    """Every type in the event catalogue (docs/events.md), by name."""
    return [
        EventTypeOut(name=t.name, aggregate=t.aggregate, summary=t.summary) for t in catalogue.types
    ]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a webhook endpoint")
async def create_endpoint(
    request: Request,
    session: SessionDep,
    principal: Admin,
    catalogue: CatalogueDep,
    config: Config,
    body: EndpointIn,
) -> EndpointCreated:
    """The URL is checked (https, a public address unless the operator allows otherwise);
    the answer carries the signing secret, shown this once (audited)."""
    endpoint = await endpoints.create_endpoint(
        session,
        config,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        known_types=[t.name for t in catalogue.types],
        owner_id=principal.user_id,
        enabled=body.enabled,
    )
    _audit(request, session, "webhook.create", principal, endpoint.id, url=endpoint.url)
    await session.commit()
    return EndpointCreated(**_out(endpoint).model_dump(), secret=endpoint.secret)


@router.get("", summary="Webhook endpoints")
async def list_endpoints(
    request: Request,
    response: Response,
    session: SessionDep,
    _: Admin,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> EndpointPage:
    """Oldest first; page on with `next` (or the Link header)."""
    rows = await endpoints.list_endpoints(session, after=decode_cursor(cursor), limit=limit + 1)
    items = [_out(row) for row in rows[:limit]]
    following = encode_cursor(items[-1].id) if len(rows) > limit and items else None
    link_next(request, response, following)
    return EndpointPage(items=items, next=following)


@router.get("/{endpoint_id}", summary="One webhook endpoint")
async def read_endpoint(session: SessionDep, _: Admin, endpoint_id: EndpointId) -> EndpointOut:
    """The endpoint as stored (its secrets are never shown again)."""
    return _out(await endpoints.get_endpoint(session, endpoint_id))


@router.patch("/{endpoint_id}", summary="Change a webhook endpoint")
async def update_endpoint(
    request: Request,
    session: SessionDep,
    principal: Admin,
    catalogue: CatalogueDep,
    config: Config,
    endpoint_id: EndpointId,
    body: EndpointPatch,
) -> EndpointOut:
    """URL (checked again), description, event types (null: all); audited."""
    endpoint = await endpoints.get_endpoint(session, endpoint_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("url", "description"):
        if field in changes and changes[field] is None:
            del changes[field]
    changed = await endpoints.update_endpoint(
        session, config, endpoint, changes, known_types=[t.name for t in catalogue.types]
    )
    if changed:
        _audit(request, session, "webhook.update", principal, endpoint.id, fields=changed)
        await session.commit()
    return _out(endpoint)


@router.delete(
    "/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an endpoint"
)
async def delete_endpoint(
    request: Request, session: SessionDep, principal: Admin, endpoint_id: EndpointId
) -> Response:
    """The endpoint and its delivery log, for good (audited)."""
    endpoint = await endpoints.get_endpoint(session, endpoint_id)
    _audit(request, session, "webhook.delete", principal, endpoint.id, url=endpoint.url)
    await session.delete(endpoint)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{endpoint_id}/rotate-secret", summary="Replace the signing secret")
async def rotate_secret(
    request: Request, session: SessionDep, principal: Admin, config: Config, endpoint_id: EndpointId
) -> SecretOut:
    """A new secret, shown this once; the old one keeps signing beside it for the rotation
    grace period (24 h by default), so receivers switch without missing a message."""
    endpoint = await endpoints.get_endpoint(session, endpoint_id)
    secret = await endpoints.rotate_secret(session, config, endpoint)
    _audit(request, session, "webhook.rotate_secret", principal, endpoint.id)
    await session.commit()
    return SecretOut(
        secret=secret, previous_secret_expires_at=endpoints.rotating_until(endpoint, utcnow())
    )


@router.post("/{endpoint_id}/disable", summary="Stop delivering to an endpoint")
async def disable_endpoint(
    request: Request, session: SessionDep, principal: Admin, endpoint_id: EndpointId
) -> EndpointOut:
    """Deliveries not yet made end `failed`; its owner is told (audited)."""
    endpoint = await endpoints.get_endpoint(session, endpoint_id)
    if endpoint.enabled:
        name = principal.user_id
        await endpoints.disable(session, endpoint, reason="Disabled by an admin.", by=name)
        _audit(request, session, "webhook.disable", principal, endpoint.id)
        await session.commit()
    return _out(endpoint)


@router.post("/{endpoint_id}/enable", summary="Deliver to an endpoint again")
async def enable_endpoint(
    request: Request, session: SessionDep, principal: Admin, endpoint_id: EndpointId
) -> EndpointOut:
    """Its failure streak is forgotten; redeliver what failed meanwhile from the log."""
    endpoint = await endpoints.get_endpoint(session, endpoint_id)
    if not endpoint.enabled:
        endpoints.enable(endpoint)
        _audit(request, session, "webhook.enable", principal, endpoint.id)
        await session.commit()
    return _out(endpoint)


@router.post(
    "/{endpoint_id}/test", status_code=status.HTTP_202_ACCEPTED, summary="Send a test message"
)
async def send_test(
    request: Request, session: SessionDep, principal: Admin, endpoint_id: EndpointId
) -> DeliveryOut:
    """A `webhook.test` message, attempted once at once; follow it in the delivery log."""
    endpoint = await endpoints.get_endpoint(session, endpoint_id)
    delivery = await deliveries.send_test(session, endpoint)
    _audit(request, session, "webhook.test", principal, endpoint.id, delivery_id=delivery.id)
    await session.commit()
    return _delivery(delivery)


@router.get("/{endpoint_id}/deliveries", summary="An endpoint's delivery log")
async def list_deliveries(
    request: Request,
    response: Response,
    session: SessionDep,
    _: Admin,
    endpoint_id: EndpointId,
    status: Literal["pending", "delivered", "failed"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DeliveryPage:
    """Newest first, optionally of one status; page on with `next` (or the Link header)."""
    await endpoints.get_endpoint(session, endpoint_id)
    rows = await deliveries.list_deliveries(
        session, endpoint_id, status=status, before=decode_cursor(cursor), limit=limit + 1
    )
    items = [_delivery(row) for row in rows[:limit]]
    following = encode_cursor(items[-1].id) if len(rows) > limit and items else None
    link_next(request, response, following)
    return DeliveryPage(items=items, next=following)


@router.get("/{endpoint_id}/deliveries/{delivery_id}", summary="One delivery")
async def read_delivery(
    session: SessionDep, _: Admin, endpoint_id: EndpointId, delivery_id: DeliveryId
) -> DeliveryDetail:
    """With the start of the request body and of the last response, and each attempt."""
    return _detail(await deliveries.get_delivery(session, endpoint_id, delivery_id))


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Attempt a delivery again",
)
async def redeliver(
    request: Request,
    session: SessionDep,
    principal: Admin,
    endpoint_id: EndpointId,
    delivery_id: DeliveryId,
) -> DeliveryOut:
    """Once more, now, same `webhook-id` and body (a delivered or failed one; audited)."""
    endpoint = await endpoints.get_endpoint(session, endpoint_id)
    delivery = await deliveries.get_delivery(session, endpoint_id, delivery_id)
    delivery = await deliveries.redeliver(session, endpoint, delivery)
    _audit(request, session, "webhook.redeliver", principal, endpoint.id, delivery_id=delivery.id)
    await session.commit()
    return _delivery(delivery)
