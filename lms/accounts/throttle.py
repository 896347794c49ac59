"""Sign-in throttling that slows guessers down without locking the owner out.

Three rules, all counted from the audit log (so every node of a cluster sees the same
state, on SQLite and PostgreSQL alike):

- **account x address**: after ``login_failures_before_delay`` failures for one account
  from one address (since that address last signed in to it), each further attempt from
  that address must wait a delay that doubles per failure, from
  ``login_delay_base_seconds`` up to ``login_delay_max_seconds``, counted from its last
  failure. Other addresses are not affected, so a guesser cannot lock the owner out.
- **account ceiling**: once an account has ``login_max_failures_per_account`` failures
  from all addresses within ``login_failure_window_seconds`` (a distributed attack),
  every address that has failed for it waits the maximum delay since its own last
  failure. An address that has not failed for the account still gets through.
- **address**: an address with ``login_max_failures_per_ip`` failures across all
  accounts within the window is refused until the oldest of them leaves the window.

The policy itself (:func:`wait_until`) is a pure function of a :class:`LoginHistory`;
:func:`check_login_allowed` reads that history and raises :class:`LoginThrottled`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import TooManyRequests
from persistence.models import AuditEvent
from persistence.models.base import utcnow
from settings import Settings

LOGIN_ACTION = "auth.login"
Rule = Literal["address", "account-address", "account"]
# Doubling beyond this many steps overflows any sensible cap; stop counting there.
_MAX_DOUBLINGS = 40

_DETAILS: dict[Rule, str] = {
    "address": "Too many failed sign-ins from your address; try again later.",
    "account-address": "Too many failed sign-ins to this account from your address; "
    "wait before trying again.",
    "account": "This account is seeing many failed sign-ins; "
    "wait before trying again from this address.",
}


class LoginThrottled(TooManyRequests):
    """A sign-in refused by the throttle: which rule refused it and how long the wait was."""

    def __init__(self, rule: Rule, *, retry_after: int, delay: float) -> None:
        super().__init__(_DETAILS[rule], retry_after=retry_after)
        self.rule = rule
        self.delay = delay

    def audit_detail(self) -> dict[str, Any]:
        """What the audit record of the refused attempt keeps, for operators."""
        return {"rule": self.rule, "delay_seconds": self.delay}


@dataclass(frozen=True)
class LoginHistory:
    """What the audit log says about earlier sign-ins that bear on one attempt.

    Failure lists are newest first and only as long as the rule that reads them needs.
    """

    address_failures: list[datetime]  # this address, any account, within the window
    pair_failures: int  # this account from this address, since its last success there
    pair_last_failure: datetime | None
    account_failures: list[datetime]  # this account, any address, within the window


@dataclass(frozen=True)
class Wait:
    """An attempt must not be made before ``until``; ``delay`` is the rule's full delay."""

    until: datetime
    rule: Rule
    delay: float


def pair_delay(failures: int, settings: Settings) -> float:
    """Seconds an address must wait after its ``failures``-th failure for one account."""
    excess = failures - settings.login_failures_before_delay
    if excess < 0:
        return 0.0
    delay: float = settings.login_delay_base_seconds * 2.0 ** min(excess, _MAX_DOUBLINGS)
    return min(delay, settings.login_delay_max_seconds)


def wait_until(history: LoginHistory, settings: Settings) -> Wait | None:
    """The latest moment any rule makes this attempt wait for, or None if none applies."""
    window = timedelta(seconds=settings.login_failure_window_seconds)
    waits: list[Wait] = []
    if len(history.address_failures) >= settings.login_max_failures_per_ip:
        # Allowed again once the oldest of the last ``limit`` failures leaves the window.
        until = history.address_failures[-1] + window
        waits.append(Wait(until, "address", window.total_seconds()))
    last = history.pair_last_failure
    if last is not None:
        delay = pair_delay(history.pair_failures, settings)
        if delay:
            waits.append(Wait(last + timedelta(seconds=delay), "account-address", delay))
        if len(history.account_failures) >= settings.login_max_failures_per_account:
            # A slowdown, never a lockout: over as soon as the cap since this address's
            # last failure has passed, or the account's failures fall under the ceiling.
            cap = settings.login_delay_max_seconds
            until = min(last + timedelta(seconds=cap), history.account_failures[-1] + window)
            waits.append(Wait(until, "account", cap))
    return max(waits, key=lambda wait: wait.until, default=None)


