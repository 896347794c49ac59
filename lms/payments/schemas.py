"""Payments REST: request and response bodies. Money is an integer of minor units with an
upper-case ISO 4217 currency; a request never carries a price the server would believe."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

MAX_AMOUNT = 10**12  # minor units: far above any price, far below int64


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("give a time with its offset (UTC: Z)")
    return value


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR.")]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="Minor units (cents).")]
Feature = Annotated[str, Field(min_length=1, max_length=80)]
AwareTime = Annotated[datetime | None, AfterValidator(_aware)]


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: Currency
    unit_amount: Amount


class PriceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    currency: str
    unit_amount: int


class ProductCreate(BaseModel):
    """A product: a course, a workshop seat, or a plan with a period and features."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["course", "workshop", "plan"]
    name: str = Field(min_length=1, max_length=200)
    target_id: uuid.UUID | None = Field(
        default=None, description="The course or workshop sold (none for a plan)."
    )
    period: Literal["month", "year"] | None = Field(default=None, description="Plans only.")
    features: list[Feature] = Field(default_factory=list, max_length=50)
    prices: list[PriceIn] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _shape(self) -> ProductCreate:
        if self.kind == "plan":
            if self.period is None or self.target_id is not None:
                raise ValueError("a plan has a period and no target_id")
        elif self.target_id is None or self.period is not None:
            raise ValueError("a course or workshop product names its target_id, no period")
        if len({p.currency for p in self.prices}) != len(self.prices):
            raise ValueError("one price per currency")
        return self


class ProductPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    active: bool | None = None
    features: list[Feature] | None = Field(default=None, max_length=50)


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    name: str
    target_id: uuid.UUID | None
    period: str | None
    features: list[str]
    active: bool
    prices: list[PriceOut]


class ProductPage(BaseModel):
    items: list[ProductOut]
    next: str | None


class CouponCreate(BaseModel):
    """A percentage (1-100) or an amount in one currency; limits and expiry optional."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Za-z0-9_-]{3,40}$")
    percent_off: int | None = Field(default=None, ge=1, le=100)
    amount_off: int | None = Field(default=None, ge=1, le=MAX_AMOUNT)
    currency: Currency | None = None
    max_redemptions: int | None = Field(default=None, ge=1, le=1_000_000_000)
    per_user_limit: int = Field(default=1, ge=1, le=1000)
    expires_at: AwareTime = None
    product_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    user_id: uuid.UUID | None = Field(default=None, description="Only this person may use it.")

    @model_validator(mode="after")
    def _one_discount(self) -> CouponCreate:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("give percent_off or amount_off, not both")
        if self.amount_off is not None and self.currency is None:
            raise ValueError("an amount_off needs its currency")
        if self.percent_off is not None and self.currency is not None:
            raise ValueError("a percent_off has no currency")
        return self


class CouponPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    expires_at: AwareTime = None
    max_redemptions: int | None = Field(default=None, ge=1, le=1_000_000_000)


class CouponOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    percent_off: int | None
    amount_off: int | None
    currency: str | None
    max_redemptions: int | None
    per_user_limit: int
    expires_at: datetime | None
    product_ids: list[str]
    user_id: uuid.UUID | None
    redemptions: int
    active: bool


class CouponPage(BaseModel):
    items: list[CouponOut]
    next: str | None


class OrderCreate(BaseModel):
    """What to buy and in which currency; the server prices it (extra fields refused)."""

    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    currency: Currency
    coupon: str | None = Field(default=None, min_length=1, max_length=40)


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    currency: str
    subtotal: int
    discount: int
    total: int
    refunded_amount: int
    status: str
    provider: str | None
    checkout_url: str | None
    expires_at: datetime | None
    created_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    revoked_at: datetime | None
    flag: str | None


class FinanceOrderOut(OrderOut):
    user_id: uuid.UUID | None
    buyer: str
    payment_ref: str | None
    session_id: str | None = Field(default=None, description="The provider's checkout id.")


class OrderPage(BaseModel):
    items: list[OrderOut]
    next: str | None


class FinanceOrderPage(BaseModel):
    items: list[FinanceOrderOut]
    next: str | None


class RefundCreate(BaseModel):
    """A refund of ``amount`` (none: everything not refunded yet)."""

    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(default=None, ge=1, le=MAX_AMOUNT)
    reason: str | None = Field(default=None, max_length=500)


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    amount: int
    currency: str
    status: str
    reason: str | None
    refund_ref: str | None = Field(
        default=None, description="The provider's refund id (none while pending)."
    )
    created_at: datetime
    failure_reason: str | None = Field(
        default=None, description="Why the provider failed it after accepting it."
    )
    failed_at: datetime | None = Field(
        default=None, description="When the provider said it failed (after accepting it)."
    )


class ReceiptOut(BaseModel):
    """A printable receipt: the order, who bought it, and the refunds."""

    order: OrderOut
    buyer_name: str
    buyer_email: str | None
    seller: str
    refunds: list[RefundOut]


class EntitlementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_id: uuid.UUID
    product_id: uuid.UUID
    kind: str
    features: list[str]
    period_start: datetime
    period_end: datetime | None
    revoked_at: datetime | None
    active: bool = False


class EntitlementsOut(BaseModel):
    """The caller's entitlements, and the plan features active now (lapsed ones stop)."""

    items: list[EntitlementOut]
    features: list[str]


class PaymentEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    provider: str
    event_id: str
    type: str
    raw_type: str
    order_id: uuid.UUID | None
    flag: str | None
    outcome: str | None
    received_at: datetime


class PaymentEventPage(BaseModel):
    items: list[PaymentEventOut]
    next: str | None


class WebhookAck(BaseModel):
    received: bool = True
    duplicate: bool = False
    outcome: str | None = None
    flag: str | None = None
