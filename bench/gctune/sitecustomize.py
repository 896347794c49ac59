"""Experiment for ``bench/fanout.py --gc-tune``: the liveclass server with its GC tuned.

Python imports ``sitecustomize`` at start-up from ``PYTHONPATH``; with ``LIVECLASS_BENCH_GCTUNE=1``
this one raises the collector's first threshold (fewer collections) and, once the app has
started, freezes every object alive then (``gc.freeze()``: they are never scanned again, so a
full collection only walks what came later). Not part of liveclass: it shows what the same
change in the server would do.
"""

from __future__ import annotations

import gc
import os
import threading
import time


def _freeze_later(delay: float) -> None:
    time.sleep(delay)
    gc.collect()
    gc.freeze()


if os.environ.get("LIVECLASS_BENCH_GCTUNE") == "1":
    gc.set_threshold(int(os.environ.get("LIVECLASS_BENCH_GCTUNE_GEN0", "50000")), 20, 10)
    delay = float(os.environ.get("LIVECLASS_BENCH_GCTUNE_FREEZE_AFTER", "8"))
    threading.Thread(target=_freeze_later, args=(delay,), daemon=True).start()
