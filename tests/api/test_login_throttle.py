"""Sign-in throttling on SQLite and PostgreSQL: guessers are slowed per account and address
with growing delays, one address hammering many accounts is refused, and nobody can lock
the owner out.

Three layers, none timing-dependent:

- a real node with long delays (30 s and more), so "refused now" holds however slow the
  machine; client addresses are set with ``X-Forwarded-For`` (the test client connects
  from 127.0.0.1, which the node trusts as a proxy by default);
- a real node with short delays, where a test waits exactly ``Retry-After`` and is then let
  through (never asserting how long anything took);
- the throttle's own reads on a real database with an injected clock (the service takes
  ``now``), for growth, the cap and the end of each delay; and the pure policy.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from kits.nodes import PASSWORD, Node, start_node
from kits.servers import PostgresServer, postgres_database
from lms.accounts.throttle import (
    LOGIN_ACTION,
    LoginHistory,
    LoginThrottled,
    check_login_allowed,
    pair_delay,
    wait_until,
)
from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker
from persistence.models import AuditEvent
from settings import Settings

pytestmark = pytest.mark.postgres

WRONG = "bad-guess!"
FREE_FAILURES = 3  # failures per account and address before delays start
FIRST_DELAY, MAX_DELAY = 30, 120
ACCOUNT_CEILING = 10  # failures per account (all addresses) before failed addresses slow down
ADDRESS_LIMIT = 12  # failures per address (all accounts) before the address is refused
WINDOW = 600
STRICT_ENV = {
    "LIVECLASS_LOGIN_FAILURES_BEFORE_DELAY": str(FREE_FAILURES),
    "LIVECLASS_LOGIN_DELAY_BASE_SECONDS": str(FIRST_DELAY),
    "LIVECLASS_LOGIN_DELAY_MAX_SECONDS": str(MAX_DELAY),
    "LIVECLASS_LOGIN_DELAY_WINDOW_SECONDS": str(WINDOW),
    "LIVECLASS_LOGIN_MAX_FAILURES_PER_ACCOUNT": str(ACCOUNT_CEILING),
    "LIVECLASS_LOGIN_MAX_FAILURES_PER_IP": str(ADDRESS_LIMIT),
    "LIVECLASS_LOGIN_FAILURE_WINDOW_SECONDS": str(WINDOW),
}
QUICK_ENV = {
    "LIVECLASS_LOGIN_FAILURES_BEFORE_DELAY": str(FREE_FAILURES),
    "LIVECLASS_LOGIN_DELAY_BASE_SECONDS": "0.5",
    "LIVECLASS_LOGIN_DELAY_MAX_SECONDS": "2",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def strict_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node with long delays; tests keep apart by fresh accounts and addresses."""
    yield from start_node(tmp_path_factory.mktemp("strict"), request.param, request, **STRICT_ENV)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def quick_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node whose delays are short enough to wait out (0.5 s doubling to 2 s)."""
    yield from start_node(tmp_path_factory.mktemp("quick"), request.param, request, **QUICK_ENV)


def _address() -> str:
    """A fresh client address (IPv6 documentation range)."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def _attempt(node: Node, address: str, email: str, password: str) -> httpx.Response:
    """One sign-in from ``address``; a 429 must be a problem document with Retry-After."""
    with node.client(headers={"X-Forwarded-For": address}) as client:
        response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    if response.status_code == 429:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/too-many-requests")
        assert int(response.headers["retry-after"]) == response.json()["retry_after"] >= 1
    return response


def _status(node: Node, address: str, email: str, password: str) -> int:
    return _attempt(node, address, email, password).status_code


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    return int(response.headers["retry-after"])


def _throttled_audit(node: Node, email: str) -> list[dict[str, Any]]:
    """The throttled sign-ins to ``email``, oldest first, as the audit log recorded them."""
    with node.client(node.admin_token()) as admin:
        page = admin.get(
            "/api/v1/audit-events",
            params={"action": LOGIN_ACTION, "target_id": email, "outcome": "throttled"},
        )
    assert page.status_code == 200, page.text
    return list(reversed(page.json()["items"]))


# ------------------------------------------------------------------ a real node, long delays


def test_an_attacker_cannot_lock_the_owner_out(strict_node: Node) -> None:
    victim, _ = strict_node.register()
    attacker, owner = _address(), _address()
    assert [_status(strict_node, attacker, victim, WRONG) for _ in range(3)] == [401] * 3
    # The attacker's address now waits, whatever it sends (the right password included) ...
    assert 1 <= _retry_after(_attempt(strict_node, attacker, victim, WRONG)) <= FIRST_DELAY
    assert _status(strict_node, attacker, victim, PASSWORD) == 429
    # ... while the owner, from an address that has not failed, signs in at once ...
    assert _status(strict_node, owner, victim, PASSWORD) == 200
    # ... which does not free the attacker.
    assert _status(strict_node, attacker, victim, WRONG) == 429
    records = _throttled_audit(strict_node, victim)
    assert [(r["ip"], r["detail"]["rule"]) for r in records] == [(attacker, "account-address")] * 3
    assert {r["detail"]["delay_seconds"] for r in records} == {FIRST_DELAY}


