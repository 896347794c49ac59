"""The Stripe adapter against a local fake of Stripe's HTTP API (tests/kits/fake_stripe.py),
through the official SDK; webhooks signed with the SDK's own signing helper."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from kits.fake_stripe import FakeStripe, fake_stripe
from lms.payments.provider import (
    CheckoutLine,
    CheckoutRequest,
    EventType,
    InvalidSignature,
    MalformedEvent,
    PaymentProvider,
    PaymentStatus,
    ProviderError,
    ProviderEvent,
    RefundStatus,
    StaleTimestamp,
)
from lms.payments.stripe_provider import StripeProvider

OLD, NEW = "whsec_old_secret", "whsec_new_secret"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with fake_stripe() as server:
        yield server


@pytest.fixture(scope="module")
async def provider(fake: FakeStripe) -> AsyncIterator[StripeProvider]:
    adapter = StripeProvider(
        api_key=fake.api_key, webhook_secrets=[NEW, OLD], api_base=fake.url, tolerance_seconds=300
    )
    yield adapter
    await adapter.aclose()


def request(
    order: str, *, key: str | None = None, amount: int = 4900, **kw: object
) -> CheckoutRequest:
    fields: dict[str, object] = {
        "order_id": order,
        "lines": [CheckoutLine("Workshop seat: Async Python", amount, 1)],
        "currency": "EUR",
        "customer_email": "buyer@example.com",
        "success_url": "https://school.example/pay/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://school.example/pay/cancelled",
        "expires_at": datetime.now(UTC) + timedelta(minutes=40),
        "idempotency_key": key or f"checkout:{order}",
    }
    fields.update(kw)
    return CheckoutRequest(**fields)  # type: ignore[arg-type]


async def paid_session(provider: StripeProvider, fake: FakeStripe, order: str) -> str:
    session = await provider.create_checkout(request(order))
    fake.pay(session.session_id)
    return session.session_id


def test_is_a_payment_provider(provider: StripeProvider) -> None:
    assert isinstance(provider, PaymentProvider)
    assert provider.name == "stripe"


async def test_checkout_session_is_hosted_and_carries_our_order(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    session = await provider.create_checkout(
        request("ord_1", lines=[CheckoutLine("Seat", 2500, 2), CheckoutLine("Book", 990, 1)])
    )
    assert session.provider == "stripe"
    assert session.url.startswith(fake.url + "/c/pay/cs_test_")
    cs = fake.sessions[session.session_id]
    assert (cs["amount_total"], cs["currency"], cs["mode"]) == (5990, "eur", "payment")
    assert cs["client_reference_id"] == "ord_1"
    assert cs["metadata"] == {"order_id": "ord_1"}
    assert cs["_pi_metadata"] == {"order_id": "ord_1"}
    assert cs["customer_email"] == "buyer@example.com"
    assert int(session.expires_at.timestamp()) == cs["expires_at"]
    payment = await provider.retrieve(session.session_id)
    assert payment.status is PaymentStatus.OPEN
    assert (payment.amount, payment.currency, payment.order_id) == (5990, "EUR", "ord_1")
    assert payment.payment_ref is None


async def test_an_expiry_sooner_than_stripe_allows_is_moved_to_its_minimum(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=10)
    session = await provider.create_checkout(request("ord_soon", expires_at=soon))
    assert session.expires_at >= datetime.now(UTC) + timedelta(minutes=30)
    assert fake.sessions[session.session_id]["status"] == "open"


async def test_same_idempotency_key_replays_and_another_body_is_refused(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    first = await provider.create_checkout(request("ord_idem", key="idem-1"))
    again = await provider.create_checkout(request("ord_idem", key="idem-1"))
    assert again.session_id == first.session_id
    assert sum(1 for cs in fake.sessions.values() if cs["client_reference_id"] == "ord_idem") == 1
    with pytest.raises(ProviderError) as refused:
        await provider.create_checkout(request("ord_idem", key="idem-1", amount=100))
    assert refused.value.code == "idempotency_error"
    assert not refused.value.retryable


async def test_server_errors_are_retried_with_the_same_key_and_charge_once(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    fake.fail_next(500, 503)
    session = await provider.create_checkout(request("ord_retry"))
    assert fake.sessions[session.session_id]["client_reference_id"] == "ord_retry"
    assert sum(1 for cs in fake.sessions.values() if cs["client_reference_id"] == "ord_retry") == 1
    fake.fail_next(500, 500, 500)
    with pytest.raises(ProviderError) as failed:
        await provider.create_checkout(request("ord_retry_fail"))
    assert failed.value.retryable
    assert not any(cs["client_reference_id"] == "ord_retry_fail" for cs in fake.sessions.values())


async def test_invalid_requests_are_provider_errors_not_retried(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    with pytest.raises(ProviderError) as small:
        await provider.create_checkout(request("ord_tiny", amount=10))
    assert small.value.code == "amount_too_small" and not small.value.retryable
    with pytest.raises(ProviderError) as missing:
        await provider.retrieve("cs_test_nope")
    assert missing.value.code == "resource_missing"
    bad_key = StripeProvider(api_key="sk_test_wrong", webhook_secrets=[NEW], api_base=fake.url)
    try:
        with pytest.raises(ProviderError) as denied:
            await bad_key.retrieve("cs_test_nope")
        assert denied.value.code == "AuthenticationError" and not denied.value.retryable
    finally:
        await bad_key.aclose()


async def test_paid_then_partly_then_fully_refunded(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    session_id = await paid_session(provider, fake, "ord_refund")
    paid = await provider.retrieve(session_id)
    assert paid.status is PaymentStatus.PAID
    assert paid.payment_ref and paid.payment_ref.startswith("pi_")
    assert (paid.amount, paid.refunded_amount) == (4900, 0)

    part = await provider.refund(paid.payment_ref, 1000, "EUR", "refund:ord_refund:1", "late")
    assert (part.status, part.amount) == (RefundStatus.SUCCEEDED, 1000)
    replay = await provider.refund(paid.payment_ref, 1000, "EUR", "refund:ord_refund:1", "late")
    assert replay.refund_ref == part.refund_ref
    # Our reason and our key (so the refund's events name our refund) travel in metadata.
    assert fake.refunds[part.refund_ref]["metadata"] == {
        "reason": "late",
        "refund_key": "refund:ord_refund:1",
    }
    partial = await provider.retrieve(session_id)
    assert (partial.status, partial.refunded_amount) == (PaymentStatus.PARTIALLY_REFUNDED, 1000)

    with pytest.raises(ProviderError) as too_much:
        await provider.refund(paid.payment_ref, 4000, "EUR", "refund:ord_refund:2")
    assert too_much.value.code == "amount_too_large"
    rest = await provider.refund(paid.payment_ref, 3900, "EUR", "refund:ord_refund:3")
    assert rest.amount == 3900
    done = await provider.retrieve(session_id)
    assert (done.status, done.refunded_amount) == (PaymentStatus.REFUNDED, 4900)
    with pytest.raises(ProviderError) as again:
        await provider.refund(paid.payment_ref, 1, "EUR", "refund:ord_refund:4")
    assert again.value.code == "charge_already_refunded"


async def test_expire_closes_an_open_session_and_reads_back_a_paid_one(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    session = await provider.create_checkout(request("ord_expire"))
    expired = await provider.expire_checkout(session.session_id)
    assert expired.status is PaymentStatus.EXPIRED
    assert fake.events_of("checkout.session.expired")[-1]["data"]["object"]["id"] == (
        session.session_id
    )
    paid_id = await paid_session(provider, fake, "ord_won_race")
    won = await provider.expire_checkout(paid_id)
    assert won.status is PaymentStatus.PAID


async def test_list_payments_pages_through_a_window(fake: FakeStripe) -> None:
    with fake_stripe() as own:  # a clean account: only this test's sessions
        adapter = StripeProvider(api_key=own.api_key, webhook_secrets=[NEW], api_base=own.url)
        try:
            start = datetime.now(UTC) - timedelta(seconds=2)
            ids = []
            for i in range(205):
                session = await adapter.create_checkout(request(f"ord_list_{i}"))
                ids.append(session.session_id)
            own.pay(ids[0])
            until = datetime.now(UTC) + timedelta(seconds=2)
            before = len(own.requests)
            listed = [p async for p in adapter.list_payments(start, until)]
            pages = [r for r in own.requests[before:] if r == ("GET", "/v1/checkout/sessions")]
            assert len(pages) == 3
            assert sorted(p.session_id for p in listed) == sorted(ids)
            by_id = {p.session_id: p for p in listed}
            assert by_id[ids[0]].status is PaymentStatus.PAID
            assert by_id[ids[0]].payment_ref is not None
            assert by_id[ids[1]].order_id == "ord_list_1"
            later = [p async for p in adapter.list_payments(until, until + timedelta(hours=1))]
            assert later == []
        finally:
            await adapter.aclose()


# ------------------------------------------------------------------ webhooks


async def test_webhooks_signed_with_either_rotated_secret_are_accepted(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    session_id = await paid_session(provider, fake, "ord_hook")
    completed = fake.events_of("checkout.session.completed")[-1]
    for secret in (OLD, NEW):
        body, headers = fake.signed(completed, secret)
        event = provider.verify_webhook(body, headers, datetime.now(UTC))
        assert event.event_id == completed["id"]
        assert event.type is EventType.CHECKOUT_COMPLETED
        assert event.raw_type == "checkout.session.completed"
        assert (event.session_id, event.order_id) == (session_id, "ord_hook")
        assert event.payment_ref == fake.sessions[session_id]["payment_intent"]
        assert event.data["amount"] == 4900 and event.data["currency"] == "EUR"


async def test_forged_tampered_and_replayed_webhooks_are_refused(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    await paid_session(provider, fake, "ord_forged")
    event = fake.events_of("checkout.session.completed")[-1]
    now = datetime.now(UTC)
    body, headers = fake.signed(event, "whsec_someone_else")
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(body, headers, now)
    body, headers = fake.signed(event, NEW)
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(body.replace(b"4900", b"9900"), headers, now)
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(body, {}, now)
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(body, {"stripe-signature": "t=abc,v1=00"}, now)
    with pytest.raises(InvalidSignature):
        provider.verify_webhook(b"\xff\xfe", headers, now)
    old = int((now - timedelta(seconds=301)).timestamp())
    body, headers = fake.signed(event, NEW, timestamp=old)
    with pytest.raises(StaleTimestamp):
        provider.verify_webhook(body, headers, now)
    ahead = int((now + timedelta(seconds=400)).timestamp())
    body, headers = fake.signed(event, NEW, timestamp=ahead)
    with pytest.raises(StaleTimestamp):
        provider.verify_webhook(body, headers, now)
    inside = int((now - timedelta(seconds=250)).timestamp())
    body, headers = fake.signed(event, NEW, timestamp=inside)
    assert provider.verify_webhook(body, headers, now).event_id == event["id"]
    for junk in ({"object": "list"}, {"object": "event", "id": "evt_1"}, [1, 2]):
        body, headers = fake.signed(junk, NEW)  # type: ignore[arg-type]
        with pytest.raises(MalformedEvent):
            provider.verify_webhook(body, headers, now)


async def test_event_types_are_normalised(provider: StripeProvider, fake: FakeStripe) -> None:
    now = datetime.now(UTC)

    def verify(stripe_event: dict[str, object]) -> ProviderEvent:
        body, headers = fake.signed(stripe_event, NEW)
        return provider.verify_webhook(body, headers, now)

    declined = await provider.create_checkout(request("ord_declined"))
    failed = verify(fake.decline(declined.session_id))
    assert failed.type is EventType.PAYMENT_FAILED
    assert failed.order_id == "ord_declined"
    assert failed.data["failure_code"] == "card_declined"

    expired = verify(fake.expire_now(declined.session_id))
    assert expired.type is EventType.CHECKOUT_EXPIRED
    assert expired.session_id == declined.session_id

    session_id = await paid_session(provider, fake, "ord_events")
    pi = fake.sessions[session_id]["payment_intent"]
    await provider.refund(pi, 900, "EUR", "refund:ord_events:1")
    await provider.refund(pi, 1000, "EUR", "refund:ord_events:2")
    refunded = [
        e for e in fake.events_of("charge.refunded") if e["data"]["object"]["payment_intent"] == pi
    ]
    first, second = (verify(e) for e in refunded)
    assert first.type is EventType.REFUND_SUCCEEDED
    assert first.payment_ref == pi
    assert first.order_id == "ord_events"
    assert (first.data["amount"], first.data["refunded_amount"]) == (900, 900)
    assert (second.data["amount"], second.data["refunded_amount"]) == (1000, 1900)
    created = [
        e for e in fake.events_of("refund.created") if e["data"]["object"]["payment_intent"] == pi
    ]
    told = verify(created[0])  # a succeeded refund: the ledger records it by its id
    assert told.type is EventType.REFUND_SUCCEEDED
    assert told.data["refund_ref"] == created[0]["data"]["object"]["id"]
    assert (told.data["amount"], told.data["refund_key"]) == (900, "refund:ord_events:1")
    pending = json.loads(json.dumps(created[1]))
    pending["id"] = "evt_refund_pending"
    pending["data"]["object"]["status"] = "pending"
    assert verify(pending).type is EventType.OTHER  # not money back yet
    failed_refund = json.loads(json.dumps(created[1]))
    failed_refund.update(id="evt_refund_failed", type="refund.updated")
    failed_refund["data"]["object"]["status"] = "failed"
    assert verify(failed_refund).type is EventType.REFUND_FAILED
    succeeded = fake.events_of("payment_intent.succeeded")[-1]
    assert verify(succeeded).type is EventType.OTHER
    unpaid = json.loads(json.dumps(fake.events_of("checkout.session.completed")[-1]))
    unpaid["id"] = "evt_async"
    unpaid["data"]["object"]["payment_status"] = "unpaid"  # an asynchronous payment pending
    assert verify(unpaid).type is EventType.OTHER


async def test_a_header_with_both_signatures_during_stripes_roll_is_accepted(
    provider: StripeProvider, fake: FakeStripe
) -> None:
    await paid_session(provider, fake, "ord_roll")
    event = fake.events_of("checkout.session.completed")[-1]
    body, signed_old = fake.signed(event, OLD)
    stamp = signed_old["stripe-signature"].split(",")[0].removeprefix("t=")
    _, signed_other = fake.signed(event, "whsec_unknown", timestamp=int(stamp))
    other = signed_other["stripe-signature"].split(",", 1)[1]
    header = {"stripe-signature": f"{signed_old['stripe-signature']},{other}"}
    assert provider.verify_webhook(body, header, datetime.now(UTC)).event_id == event["id"]
    only_new = StripeProvider(api_key=fake.api_key, webhook_secrets=[NEW], api_base=fake.url)
    try:
        with pytest.raises(InvalidSignature):
            only_new.verify_webhook(body, header, datetime.now(UTC))
    finally:
        await only_new.aclose()
