"""The webhooks' operator settings as one value: retry schedule, timeouts, address rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from settings import Settings

STANDARD_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h"
"""Standard Webhooks' retry delays: with the first attempt, eight attempts over ~27.6 h."""
EXCERPT_BYTES = 2048
"""How much of a request body and of a response body the delivery log keeps."""

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0, "": 1.0}
_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|)\s*$")


def parse_schedule(text: str) -> tuple[float, ...]:
    """Delays in seconds from ``"5s,5m,30m,2h"`` (``ms``, ``s``, ``m``, ``h``, ``d``; a bare
    number is seconds). An empty text means no retries. ValueError on anything else."""
    delays: list[float] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _DELAY.match(part)
        if match is None:
            raise ValueError(f"not a delay: {part!r} (write 5s, 5m, 2h, 1d...)")
        delays.append(float(match[1]) * _UNITS[match[2]])
    if len(delays) > 50:
        raise ValueError("at most 50 retries")
    return tuple(delays)


@dataclass(frozen=True)
class WebhookConfig:
    """How deliveries are made (``Settings`` fields ``webhooks_*``)."""

    schedule: tuple[float, ...] = parse_schedule(STANDARD_SCHEDULE)
    connect_timeout: float = 5.0
    timeout: float = 15.0
    allow_private: bool = False
    allow_http: bool = False
    rotation_grace: float = 86_400.0
    excerpt_bytes: int = EXCERPT_BYTES

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookConfig:
        """The configuration ``settings`` describe."""
        return cls(
            schedule=parse_schedule(settings.webhooks_retry_schedule),
            connect_timeout=min(
                settings.webhooks_connect_timeout_seconds, settings.webhooks_timeout_seconds
            ),
            timeout=settings.webhooks_timeout_seconds,
            allow_private=settings.webhooks_allow_private,
            allow_http=settings.webhooks_allow_http,
            rotation_grace=settings.webhooks_rotation_grace_seconds,
        )
