"""The order state machine: pure, provider-agnostic, tolerant of repeats and disorder.

States: ``pending`` (checkout open), ``paid`` (money taken, entitlement not yet granted),
``fulfilled`` (granted), ``partially_refunded`` (some money back, entitlement kept),
``refunded`` (all money back, entitlement revoked), ``failed`` (a payment attempt failed;
the checkout may still succeed), ``expired`` (nobody paid in time; the seat is released).

``step`` takes the order as it is and one signal and says what it becomes and what to do.
Refund amounts are cumulative (the provider's ``refunded_amount``), so a repeated or late
refund event never counts twice: the larger total wins. A refund seen before the payment
cannot be placed: the caller re-reads the provider's state and feeds that instead.

A refund the provider reports as failed after we counted it (``REFUND_FAILED``, with the
lower total the ledger now adds up to) is the one step that lowers the refunded amount: the
order goes back to where that refund found it (``partially_refunded``, or ``fulfilled`` /
``paid`` when nothing else was refunded) and an entitlement the full refund revoked is to be
restored (``RESTORE``). It never raises the total, so a repeat of it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"
    EXPIRED = "expired"


class Signal(StrEnum):
    PAID = "paid"  # the provider took the money
    FAILED = "failed"  # one payment attempt failed
    EXPIRED = "expired"  # the checkout expired unpaid
    FULFILLED = "fulfilled"  # the entitlement was granted
    REFUNDED = "refunded"  # refunded_total is the provider's cumulative refunded amount
    REFUND_FAILED = "refund_failed"  # refunded_total: what the refunds that stand add up to


class Action(StrEnum):
    FULFIL = "fulfil"  # grant the entitlement (once: the order leaves ``paid``)
    REVOKE = "revoke"  # take the entitlement back (full refund of a fulfilled order)
    RELEASE = "release"  # give a held seat back
    REREAD = "reread"  # out of order: ask the provider for the truth, then step again
    LATE = "late"  # paid after it expired or failed: the seat must be found again
    RESTORE = "restore"  # a revoked entitlement comes back (its full refund failed)


OPEN = frozenset({Status.PENDING, Status.FAILED, Status.EXPIRED})
MONEY_TAKEN = frozenset({Status.PAID, Status.FULFILLED, Status.PARTIALLY_REFUNDED, Status.REFUNDED})


@dataclass(frozen=True)
class OrderState:
    status: Status
    total: int
    refunded: int = 0
    fulfilled: bool = False  # granted and in force
    revoked: bool = False  # granted, then taken back by a full refund


@dataclass(frozen=True)
class Outcome:
    status: Status
    refunded: int
    actions: frozenset[Action] = field(default_factory=frozenset)
    changed: bool = True


def _same(state: OrderState) -> Outcome:
    return Outcome(state.status, state.refunded, frozenset(), changed=False)


def step(state: OrderState, signal: Signal, refunded_total: int = 0) -> Outcome:
    """What ``signal`` does to an order in ``state``."""
    status = state.status
    if signal is Signal.PAID:
        if status in MONEY_TAKEN:
            return _same(state)  # a repeat, or the payment of an order refunded already
        late = {Action.LATE} if status is Status.EXPIRED else set()
        return Outcome(Status.PAID, state.refunded, frozenset({Action.FULFIL, *late}))
    if signal is Signal.FAILED:
        if status is Status.PENDING:
            return Outcome(Status.FAILED, state.refunded)
        return _same(state)
    if signal is Signal.EXPIRED:
        if status in (Status.PENDING, Status.FAILED):
            return Outcome(Status.EXPIRED, state.refunded, frozenset({Action.RELEASE}))
        return _same(state)
    if signal is Signal.FULFILLED:
        if status is Status.PAID:
            # Granted after a part was refunded (a refund seen before fulfilment): partial.
            partly = Status.PARTIALLY_REFUNDED if state.refunded else Status.FULFILLED
            return Outcome(partly, state.refunded)
        return _same(state)
    if signal is Signal.REFUND_FAILED:
        return _refund_failed(state, refunded_total)
    # Signal.REFUNDED
    if status in OPEN:
        return Outcome(status, state.refunded, frozenset({Action.REREAD}), changed=False)
    refunded = min(state.total, max(state.refunded, refunded_total))
    if refunded == state.refunded:
        return _same(state)
    if refunded >= state.total:
        revoke = frozenset({Action.REVOKE}) if state.fulfilled else frozenset()
        return Outcome(Status.REFUNDED, refunded, revoke)
    if status is Status.PAID:
        # Part refunded before it was granted: still granted (partial refunds keep it).
        return Outcome(Status.PAID, refunded)
    return Outcome(Status.PARTIALLY_REFUNDED, refunded)


def _refund_failed(state: OrderState, refunded_total: int) -> Outcome:
    if state.status not in MONEY_TAKEN:
        return _same(state)
    refunded = max(0, min(state.refunded, refunded_total))
    if refunded == state.refunded:
        return _same(state)
    granted = state.fulfilled or state.revoked
    if refunded and granted:
        status = Status.PARTIALLY_REFUNDED
    else:
        status = Status.FULFILLED if granted else Status.PAID
    restore = frozenset({Action.RESTORE}) if state.revoked else frozenset()
    return Outcome(status, refunded, restore)
