"""Password hashing with argon2id, off the event loop."""

from __future__ import annotations

import asyncio
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from settings import Settings

logger = logging.getLogger("liveclass.accounts")
_hasher = PasswordHasher()
# Verified against when the account does not exist, so both paths cost the same; made on
# first use by the hasher in force.
_dummy_hash: str | None = None


def configure(settings: Settings) -> None:
    """Use the hashing ``settings`` ask for (the process's command calls this first)."""
    global _hasher, _dummy_hash
    if settings.insecure_test_password_hashing:
        # Argon2id at its cheapest (1 pass over 8 KiB), for test suites that register
        # thousands of accounts. Hashes carry their parameters: each kind verifies whatever
        # the setting says later.
        logger.warning(
            "LIVECLASS_INSECURE_TEST_PASSWORD_HASHING is on: passwords are hashed "
            "at argon2id's cheapest parameters; never use this in production"
        )
        _hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    else:
        _hasher = PasswordHasher()
    _dummy_hash = None


async def hash_password(password: str) -> str:
    """Hash a password with argon2id in a worker thread."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``password_hash`` (None means: no such account)."""
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    global _dummy_hash
    if not password_hash:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("liveclass-timing-equaliser")
        password_hash = _dummy_hash
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
