"""Password hashing parameters: argon2id's defaults unless the test-only setting is on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lms.accounts import passwords
from settings import Settings


@pytest.fixture
def restore_hashing() -> Iterator[None]:
    yield
    passwords.configure(Settings(insecure_test_password_hashing=False))


async def test_production_hashes_with_argon2id_defaults(restore_hashing: None) -> None:
    passwords.configure(Settings(insecure_test_password_hashing=False))
    hashed = await passwords.hash_password("correct-horse-battery")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert await passwords.verify_password(hashed, "correct-horse-battery")
    assert not await passwords.verify_password(hashed, "wrong-horse-battery")
    assert not await passwords.verify_password(None, "correct-horse-battery")


async def test_the_test_setting_hashes_cheaply_and_verifies_either_kind(
    restore_hashing: None,
) -> None:
    passwords.configure(Settings(insecure_test_password_hashing=False))
    strong = await passwords.hash_password("correct-horse-battery")
    passwords.configure(Settings(insecure_test_password_hashing=True))
    cheap = await passwords.hash_password("correct-horse-battery")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    for hashed in (strong, cheap):
        assert await passwords.verify_password(hashed, "correct-horse-battery")
        assert not await passwords.verify_password(hashed, "wrong")
    assert not await passwords.verify_password(None, "correct-horse-battery")
    assert not await passwords.verify_password("", "correct-horse-battery")
