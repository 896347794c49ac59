"""One delivery attempt over HTTP: check the URL again, sign, POST to the checked address,
keep the start of the answer. Never follows a redirect, never reads more than the excerpt,
never takes longer than the configured total (``asyncio.timeout`` around all of it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from lms.webhooks import signing, urls
from lms.webhooks.config import WebhookConfig
from lms.webhooks.errors import UnsafeUrl

USER_AGENT = "liveclass-webhooks/1"
SLOW_BODY = b"[the response body was not read: it came too slowly]"


@dataclass(frozen=True)
class Outcome:
    """What one attempt led to: a 2xx answer is success; anything else (another status,
    a refused URL, a timeout, a dropped connection) is a failure to retry."""

    ok: bool
    status: int | None
    excerpt: str | None
    error: str | None
    duration_ms: float
    timestamp: int


async def attempt(
    config: WebhookConfig,
    *,
    url: str,
    secrets: Sequence[str],
    webhook_id: str,
    body: bytes,
) -> Outcome:
    """POST ``body`` to ``url`` once, signed with every secret in ``secrets``."""
    started = time.perf_counter()
    timestamp = int(time.time())
    status: int | None = None
    excerpt: bytes | None = None
    error: str | None = None

    def outcome() -> Outcome:
        ms = (time.perf_counter() - started) * 1000
        text = excerpt.decode("utf-8", "replace") if excerpt is not None else None
        ok = error is None and status is not None and 200 <= status < 300
        return Outcome(ok, status, text, error, round(ms, 1), timestamp)

    deadline = asyncio.get_running_loop().time() + config.timeout
    try:
        async with asyncio.timeout_at(deadline):
            target = await urls.resolve(
                url,
                allow_http=config.allow_http,
                allow_private=config.allow_private,
                dns_seconds=config.connect_timeout,
            )
    except UnsafeUrl as exc:
        error = exc.detail
        return outcome()
    except TimeoutError:
        error = "resolving the host timed out"
        return outcome()
    headers = {
        **signing.headers(secrets, webhook_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.host_header,
    }
    extensions: dict[str, Any] = {}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    timeout = httpx.Timeout(config.timeout, connect=config.connect_timeout)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=0)
    try:
        async with (
            httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, trust_env=False, limits=limits
            ) as client,
            asyncio.timeout_at(deadline),
        ):
            request = client.build_request(
                "POST", target.pinned_url, content=body, headers=headers, extensions=extensions
            )
            response = await client.send(request, stream=True)
            status = response.status_code
            try:
                excerpt = await _excerpt(response, config.excerpt_bytes)
            finally:
                await response.aclose()
    except TimeoutError:
        if status is None:
            error = "timed out"
        else:  # it answered in time: its status counts, its body is not waited for
            excerpt = SLOW_BODY
    except httpx.TimeoutException as exc:
        error = f"timed out ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        error = _describe(exc)
    except OSError as exc:
        error = _describe(exc)
    if error is None and status is not None and not 200 <= status < 300:
        error = f"answered {status}"
    return outcome()


async def _excerpt(response: httpx.Response, cap: int) -> bytes:
    """The first ``cap`` bytes of the body as sent (no decompression: a small compressed
    body must not expand into a large one here); the rest is never read."""
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk[: cap - len(kept)]
        if len(kept) >= cap:
            break
    return bytes(kept)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]
