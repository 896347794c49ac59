"""Request and response models of the admin webhooks API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from lms.webhooks.urls import MAX_URL

EventName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL)]
Description = Annotated[str, StringConstraints(max_length=500)]


class EndpointIn(BaseModel):
    """A receiver to register. ``event_types`` null (or left out) means every type."""

    model_config = ConfigDict(extra="forbid")
    url: Url = Field(description="https:// URL the deliveries are POSTed to.")
    description: Description = ""
    event_types: list[EventName] | None = Field(
        default=None, min_length=1, max_length=200, description="Types wanted; null: all."
    )
    enabled: bool = True


class EndpointPatch(BaseModel):
    """Fields to change; ``event_types`` null means every type from now on."""

    model_config = ConfigDict(extra="forbid")
    url: Url | None = None
    description: Description | None = None
    event_types: list[EventName] | None = Field(default=None, min_length=1, max_length=200)


class EndpointOut(BaseModel):
    """An endpoint as stored (never its secrets)."""

    id: int
    url: str
    description: str
    event_types: list[str] | None
    enabled: bool
    disabled_reason: str | None
    owner_id: uuid.UUID | None
    failure_streak: int
    last_success_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="While a rotated secret still signs too: until when (else null)."
    )
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut):
    """A new endpoint with its signing secret, shown this once."""

    secret: str


class EndpointPage(BaseModel):
    """Endpoints oldest first; `next` is the cursor of the following page."""

    items: list[EndpointOut]
    next: str | None


class SecretOut(BaseModel):
    """A new signing secret, shown this once; the previous one signs beside it until
    ``previous_secret_expires_at``."""

    secret: str
    previous_secret_expires_at: datetime | None


class EventTypeOut(BaseModel):
    """An event type an endpoint may subscribe to."""

    name: str
    aggregate: str
    summary: str


class DeliveryOut(BaseModel):
    """A delivery as listed."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    webhook_id: str
    endpoint_id: int
    event_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_status: int | None
    error: str | None
    duration_ms: float | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    """A delivery with the start of its request and of the last response, and a line per
    attempt."""

    request_excerpt: str
    request_truncated: bool
    response_excerpt: str | None
    attempt_log: list[dict[str, Any]]


class DeliveryPage(BaseModel):
    """Deliveries newest first; `next` is the cursor of the following page."""

    items: list[DeliveryOut]
    next: str | None