def test_the_account_ceiling_slows_failed_addresses_only(strict_node: Node) -> None:
    email, _ = strict_node.register()
    owner = _address()  # the owner mistypes once, then a botnet tries one guess per address
    assert _status(strict_node, owner, email, WRONG) == 401
    botnet = [_address() for _ in range(ACCOUNT_CEILING - 1)]
    assert [_status(strict_node, bot, email, WRONG) for bot in botnet] == [401] * len(botnet)
    # Over the ceiling, every address that has failed for the account waits (at most the
    # maximum delay, so the owner is slowed, never locked out) ...
    assert _status(strict_node, botnet[0], email, WRONG) == 429
    assert 1 <= _retry_after(_attempt(strict_node, owner, email, PASSWORD)) <= MAX_DELAY
    # ... and an address that has not failed gets straight in.
    assert _status(strict_node, _address(), email, PASSWORD) == 200
    assert [r["detail"]["rule"] for r in _throttled_audit(strict_node, email)] == ["account"] * 2


def test_one_address_hammering_many_accounts_is_refused(strict_node: Node) -> None:
    email, _ = strict_node.register()
    hammer = _address()
    sprayed = [f"spray-{uuid.uuid4().hex[:10]}@example.org" for _ in range(ADDRESS_LIMIT)]
    statuses = [_status(strict_node, hammer, victim, WRONG) for victim in sprayed]
    assert statuses == [401] * len(sprayed)
    # The address is refused for every account, even with the right password ...
    assert 1 <= _retry_after(_attempt(strict_node, hammer, email, PASSWORD)) <= WINDOW
    # ... while the same accounts work from anywhere else.
    assert _status(strict_node, _address(), email, PASSWORD) == 200
    assert _status(strict_node, _address(), sprayed[0], WRONG) == 401
    assert [r["detail"]["rule"] for r in _throttled_audit(strict_node, email)] == ["address"]


# ------------------------------------------------------------------ a real node, short delays


def _after_any_wait(node: Node, address: str, email: str, password: str) -> int:
    """Attempt; if told to wait, wait exactly ``Retry-After`` and attempt once more."""
    response = _attempt(node, address, email, password)
    if response.status_code == 429:
        time.sleep(_retry_after(response))  # rounded up: the delay is over after it
        response = _attempt(node, address, email, password)
    return response.status_code


def test_a_delay_is_over_once_retry_after_has_passed(quick_node: Node) -> None:
    email, _ = quick_node.register()
    address = _address()
    assert [_status(quick_node, address, email, WRONG) for _ in range(3)] == [401] * 3
    # One guess per delay, each delay longer than the last (up to the cap) ...
    assert [_after_any_wait(quick_node, address, email, WRONG) for _ in range(3)] == [401] * 3
    assert _after_any_wait(quick_node, address, email, PASSWORD) == 200
    # ... and signing in from the address forgets its failures there: a typo is a typo again.
    assert _status(quick_node, address, email, WRONG) == 401
    assert _status(quick_node, address, email, PASSWORD) == 200


# ------------------------------------------------------------------ a real database, our clock

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
CLOCK_POLICY = Settings(
    secret_key="c" * 48,
    login_failures_before_delay=3,
    login_delay_base_seconds=1.0,
    login_delay_max_seconds=8.0,
    login_max_failures_per_account=1000,
    login_max_failures_per_ip=1000,
)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncSession]:
    """A session on a fresh, migrated database of each backend."""
    with _database_url(request, tmp_path) as url:
        engine = create_engine(url, pool_size=2)
        try:
            await migrate.upgrade(engine)
            async with create_sessionmaker(engine)() as session:
                yield session
        finally:
            await engine.dispose()


def _database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AbstractContextManager[str]:
    if request.param == "sqlite":
        return nullcontext(f"sqlite+aiosqlite:///{tmp_path / 'throttle.db'}")
    server: PostgresServer = request.getfixturevalue("pg_server")
    return postgres_database(server)


async def _record(session: AsyncSession, email: str, ip: str, outcome: str, at: float) -> None:
    """A sign-in as the service audits it, at ``at`` seconds after T0."""
    session.add(
        AuditEvent(
            action=LOGIN_ACTION,
            target_type="user",
            target_id=email,
            ip=ip,
            outcome=outcome,
            at=_at(at),
        )
    )
    await session.commit()


