"""A node without the native media extension starts, says so in one warning line and on
/metrics; with it, /metrics says 1; and the container image is declared to build it.

The extension is hidden the way a machine without a C compiler would lack it: the node runs
with a test-only ``sitecustomize`` on its ``PYTHONPATH`` that makes ``media.fastpath._srtp``
unimportable (``sys.modules`` entry None), so nothing in the product needs a switch for it.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest

from kits.nodes import start_node
from kits.peers import media_gauges
from kits.servers import ROOT
from media import fastpath

HIDE_EXTENSION = '''"""Test-only: media.fastpath._srtp cannot be imported (as if never compiled)."""
import sys

sys.modules["media.fastpath._srtp"] = None
'''


def hidden_extension_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HIDE_EXTENSION)
    paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def test_a_node_without_the_extension_warns_once_and_exports_0(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = hidden_extension_env(tmp_path)
    with contextlib.contextmanager(start_node)(tmp_path, "sqlite", request, **env) as node:
        assert media_gauges(node)["native_extension"] == 0.0
        log = node.server.log()
    assert log.count(fastpath.MISSING) == 1, log
    line = next(line for line in log.splitlines() if fastpath.MISSING in line)
    assert '"level":"warning"' in line and '"logger":"liveclass.media"' in line


def test_a_node_with_the_extension_exports_1_and_does_not_warn(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    assert fastpath.NATIVE, "the test command builds the extension (pip install -e .)"
    with contextlib.contextmanager(start_node)(tmp_path, "sqlite", request) as node:
        assert media_gauges(node)["native_extension"] == 1.0
        log = node.server.log()
    assert fastpath.MISSING not in log


def stages(dockerfile: str) -> list[str]:
    """The Dockerfile's build stages, line continuations joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    lines = [line for line in joined.splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(lines)
    return [part for part in re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]]


def test_the_container_image_builds_the_extension_and_runs_without_a_compiler() -> None:
    build, runtime = stages((ROOT / "deploy" / "Dockerfile").read_text())
    assert build.split()[2] == "build", "the first stage is named build"
    installs = re.search(r"apt-get install[^\n]*", build)
    assert installs and re.search(r"\b(build-essential|gcc)\b", installs.group(0)), build
    copied = " ".join(re.findall(r"^COPY ([^\n]*)", build, flags=re.MULTILINE))
    assert "setup.py" in copied and re.search(r"\bmedia\b", copied), copied
    wheel = re.search(r"^RUN pip wheel[^\n]*", build, flags=re.MULTILINE)
    assert wheel and "media/fastpath/_srtp" in wheel.group(0), "the build checks the wheel"
    assert "COPY --from=build /wheels" in runtime
    assert re.search(r"pip install[^\n]*/wheels/\*\.whl", runtime)
    assert 'python -c "import media.fastpath._srtp"' in runtime
    assert not re.search(r"\b(build-essential|gcc|apt-get install)\b", runtime)
