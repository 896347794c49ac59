"""Receivers' URLs on a node with the default rules (https only, public addresses only):
loopback, private, link-local and plain-http URLs are refused when registered; a delivery
re-checks the address before connecting, so a real receiver on 127.0.0.1 is never called.
And the signing module against an independent HMAC and the Standard Webhooks test vector."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress

import pytest

from kits.nodes import Node
from kits.receiver import receiving
from lms.webhooks import delivery, signing, urls
from lms.webhooks.config import WebhookConfig, parse_schedule
from lms.webhooks.errors import UnsafeUrl

API = "/api/v1/admin/webhooks"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/hook", "https://"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://127.9.9.9:8443/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://172.16.5.4/hook", "private"),
        ("https://100.64.0.1/hook", "private"),
        ("https://[fd00::1]/hook", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("file:///etc/passwd", "https://"),
        ("gopher://127.0.0.1/", "https://"),
    ],
)
def test_loopback_private_and_plain_http_urls_are_refused_by_default(
    sqlite_node: Node, url: str, says: str
) -> None:
    with sqlite_node.client(sqlite_node.admin_token()) as admin:
        refused = admin.post(API, json={"url": url})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert says in refused.json()["detail"]


async def test_a_delivery_rechecks_the_address_and_never_calls_loopback() -> None:
    config = WebhookConfig(allow_http=True, allow_private=False, timeout=2.0)
    with receiving() as receiver:
        outcome = await delivery.attempt(
            config,
            url=receiver.url + "/inside",
            secrets=[signing.new_secret()],
            webhook_id="msg_1",
            body=b"{}",
        )
        assert not outcome.ok and outcome.status is None
        assert outcome.error is not None and "loopback" in outcome.error
        assert receiver.received() == []
        # The same call where the operator allows private addresses reaches it.
        allowed = await delivery.attempt(
            WebhookConfig(allow_http=True, allow_private=True, timeout=2.0),
            url=receiver.url + "/inside",
            secrets=[signing.new_secret()],
            webhook_id="msg_2",
            body=b"{}",
        )
        assert allowed.ok and allowed.status == 204
        assert [r.headers["webhook-id"] for r in receiver.received()] == ["msg_2"]


async def test_a_delivery_connects_to_the_checked_address_with_the_host_name() -> None:
    with receiving() as receiver:
        config = WebhookConfig(allow_http=True, allow_private=True, timeout=2.0)
        target = await urls.resolve(
            f"http://localhost:{receiver.port}/named?x=1", allow_http=True, allow_private=True
        )
        assert ipaddress.ip_address(target.address).is_loopback
        assert target.pinned_url == f"http://{target.address}:{receiver.port}/named?x=1"
        outcome = await delivery.attempt(
            config,
            url=f"http://localhost:{receiver.port}/named?x=1",
            secrets=[signing.new_secret()],
            webhook_id="msg_3",
            body=b"{}",
        )
        assert outcome.ok
        (got,) = receiver.received("/named?x=1")
        assert got.headers["host"] == f"localhost:{receiver.port}"


def test_the_link_local_metadata_address_is_refused_even_where_private_ones_are_allowed() -> None:
    for address in ("169.254.169.254", "fe80::1", "0.0.0.0", "239.1.1.1"):
        assert urls.refusal(ipaddress.ip_address(address), allow_private=True) is not None
    for address in ("127.0.0.1", "10.0.0.1", "::1"):
        assert urls.refusal(ipaddress.ip_address(address), allow_private=True) is None
    assert urls.refusal(ipaddress.ip_address("93.184.216.34"), allow_private=False) is None


def test_a_signature_matches_an_independent_hmac_and_the_spec_vector() -> None:
    # The test vector of the Standard Webhooks reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mine = hmac.new(key, b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330." + body, hashlib.sha256)
    assert expected == "v1," + base64.b64encode(mine.digest()).decode()

    old, new = signing.new_secret(), signing.new_secret()
    headers = signing.headers([new, old], "msg_x", 1700000000, body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert signing.verify(old, headers, body, now=1700000100)
    assert signing.verify(new, headers, body, now=1700000100)
    assert not signing.verify(signing.new_secret(), headers, body, now=1700000100)
    assert not signing.verify(new, headers, body + b" ", now=1700000100)
    assert not signing.verify(new, headers, body, now=1700000000 + 301)  # too old


def test_the_retry_schedule_setting_parses() -> None:
    assert parse_schedule("5s,5m,30m,2h,5h,10h,10h") == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert parse_schedule("250ms, 1d") == (0.25, 86400)
    assert parse_schedule("") == ()
    with pytest.raises(ValueError, match="not a delay"):
        parse_schedule("5 minutes")
    with pytest.raises(UnsafeUrl):
        urls.check_syntax("https://host/#frag", allow_http=False)