async def _wait(session: AsyncSession, email: str, ip: str, now: float) -> tuple[int, float] | None:
    """(Retry-After, full delay) if an attempt at ``now`` is refused, else None."""
    try:
        await check_login_allowed(session, email=email, ip=ip, settings=CLOCK_POLICY, now=_at(now))
    except LoginThrottled as throttled:
        return throttled.retry_after, throttled.delay
    return None


async def test_delays_grow_to_the_cap_and_end_on_time(db: AsyncSession) -> None:
    email, guesser, owner = "owner@example.org", "203.0.113.7", "198.51.100.9"
    for second in (0, 1, 2):
        await _record(db, email, guesser, "failure", second)
    # After each failure from then on: 1, 2, 4, 8, 8 seconds (capped) from that failure.
    last = 2.0
    for delay in (1, 2, 4, 8, 8):
        assert await _wait(db, email, guesser, last + 0.25) == (delay, delay)
        assert await _wait(db, email, guesser, last + delay - 0.5) == (1, delay)
        assert await _wait(db, email, owner, last + 0.25) is None  # the owner is never held
        assert await _wait(db, email, guesser, last + delay) is None  # over, to the instant
        last += delay
        await _record(db, email, guesser, "failure", last)
    # A success from the address forgets its failures there; other addresses' stay theirs.
    await _record(db, email, owner, "success", last + 1)
    assert await _wait(db, email, guesser, last + 1) == (7, 8)
    await _record(db, email, guesser, "success", last + 8)
    await _record(db, email, guesser, "failure", last + 9)
    assert await _wait(db, email, guesser, last + 9.5) is None


async def test_failures_are_forgotten_after_the_delay_window(db: AsyncSession) -> None:
    email, guesser = "forgetful@example.org", "203.0.113.8"
    window = CLOCK_POLICY.login_delay_window_seconds
    for second in range(6):
        await _record(db, email, guesser, "failure", second)
    await _record(db, email, guesser, "failure", 100)  # the 7th failure: the capped delay
    assert await _wait(db, email, guesser, 100.5) == (8, 8)
    await _record(db, email, guesser, "failure", 101 + window)  # the others are forgotten
    assert await _wait(db, email, guesser, 101.5 + window) is None


# ------------------------------------------------------------------ the policy, pure

POLICY = Settings(
    secret_key="p" * 48,
    login_failures_before_delay=5,
    login_delay_base_seconds=1.0,
    login_delay_max_seconds=60.0,
    login_max_failures_per_account=50,
    login_max_failures_per_ip=20,
    login_failure_window_seconds=900,
)


def _ago(seconds: float) -> datetime:
    return T0 - timedelta(seconds=seconds)


def test_pair_delays_double_after_the_free_failures_up_to_the_cap() -> None:
    delays = [pair_delay(n, POLICY) for n in range(1, 14)]
    assert delays == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert pair_delay(10_000, POLICY) == 60  # no overflow however long the attack


def test_wait_until_names_the_rule_that_waits_longest() -> None:
    assert wait_until(LoginHistory([], 0, None, []), POLICY) is None
    guessed = LoginHistory([_ago(3)] * 6, 6, _ago(3), [_ago(3)] * 6)
    wait = wait_until(guessed, POLICY)
    assert wait is not None
    assert (wait.rule, wait.delay, wait.until) == ("account-address", 2.0, _ago(1))
    # Over the account ceiling, an address that failed once waits the cap from its failure,
    # or until the account falls under the ceiling if that is sooner ...
    besieged = LoginHistory([_ago(10)], 1, _ago(10), [_ago(100)] * 50)
    wait = wait_until(besieged, POLICY)
    assert wait is not None and (wait.rule, wait.until) == ("account", _ago(10 - 60))
    fading = LoginHistory([_ago(10)], 1, _ago(10), [_ago(890)] * 50)
    wait = wait_until(fading, POLICY)
    assert wait is not None and wait.until == _ago(890 - 900)
    # ... and the ceiling never touches an address that has not failed for the account.
    assert wait_until(LoginHistory([], 0, None, [_ago(1)] * 500), POLICY) is None
    hammering = LoginHistory([_ago(i) for i in range(20)], 0, None, [])
    wait = wait_until(hammering, POLICY)
    assert wait is not None and (wait.rule, wait.until) == ("address", _ago(19 - 900))


def test_delays_must_fit_in_the_memory_of_failures() -> None:
    with pytest.raises(ValidationError, match="LOGIN_DELAY_MAX_SECONDS"):
        Settings(login_delay_max_seconds=7200, login_delay_window_seconds=3600)
    with pytest.raises(ValidationError, match="LOGIN_DELAY_BASE_SECONDS"):
        Settings(login_delay_base_seconds=30, login_delay_max_seconds=10)
