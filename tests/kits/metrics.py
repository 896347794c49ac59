"""A node's ``liveclass_<family>{kind="..."}`` gauges, read from its /metrics page."""

from __future__ import annotations

import httpx


def parse_gauges(text: str, family: str) -> dict[str, float]:
    """The ``liveclass_<family>`` gauges of a Prometheus text page, by their ``kind``."""
    found: dict[str, float] = {}
    prefix = f"liveclass_{family}{{"
    for line in text.splitlines():
        if line.startswith(prefix):
            kind = line.split('kind="', 1)[1].split('"', 1)[0]
            found[kind] = float(line.rsplit(" ", 1)[1])
    return found


def gauges(base_url: str, family: str) -> dict[str, float]:
    """The ``liveclass_<family>`` gauges of the node at ``base_url``, by their ``kind``."""
    return parse_gauges(httpx.get(base_url + "/metrics", timeout=10).text, family)
