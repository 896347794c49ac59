"""The domain event the webhooks emit (jobs/events.py): an endpoint was disabled, by an
admin or because a delivery failed for its whole retry schedule. Its owner is told by
whoever consumes it (notifications); the consumer and the delivery job are in ``jobs``."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from jobs.events import EventType


class EndpointDisabled(BaseModel):
    """A webhook endpoint stopped receiving deliveries."""

    endpoint_id: int = Field(description="The endpoint (GET /api/v1/admin/webhooks/{id}).")
    url: str = Field(description="Its URL.")
    owner_id: uuid.UUID | None = Field(description="Who registered it (null: erased).")
    reason: str = Field(description="Why, in a sentence.")
    automatic: bool = Field(description="True: deliveries kept failing; false: an admin.")
    disabled_by: uuid.UUID | None = Field(description="The admin who did it (null: automatic).")
    failed_delivery_id: int | None = Field(
        description="The delivery whose retries ran out (null: an admin disabled it)."
    )
    disabled_at: datetime = Field(description="When (UTC).")


WEBHOOK_ENDPOINT_DISABLED = EventType(
    "webhook.endpoint_disabled",
    EndpointDisabled,
    aggregate="webhook_endpoint",
    summary="A webhook endpoint was disabled: its deliveries failed for a day, or an admin.",
)
