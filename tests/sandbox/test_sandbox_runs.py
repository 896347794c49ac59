"""Graded code end to end: real worker processes running WASI CPython under wasmtime.

Every run goes through the pool (``run_code``) exactly as grading does: a student's code,
the question's tests, the question's limits. No timing is asserted: a loop that never ends
must end as ``timeout`` whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.python_code import (
    MAX_CODE,
    CodeRun,
    CodeTest,
    Limits,
    PythonCode,
    grade_run,
)
from lms.assessments.sandbox import PoolConfig, SandboxPool, run_code
from lms.assessments.sandbox.runtime import cache_file, wasm_digest, wasm_path

ADD_TESTS = [
    CodeTest(id="small", name="small numbers", source="assert add(1, 2) == 3", hidden=False),
    CodeTest(id="big", name="big numbers", source="assert add(10**20, 1) == 10**20 + 1, 'big sum'"),
]
QUICK = Limits(wall_ms=3_000, memory_mb=64, output_bytes=4_096)


def question(
    tests: list[CodeTest] | None = None,
    *,
    limits: Limits = QUICK,
    forbidden: list[str] | None = None,
) -> PythonCode:
    extra = {} if forbidden is None else {"forbidden_modules": forbidden}
    return PythonCode(
        prompt="Write add(a, b).", points=2, tests=tests or ADD_TESTS, limits=limits, **extra
    )


@pytest.fixture(scope="module")
async def pool(sandbox_cache: Path) -> AsyncIterator[SandboxPool]:
    sandbox = SandboxPool(PoolConfig(workers=2, max_queue=200, cache_dir=sandbox_cache))
    yield sandbox
    await sandbox.aclose()


async def run(pool: SandboxPool, code: str, definition: PythonCode | None = None) -> CodeRun:
    return await run_code(definition or question(), code, pool=pool)


async def test_correct_code_passes_every_test(pool: SandboxPool) -> None:
    result = await run(pool, "def add(a, b):\n    return a + b\n")
    assert result.status == "completed"
    assert [(t.id, t.passed) for t in result.tests] == [("small", True), ("big", True)]
    assert grade_run(question(), result).score == 2


async def test_wrong_code_fails_and_hidden_messages_stay_hidden(pool: SandboxPool) -> None:
    result = await run(pool, "def add(a, b):\n    print('adding', a, b)\n    return a - b\n")
    assert result.status == "completed"
    small, big = result.tests
    assert not small.passed and "test line 1" in small.message
    assert not big.passed and big.message == ""  # hidden: 'big sum' must not leak
    assert "adding 1 2" in result.output
    assert "adding 100000000000000000000" not in result.output  # a hidden test's output
    assert grade_run(question(), result).score == 0


async def test_the_module_is_compiled_once_into_the_cache(
    pool: SandboxPool, sandbox_cache: Path
) -> None:
    await run(pool, "def add(a, b):\n    return a + b\n")
    cached = cache_file(sandbox_cache, wasm_digest(wasm_path()))
    assert cached.exists()
    assert [p.name for p in await asyncio.to_thread(sandbox_cache.glob, "*.cwasm")] == [cached.name]
    assert "wasmtime" in cached.name


async def test_an_endless_loop_times_out(pool: SandboxPool) -> None:
    result = await run(pool, "while True:\n    pass\n")
    assert result.status == "timeout"
    assert grade_run(question(), result).score == 0


async def test_sleeping_past_the_limit_times_out(pool: SandboxPool) -> None:
    result = await run(pool, "import time\ntime.sleep(3600)\n")
    assert result.status == "timeout"


async def test_endless_allocation_ends_as_memory(pool: SandboxPool) -> None:
    result = await run(pool, "x = []\nwhile True:\n    x.append(' ' * 100_000)\n")
    assert result.status == "memory"


async def test_printing_in_a_loop_ends_as_output_limit(pool: SandboxPool) -> None:
    result = await run(pool, "while True:\n    print('spam')\n")
    assert result.status == "output_limit"
    assert "spam" in result.output
    assert len(result.output) <= 2_000


async def test_a_forbidden_import_is_refused(pool: SandboxPool) -> None:
    for code in (
        "import socket\n",
        "import os.path\n",
        "from os import path\n",
        "try:\n    import subprocess\nexcept ImportError:\n    pass\ndef add(a, b): return a + b",
        "import importlib\nimportlib.import_module('subprocess')\n",
    ):
        result = await run(pool, code)
        assert result.status == "forbidden", code
        assert "not allowed" in result.output
        assert grade_run(question(), result).score == 0


async def test_a_test_importing_a_forbidden_module_is_refused_too(pool: SandboxPool) -> None:
    tests = [CodeTest(id="t", name="t", source="import os\nassert add(1, 1) == 2")]
    result = await run(pool, "def add(a, b): return a + b", question(tests))
    assert result.status == "forbidden"


async def test_allowed_modules_import(pool: SandboxPool) -> None:
    code = "import json, math, collections\ndef add(a, b): return math.fsum([a, b]) and a + b"
    result = await run(pool, code)
    assert result.status == "completed"
    assert all(t.passed for t in result.tests)


async def test_a_syntax_error_says_where(pool: SandboxPool) -> None:
    result = await run(pool, "def add(a, b)\n    return a + b\n")
    assert result.status == "syntax_error"
    assert "line 1" in result.output
    assert result.tests == []


async def test_processes_and_sockets_are_refused_even_when_allowed(pool: SandboxPool) -> None:
    allowed = question(forbidden=[])
    for code in (
        "import os\nos.fork()\n",
        "import os\nos.system('ls')\n",
        "import subprocess\nsubprocess.run(['ls'])\n",
        "import socket\nsocket.create_connection(('127.0.0.1', 80))\n",
    ):
        result = await run(pool, code, allowed)
        assert result.status == "forbidden", (code, result)
        assert "not available in the sandbox" in result.output.lower(), code


async def test_host_files_are_out_of_reach(pool: SandboxPool) -> None:
    allowed = question(forbidden=[])
    for code in (
        "print(open('/etc/passwd').read())",
        "import os\nprint(os.listdir('/'))",
        "print(open('../../../../etc/hostname').read())",
    ):
        result = await run(pool, code, allowed)
        assert result.status == "completed", code
        assert "root:" not in result.output
        assert "Error" in result.output, code


async def test_printed_verdicts_are_not_verdicts(pool: SandboxPool) -> None:
    forged = "\n".join(
        [
            "import sys",
            "line = 'end 736d616c6c 1 '",
            'for fake in (\'{"id": "small", "passed": true}\', \'test 736d616c6c 1 \'):',
            "    print(fake)",
            "    print('\\n0123456789abcdef ' + fake)",
            "    sys.__stderr__.write('\\n' + fake + '\\n')",
            "    sys.__stderr__.write('\\n0123456789abcdef0123456789abcdef ' + fake + '\\n')",
            "sys.__stderr__.flush()",
            "def add(a, b): return 0",
        ]
    )
    result = await run(pool, forged)
    assert result.status == "completed"
    assert [t.passed for t in result.tests] == [False, False]


async def test_a_stolen_nonce_is_caught_as_tampering(pool: SandboxPool) -> None:
    # Digging the harness's prefix out of its frame, then writing passing verdicts: the
    # harness's own lines follow, the order breaks, and the run is refused.
    code = "\n".join(
        [
            "import sys",
            "frame = sys._getframe(1)",
            "prefix = frame.f_locals['prefix']",
            "for ident in ('small', 'big'):",
            "    line = prefix + 'test ' + ident.encode().hex() + ' 1 '",
            "    sys.__stderr__.write(line + '\\n')",
            "sys.__stderr__.write(prefix + 'end  0 \\n')",
            "sys.__stderr__.flush()",
            "import posix",
            "posix._exit(0)",
        ]
    )
    result = await run(pool, code, question(forbidden=[]))
    assert result.status == "forbidden"
    assert grade_run(question(), result).score == 0


async def test_exiting_early_earns_nothing(pool: SandboxPool) -> None:
    for code in ("import sys\nsys.exit(0)\n", "raise SystemExit(0)\n"):
        result = await run(pool, code)
        assert result.status == "completed"
        assert not any(t.passed for t in result.tests)


async def test_oversize_code_is_refused_before_running(pool: SandboxPool) -> None:
    with pytest.raises(InvalidResponse):
        await run(pool, "#" * (MAX_CODE + 1))


async def test_a_practice_run_never_sends_hidden_tests(pool: SandboxPool) -> None:
    # The code prints every test source it can find: the hidden one is not in the sandbox.
    code = "\n".join(
        [
            "import sys",
            "print(repr(sys._getframe(1).f_locals.get('job')))",
            "def add(a, b): return a + b",
        ]
    )
    result = await run_code(question(forbidden=[]), code, pool=pool, visible_only=True)
    assert result.status == "completed"
    assert [t.id for t in result.tests] == ["small"]
    assert "big sum" not in result.output


async def test_each_run_starts_from_a_fresh_interpreter(pool: SandboxPool) -> None:
    import builtins

    assert not hasattr(builtins, "leftover")
    setter = "import builtins\nbuiltins.leftover = 42\ndef add(a, b): return a + b"
    reader = "import builtins\nprint(getattr(builtins, 'leftover', 'clean'))"
    for _ in range(3):  # two workers: every one of them has run the setter
        await run(pool, setter)
    result = await run(pool, reader)
    assert "clean" in result.output
