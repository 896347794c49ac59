"""``read_access_token`` remembers tokens that verified, never more than it should: the
expiry is checked on every use, the secret is part of the key, failures are not kept, and
the table stays bounded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lms.accounts import tokens
from lms.accounts.tokens import TokenError, mint_access_token, read_access_token

SECRET = "s" * 48


def mint(*, ttl: timedelta = timedelta(minutes=10), secret: str = SECRET) -> str:
    now = datetime.now(UTC)
    return mint_access_token(secret=secret, user_id=uuid.uuid4(), version=3, now=now, ttl=ttl)


def test_a_remembered_token_still_expires() -> None:
    token = mint(ttl=timedelta(minutes=1))
    claims = read_access_token(token, secret=SECRET)
    assert claims.version == 3
    assert read_access_token(token, secret=SECRET) is claims  # remembered
    with pytest.raises(TokenError):
        read_access_token(token, secret=SECRET, now=claims.expires_at)
    assert (SECRET, token) not in tokens._verified  # and forgotten once expired


def test_the_secret_is_part_of_what_is_remembered() -> None:
    token = mint()
    read_access_token(token, secret=SECRET)
    with pytest.raises(TokenError):
        read_access_token(token, secret="another-secret-" * 4)


def test_failures_are_not_remembered_and_the_table_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forged = mint(secret="not-ours-" * 6)
    for _ in range(2):
        with pytest.raises(TokenError):
            read_access_token(forged, secret=SECRET)
    assert all(token != forged for _, token in tokens._verified)
    monkeypatch.setattr(tokens, "VERIFIED_CAPACITY", 3)
    tokens._verified.clear()
    minted = [mint() for _ in range(5)]
    for token in minted:
        read_access_token(token, secret=SECRET)
    assert len(tokens._verified) == 3
    assert [t for _, t in tokens._verified] == minted[2:]
