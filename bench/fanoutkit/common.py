"""Shared bits of the fan-out benchmark: paths and small helpers (progress lines, the node
and its accounts: ``kits.bench``)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
"""The liveclass tree this benchmark belongs to."""
SCRIPT = ROOT / "bench" / "fanout.py"
"""The command (``python bench/fanout.py``); it also runs the ceiling server process."""
PER_SENDER_RATE = 4.0
"""Messages/s per host connection: under the room channel's chat limit (5/s, burst 10)."""


def spread(items: list[Any], parts: int) -> list[list[Any]]:
    """``items`` dealt round-robin into ``parts`` lists."""
    return [items[i::parts] for i in range(parts)]


async def sleep_until(ns: int) -> None:
    """Sleep until ``time.monotonic_ns()`` reaches ``ns``."""
    await asyncio.sleep(max(0.0, (ns - time.monotonic_ns()) / 1e9))


def mb(value: int) -> float:
    """Bytes as MiB, one decimal."""
    return round(value / 2**20, 1)
