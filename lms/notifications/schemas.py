"""Request and response models of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from lms.notifications.categories import Delivery


class NotificationOut(BaseModel):
    """One notification of the caller's inbox."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category: str
    title: str
    body: str
    link: str | None = Field(description="A path of the web app to open, if any.")
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    """Notifications newest first; ``next`` is the cursor of the following page."""

    items: list[NotificationOut]
    next: str | None
    unread: int = Field(description="How many of the caller's notifications are unread.")


class UnreadCount(BaseModel):
    """The caller's unread count (the bell)."""

    unread: int


class Marked(BaseModel):
    """How many notifications were marked read."""

    marked: int


class CategoryOut(BaseModel):
    """A notification category and its default delivery."""

    name: str
    label: str
    default: Delivery


CategoryName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Preferences(BaseModel):
    """How the caller gets each category by e-mail (every category is listed)."""

    categories: dict[str, Delivery]
    available: list[CategoryOut]


class PreferencesUpdate(BaseModel):
    """Categories to change and their new delivery; unlisted categories stay as they are."""

    model_config = ConfigDict(extra="forbid")

    categories: dict[CategoryName, Annotated[str, StringConstraints(max_length=32)]] = Field(
        max_length=50,
        description="Category name -> immediately | daily_digest | off.",
        examples=[{"recordings": "daily_digest"}],
    )


class PushKey(BaseModel):
    """Whether Web Push is on, and the VAPID public key browsers subscribe with."""

    enabled: bool
    public_key: str | None


class PushKeys(BaseModel):
    """A push subscription's keys (as the browser's PushSubscription.toJSON gives them)."""

    p256dh: Annotated[
        str, StringConstraints(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_=-]+$")
    ]
    auth: Annotated[
        str, StringConstraints(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_=-]+$")
    ]


class PushSubscriptionIn(BaseModel):
    """A browser's push subscription."""

    endpoint: Annotated[
        str, StringConstraints(min_length=12, max_length=1000, pattern=r"^https://[^\s]+$")
    ]
    keys: PushKeys


class PushSubscriptionOut(BaseModel):
    """A stored push subscription (unsubscribe with its id)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    endpoint: str
    created_at: datetime


class ChannelToken(BaseModel):
    """A short-lived token for ``WS /ws/notifications?token=...``."""

    token: str
    url: str = Field(description="The channel's path, token included.")
    expires_in: int
