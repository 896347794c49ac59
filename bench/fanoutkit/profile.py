"""py-spy profiles of a server during a run, summarized by where the event loop is busy."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

SPY_OPTIONS = ("-r", "200", "--native", "-f", "raw", "-o")


def start_profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy")
    if spy is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [spy, "record", "-p", str(pid), "-d", str(max(1, int(seconds))), *SPY_OPTIONS, str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarize_profile(path: Path, top: int = 20) -> dict[str, Any]:
    """Where the event loop thread spends its busy time, from py-spy's collapsed stacks.

    Idle samples (waiting in epoll) and other threads (aiosqlite, executors) are left out;
    samples inside the cyclic garbage collector count as "GC"; a native leaf (a syscall,
    uvloop) is charged as "native <- nearest Python function".
    """
    if not path.exists():
        return {}
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any("Runner.run" in f or "uv_run" in f for f in frames):
            continue  # not the event loop thread
        if "epoll" in frames[-1]:
            idle += int(count)
            continue
        busy += int(count)
        names = [_frame_name(f) for f in frames]
        if any("gc_collect" in f for f in frames):
            leaf = "GC (cyclic garbage collector)"
        elif ".py:" not in frames[-1]:
            caller = next(
                (n for f, n in zip(frames[::-1], names[::-1], strict=True) if ".py:" in f), "?"
            )
            leaf = f"{names[-1]} <- {caller}"
        else:
            leaf = names[-1]
        own[leaf] += int(count)
        for name in set(names):
            inclusive[name] += int(count)
    if not busy:
        return {}

    def share(counter: Counter[str], limit: float = 100.0) -> dict[str, float]:
        shares = {f: round(100 * n / busy, 1) for f, n in counter.most_common()}
        return dict(list((f, v) for f, v in shares.items() if v < limit)[:top])

    return {
        "busy_samples": busy,
        "idle_samples": idle,
        "self_pct_of_busy": share(own),
        "inclusive_pct_of_busy": share(inclusive, limit=95.0),
    }


def _frame_name(frame: str) -> str:
    """``Class.method (path/file.py:12)`` -> ``Class.method (file.py)``."""
    name, _, where = frame.partition(" (")
    file = where.rsplit("/", 1)[-1].split(":", 1)[0]
    return f"{name} ({file})" if file.endswith(".py") else name
