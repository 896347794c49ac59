"""The host's side of the harness: the job sent into the sandbox, and the run read back.

Pure functions, no I/O: ``build_job`` writes what the guest (``guest.py``) reads on its
stdin, ``interpret`` turns the worker's raw facts about a run (captured output, the verdict
channel, how the instance ended) into the ``CodeRun`` the question type grades.

The verdict channel is the guest's fd 2, where only lines that start with the run's nonce
count. The student's code never sees the nonce in its namespace; a student who still wrote
verdict lines (by digging the nonce out of the interpreter) is caught when the lines break
the harness's order (a test twice, an unknown test, a line after the end), and the run
ends as ``forbidden``. Hidden tests' messages are dropped here, before anything leaves.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from lms.assessments.questions.python_code import (
    MAX_MESSAGE,
    CodeRun,
    CodeTest,
    PythonCode,
    RunOutcome,
    RunStatus,
)

NOT_RUN = "Did not run."
EXITED = "Did not run: the code stopped the interpreter before the tests."
TAMPERED = "The code wrote to the test harness's channel."
MEMORY_SHARE = 0.9
"""A trap with this share of the memory limit in use is counted as running out of memory."""


@dataclass(frozen=True)
class Verdict:
    """One line of the verdict channel."""

    kind: str
    ident: str = ""
    passed: bool = False
    message: str = ""


def build_job(
    definition: PythonCode, code: str, tests: list[CodeTest], nonce: str | None = None
) -> dict[str, Any]:
    """The job the guest reads: the nonce, the code, the tests in order, the rules."""
    return {
        "nonce": nonce or secrets.token_hex(16),
        "code": code,
        "tests": [{"id": t.id, "source": t.source, "hidden": t.hidden} for t in tests],
        "forbidden": list(definition.forbidden_modules),
        "wall_ms": definition.limits.wall_ms,
    }


def parse_channel(text: str, nonce: str) -> tuple[list[Verdict], str]:
    """The verdict lines keyed by ``nonce``, and whatever else was written to the channel."""
    verdicts: list[Verdict] = []
    stray: list[str] = []
    head = nonce + " "
    for line in text.split("\n"):
        if not line.startswith(head):
            if line:
                stray.append(line)
            continue
        verdict = _verdict(line[len(head) :])
        if verdict is None:
            stray.append(line)
        else:
            verdicts.append(verdict)
    return verdicts, "\n".join(stray)


def _verdict(text: str) -> Verdict | None:
    fields = text.split(" ")
    if len(fields) != 4 or fields[2] not in ("0", "1"):
        return None
    try:
        ident = bytes.fromhex(fields[1]).decode()
        message = bytes.fromhex(fields[3]).decode("utf-8", "replace")
    except ValueError:
        return None
    return Verdict(fields[0], ident, fields[2] == "1", message)


def interpret(raw: dict[str, Any], tests: list[CodeTest], nonce: str, memory_limit: int) -> CodeRun:
    """A ``CodeRun`` from the worker's raw facts (or the pool's, for a killed worker)."""
    verdicts, stray = parse_channel(str(raw.get("channel", "")), nonce)
    output = str(raw.get("stdout", "")) + (f"\n{stray}" if stray else "")
    outcomes, ended, tampered = _outcomes(verdicts, tests)
    kinds = {v.kind for v in verdicts}
    status = _status(raw, kinds, ended, tampered, memory_limit)
    notes: list[str] = []
    if status == "syntax_error":
        notes = [v.message for v in verdicts if v.kind == "syntax"][:1]
    elif status == "forbidden":
        notes = (
            [TAMPERED] if tampered else [v.message for v in verdicts if v.kind == "forbidden"][:1]
        )
    if not ended and status == "completed":
        outcomes = {
            test.id: outcomes.get(test.id) or RunOutcome(id=test.id, passed=False, message=EXITED)
            for test in tests
        }
    return CodeRun(
        status=status,
        tests=[_shown(outcomes[t.id], t) for t in tests if t.id in outcomes],
        output=clip("\n".join([*notes, output]) if notes else output),
        duration_ms=max(0, int(raw.get("duration_ms", 0))),
    )


def _outcomes(
    verdicts: list[Verdict], tests: list[CodeTest]
) -> tuple[dict[str, RunOutcome], bool, bool]:
    """Test outcomes in the harness's order; whether it ended; whether the order broke."""
    expected = [t.id for t in tests]
    outcomes: dict[str, RunOutcome] = {}
    ended = False
    for verdict in verdicts:
        if ended:
            return outcomes, ended, True
        if verdict.kind == "end":
            ended = True
        elif verdict.kind == "test":
            position = len(outcomes)
            if position >= len(expected) or verdict.ident != expected[position]:
                return outcomes, ended, True
            outcomes[verdict.ident] = RunOutcome(
                id=verdict.ident, passed=verdict.passed, message=clip(verdict.message)
            )
    return outcomes, ended, False


def _status(
    raw: dict[str, Any], kinds: set[str], ended: bool, tampered: bool, memory_limit: int
) -> RunStatus:
    trap = raw.get("trap")
    near_limit = int(raw.get("memory_used", 0)) >= MEMORY_SHARE * memory_limit
    if raw.get("output_exceeded"):
        return "output_limit"
    if trap in ("fuel", "deadline") or raw.get("killed") == "timeout":
        return "timeout"
    if "memory" in kinds or (trap in ("other", "stack") and near_limit):
        return "memory"
    if tampered or "forbidden" in kinds:
        return "forbidden"
    if "syntax" in kinds:
        return "syntax_error"
    if trap == "error" or raw.get("killed") == "crashed":
        return "sandbox_error"
    if trap is not None or raw.get("killed") is not None:
        return "crashed"
    if not ended and int(raw.get("exit_code", 0)) != 0:
        return "crashed"
    return "completed"


def _shown(outcome: RunOutcome, test: CodeTest) -> RunOutcome:
    """A hidden test keeps its verdict and loses its message (it may quote the answer)."""
    if test.hidden and outcome.message and outcome.message != EXITED:
        return outcome.model_copy(update={"message": ""})
    return outcome


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` within ``limit`` characters: its head and its tail (where errors are)."""
    if len(text) <= limit:
        return text
    marker = "\n[...]\n"
    head = (limit - len(marker)) // 2
    tail = limit - len(marker) - head
    return text[:head] + marker + text[-tail:]