async def check_login_allowed(
    session: AsyncSession,
    *,
    email: str,
    ip: str | None,
    settings: Settings,
    now: datetime | None = None,
) -> None:
    """Raise :class:`LoginThrottled` (429) when a rule says this attempt must wait."""
    now = now or utcnow()
    history = await load_history(session, email=email, ip=ip, now=now, settings=settings)
    wait = wait_until(history, settings)
    if wait is not None and wait.until > now:
        retry_after = math.ceil((wait.until - now).total_seconds())
        raise LoginThrottled(wait.rule, retry_after=retry_after, delay=wait.delay)


async def load_history(
    session: AsyncSession, *, email: str, ip: str | None, now: datetime, settings: Settings
) -> LoginHistory:
    """Read the failures each rule needs from the audit log (a few indexed queries)."""
    since = now - timedelta(seconds=settings.login_failure_window_seconds)
    address_failures = (
        await _failures(session, [AuditEvent.ip == ip], since, settings.login_max_failures_per_ip)
        if ip
        else []
    )
    pair = [AuditEvent.target_id == email, _address_is(ip)]
    pair_since = now - timedelta(seconds=settings.login_delay_window_seconds)
    pair_since = max(pair_since, await _last_success(session, pair) or pair_since)
    count, last = await _count_failures(session, pair, pair_since)
    account_failures = (
        await _failures(
            session,
            [AuditEvent.target_id == email],
            since,
            settings.login_max_failures_per_account,
        )
        if count  # only addresses that have failed are ever slowed by the ceiling
        else []
    )
    return LoginHistory(address_failures, count, last, account_failures)


def _address_is(ip: str | None) -> ColumnElement[bool]:
    """Requests without a known address share one bucket rather than escaping the throttle."""
    return AuditEvent.ip == ip if ip else AuditEvent.ip.is_(None)


def _is_failed_login() -> list[ColumnElement[bool]]:
    return [AuditEvent.action == LOGIN_ACTION, AuditEvent.outcome == "failure"]


async def _failures(
    session: AsyncSession, scope: list[ColumnElement[bool]], since: datetime, limit: int
) -> list[datetime]:
    query = (
        select(AuditEvent.at)
        .where(*_is_failed_login(), AuditEvent.at > since, *scope)
        .order_by(AuditEvent.at.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def _count_failures(
    session: AsyncSession, scope: list[ColumnElement[bool]], since: datetime
) -> tuple[int, datetime | None]:
    query = select(func.count(), func.max(AuditEvent.at)).where(
        *_is_failed_login(), AuditEvent.at > since, *scope
    )
    count, last = (await session.execute(query)).one()
    return int(count), last


async def _last_success(session: AsyncSession, scope: list[ColumnElement[bool]]) -> datetime | None:
    query = select(func.max(AuditEvent.at)).where(
        AuditEvent.action == LOGIN_ACTION, AuditEvent.outcome == "success", *scope
    )
    return (await session.execute(query)).scalar_one_or_none()


async def check_requests_allowed(
    session: AsyncSession,
    action: str,
    *,
    target: str,
    ip: str | None,
    per_target: int,
    per_ip: int,
    window_seconds: int,
    now: datetime | None = None,
) -> None:
    """Refuse (429) a request of ``action`` (a password reset link, say) when ``target`` or
    the address already made ``per_target`` / ``per_ip`` of them within the window, counted
    from the audit log like sign-ins; the answer never depends on whether ``target`` is an
    account."""
    now = now or utcnow()
    since = now - timedelta(seconds=window_seconds)
    window = timedelta(seconds=window_seconds)
    scopes = [([AuditEvent.target_id == target], per_target)]
    if ip:
        scopes.append(([AuditEvent.ip == ip], per_ip))
    for scope, limit in scopes:
        query = (
            select(AuditEvent.at)
            .where(AuditEvent.action == action, AuditEvent.at > since, *scope)
            .order_by(AuditEvent.at.desc())
            .limit(limit)
        )
        times = list((await session.execute(query)).scalars())
        if len(times) >= limit:
            retry_after = math.ceil((times[-1] + window - now).total_seconds())
            raise TooManyRequests(
                "Too many requests of this kind; try again later.", retry_after=retry_after
            )
