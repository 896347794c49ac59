"""CPU and memory of processes and of the machine, from /proc (what every benchmark reports)."""

from __future__ import annotations

import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of process ``pid`` so far (OSError once it is gone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every core, anyone's work) so far."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def cpu_seconds_or_zero(pid: int) -> float:
    """``cpu_seconds``, or 0 once the process is gone."""
    try:
        return cpu_seconds(pid)
    except OSError:
        return 0.0


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of ``pid`` in bytes: ``VmRSS`` (resident) or ``VmHWM`` (its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """``rss_bytes`` in MiB."""
    return rss_bytes(pid, field) / 2**20
