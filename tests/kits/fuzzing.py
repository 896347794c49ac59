"""The schemathesis CLI against a real node: the REST fuzz runs of tests/api (one module
per credential, so the two long runs go to two workers at once)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kits.nodes import Node, start_node
from kits.servers import ROOT

MAX_EXAMPLES = os.environ.get("LIVECLASS_FUZZ_EXAMPLES", "30")
"""Examples per operation in the fuzzing phase (after the coverage phase's boundary cases);
raise it for a longer run."""
RUN_SECONDS = 1200
"""How long one run may take: ~400 operations on a loaded 2-core machine."""
CHECKS = "not_a_server_error,response_schema_conformance"
ALL_PHASES = "examples,coverage,fuzzing,stateful"
POSTGRES_PHASES = "examples,fuzzing,stateful"
"""The admin run's phases on PostgreSQL: all but coverage, which costs ~70% of a run (~295 of
~430 CPU-s, nearly all in schemathesis' own generation, not the node) and sends the same
deterministic cases on either database. The SQLite run keeps it; values only PostgreSQL
refuses (SQLSTATE class 22) answer 422 by one mapping, which tests/api/test_out_of_range.py
checks on both databases; random fuzzing and the stateful chains still reach PostgreSQL."""
ANONYMOUS_PHASES = "examples,fuzzing,stateful"
"""The run without credentials: all but coverage, whose boundary cases stop at
authentication there (test_schemathesis_anonymous.py says what was measured)."""
HOOKS_DIR = ROOT / "tests" / "api"
"""Where ``schemathesis_hooks`` (our non-JSON media types) lives."""


def fuzz_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node for a fuzzing module (``request.param``: its database); server errors are
    logged at the default warning level.

    The node builds its OpenAPI document on the first request (~2 CPU-s with every domain's
    routes) and schemathesis allows the schema only 10 s, which a loaded machine missed: the
    document is built here first, without that deadline."""
    for node in start_node(tmp_path_factory.mktemp("fuzz"), request.param, request):
        warm = httpx.get(node.url + "/openapi.json", timeout=300)
        assert warm.status_code == 200, warm.text
        yield node


def operation_count(node: Node) -> int:
    """How many operations the node's OpenAPI document declares."""
    schema = httpx.get(node.url + "/openapi.json").json()
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in schema["paths"].values() for method in item if method in methods)


def schemathesis(
    node: Node,
    workdir: Path,
    *extra: str,
    examples: str = MAX_EXAMPLES,
    phases: str = ALL_PHASES,
) -> str:
    """Run ``schemathesis run`` against ``node`` (``phases``, ``examples`` per operation in
    the fuzzing phase); fail with its report unless all passed."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{node.url}/openapi.json",
        "--checks",
        CHECKS,
        "--phases",
        phases,
        "--max-examples",
        examples,
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        *extra,
    ]
    hooks = {"SCHEMATHESIS_HOOKS": "schemathesis_hooks"}
    path = os.pathsep.join(filter(None, [str(HOOKS_DIR), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        command,
        cwd=workdir,
        env={**os.environ, **hooks, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    report = result.stdout + result.stderr
    server_errors = [line for line in node.server.log().splitlines() if "unhandled error" in line]
    assert result.returncode == 0, report + "\n--- node log ---\n" + "\n".join(server_errors)
    operations = operation_count(node)
    assert f"Tested: {operations}" in report, report
    assert "generated" in report and "passed" in report
    return report
