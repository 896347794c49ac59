"""Account e-mails through a real SMTP server: address verification, and password reset
with single-use, expiring tokens and no account enumeration; an SMTP server that refuses
and then recovers loses nothing and sends once."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from kits.nodes import PASSWORD, Node
from kits.notify import link_token
from kits.smtp import SmtpServer
from persistence.models import AccountToken
from persistence.models.base import utcnow

NEW_PASSWORD = "a-brand-new-horse-9"


def _address() -> str:
    return f"mail-{uuid.uuid4().hex[:10]}@example.org"


def _sign_up(node: Node, email: str, name: str = "Ada") -> None:
    with node.client() as client:
        created = client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
        )
        assert created.status_code == 201, created.text
        assert created.json()["email_verified_at"] is None


def _expire_tokens(node: Node, email: str) -> None:
    """Move a token's expiry into the past, in the node's own database."""
    url = node.database_url or (
        f"sqlite+aiosqlite:///{(node.server.data_dir / 'liveclass.db').resolve()}"
    )

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(
                update(AccountToken)
                .where(AccountToken.email == email)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        await engine.dispose()

    asyncio.run(run())


def test_sign_up_sends_a_verification_email_with_both_parts(
    mail_node: Node, smtp: SmtpServer
) -> None:
    email = _address()
    _sign_up(mail_node, email, name="<b>Ada</b> & co")
    (message,) = smtp.wait_for(email)
    assert message.subject == "[liveclass] Confirm your e-mail address"
    assert "http://liveclass.test/verify-email?token=" in message.text
    assert "<b>Ada</b> & co" in message.text  # plain text as written
    assert "&lt;b&gt;Ada&lt;/b&gt; &amp; co" in message.html  # escaped in HTML
    assert "<b>Ada</b>" not in message.html
    assert 'href="http://liveclass.test/verify-email?token=' in message.html
    token = link_token(message, "/verify-email")
    with mail_node.client() as client:
        verified = client.post("/api/v1/auth/verify-email", json={"token": token})
        assert verified.status_code == 200, verified.text
        assert verified.json()["email"] == email
        again = client.post("/api/v1/auth/verify-email", json={"token": token})
        assert again.status_code == 422
        assert again.headers["content-type"].startswith("application/problem+json")
    with mail_node.client(mail_node.login(email)) as client:
        assert client.get("/api/v1/users/me").json()["email_verified_at"] is not None


@pytest.mark.parametrize(
    "body",
    [{}, {"token": ""}, {"token": "x" * 101}, {"token": "not-a-token"}, {"token": 5}, []],
)
def test_verify_refuses_malformed_and_unknown_tokens(mail_node: Node, body: object) -> None:
    with mail_node.client() as client:
        answer = client.post("/api/v1/auth/verify-email", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_password_reset_end_to_end(mail_node: Node, smtp: SmtpServer) -> None:
    email = _address()
    _sign_up(mail_node, email)
    old_token = mail_node.login(email)
    unknown = _address()
    with mail_node.client() as client:
        known_answer = client.post("/api/v1/auth/password-reset", json={"email": email.upper()})
        unknown_answer = client.post("/api/v1/auth/password-reset", json={"email": unknown})
    # No enumeration: the same status and the same words whoever the address belongs to.
    assert known_answer.status_code == unknown_answer.status_code == 202
    assert known_answer.json() == unknown_answer.json()
    (message,) = smtp.wait_for(email, where=lambda m: "Reset" in m.subject)
    assert "http://liveclass.test/reset-password?token=" in message.text
    assert "Choose a new password" in message.html
    token = link_token(message, "/reset-password")
    with mail_node.client() as client:
        short = client.post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "x"}
        )
        assert short.status_code == 422
        done = client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": token, "new_password": NEW_PASSWORD},
        )
        assert done.status_code == 204, done.text
        # Single use.
        again = client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": token, "new_password": "another-horse-battery-1"},
        )
        assert again.status_code == 422
        # The reset signed every session out; the new password works, the old one not.
        assert (
            client.get(
                "/api/v1/users/me", headers={"Authorization": f"Bearer {old_token}"}
            ).status_code
            == 401
        )
        refused = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert refused.status_code == 401
    mail_node.login(email, NEW_PASSWORD)
    time.sleep(1.0)
    assert smtp.to(unknown) == []  # nobody at the unknown address got anything


def test_an_expired_reset_token_is_refused(mail_node: Node, smtp: SmtpServer) -> None:
    email = _address()
    _sign_up(mail_node, email)
    with mail_node.client() as client:
        assert client.post("/api/v1/auth/password-reset", json={"email": email}).status_code == 202
    (message,) = smtp.wait_for(email, where=lambda m: "Reset" in m.subject)
    _expire_tokens(mail_node, email)
    with mail_node.client() as client:
        answer = client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": link_token(message, "/reset-password"), "new_password": NEW_PASSWORD},
        )
    assert answer.status_code == 422
    mail_node.login(email)  # the password did not change


def test_reset_requests_are_throttled_alike_for_known_and_unknown_addresses(
    mail_node: Node,
) -> None:
    email = _address()
    _sign_up(mail_node, email)
    for address in (email, _address()):
        with mail_node.client() as client:
            answers = [
                client.post("/api/v1/auth/password-reset", json={"email": address})
                for _ in range(4)
            ]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        assert int(answers[-1].headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "not-an-address"}, {"email": "a@b.org", "extra": 1}, {"email": "x" * 400}],
)
def test_reset_request_refuses_malformed_input(mail_node: Node, body: object) -> None:
    with mail_node.client() as client:
        answer = client.post("/api/v1/auth/password-reset", json=body)
    assert answer.status_code == 422


def test_an_smtp_server_that_refuses_then_recovers_gets_the_email_once(
    mail_node: Node, smtp: SmtpServer
) -> None:
    email = _address()
    before = smtp.refused
    smtp.refuse = True
    try:
        _sign_up(mail_node, email)
        deadline = time.monotonic() + 30
        while smtp.refused < before + 2 and time.monotonic() < deadline:  # tried, and again
            time.sleep(0.1)
        assert smtp.refused >= before + 2
        assert smtp.to(email) == []
    finally:
        smtp.refuse = False
    (message,) = smtp.wait_for(email, timeout=60)
    assert "Confirm your e-mail address" in message.subject
    time.sleep(6.0)  # long enough for another retry, were one still queued
    assert len(smtp.to(email)) == 1
