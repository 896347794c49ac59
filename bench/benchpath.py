"""Puts the liveclass tree and its shared kits (``tests/kits``) on ``sys.path``.

A benchmark runs as ``python bench/<name>.py`` from a checkout, after ``pip install .`` and
``pip install '.[bench]'``: Python puts only ``bench/`` on the path, so each script imports
this module first, then the kits (``kits.servers``, ``kits.stats``...) and the server's own
packages resolve to this tree.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The liveclass tree this benchmark belongs to."""

# The tree first, whatever PYTHONPATH says: bench/jobs.py must not shadow the jobs package.
for _path in (ROOT / "bench", ROOT / "tests", ROOT):
    while str(_path) in sys.path:
        sys.path.remove(str(_path))
    sys.path.insert(0, str(_path))
