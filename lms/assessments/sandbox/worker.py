"""The sandbox worker process: runs one job at a time in a fresh wasmtime store.

Started by the pool as ``python -m lms.assessments.sandbox.worker CACHE_DIR`` with an
empty environment. It speaks a tiny protocol over its stdin and a private copy of its
stdout: frames of a 4-byte big-endian length and a JSON object, one request, one reply.
Its fd 1 is pointed at stderr so that nothing printed by a library can corrupt a frame.

Each run gets a new ``Store`` and instance (nothing survives from one student to the
next), a fuel budget (CPU), a memory limit (the store's limiter: ``memory.grow`` fails and
the guest sees ``MemoryError``), an epoch deadline (wall clock, ticked by a thread), and
stdout/stderr captured through callbacks with byte caps: past the cap the run's fuel is
set to zero, which stops the guest at once. No directory is preopened and no environment
is passed, so the guest sees no host file; WASI preview 1 has no sockets to offer.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import resource
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wasmtime

from lms.assessments.sandbox.runtime import Runtime, load_runtime

TICK_SECONDS = 0.01
"""How often the epoch advances: the wall clock deadline's resolution."""
MAX_JOB_BYTES = 64 << 20
"""Largest file this process writes once confined: the job (code and tests, ~7 MB at most)."""
CHANNEL_BYTES = 1 << 20
"""Cap of fd 2, where verdicts travel (100 tests of 2,000 characters fit several times)."""
GUEST_SOURCE = (Path(__file__).with_name("guest.py")).read_text(encoding="utf-8")
BOOT = (
    "import marshal,posix\n"
    "n=int(posix.read(0,8))\nb=b''\n"
    "while len(b)<n:b+=posix.read(0,n-len(b))\n"
    "exec(marshal.loads(b))"
)
"""The guest's program: load the harness's bytecode from the head of stdin and run it (the
job follows it there). Compiling the harness's source in every run cost a fifth of a run."""
COMPILE = (
    "import marshal,posix\nd=b''\n"
    "while c:=posix.read(0,1<<20):d+=c\n"
    "posix.write(1,marshal.dumps(compile(d,'guest.py','exec')))"
)
GUEST_ARGV = ["python", "-S", "-I", "-c", BOOT]


class Capped:
    """A byte sink for one guest stream: keeps up to ``cap`` bytes, then calls ``over``."""

    def __init__(self, cap: int, over: Callable[[], None]) -> None:
        self.cap = cap
        self.data = bytearray()
        self.exceeded = False
        self._over = over

    def __call__(self, chunk: bytes) -> int:
        room = self.cap - len(self.data)
        if len(chunk) > room:
            self.data += chunk[: max(0, room)]
            if not self.exceeded:
                self.exceeded = True
                self._over()
            return -27  # EFBIG: the guest's write fails, and its fuel is already gone
        self.data += chunk
        return len(chunk)


class Ticker:
    """Advances the engine's epoch once per ``TICK_SECONDS`` of real time, so that a
    deadline of N ticks is N ticks of the clock even when this thread wakes up late (a
    loaded machine): it catches up on the ticks it missed."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self._engine = engine
        thread = threading.Thread(target=self._run, name="epoch-ticker", daemon=True)
        thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        ticks = 0
        while True:
            time.sleep(TICK_SECONDS)
            due = int((time.monotonic() - started) / TICK_SECONDS)
            while ticks < due:
                self._engine.increment_epoch()
                ticks += 1


def compile_guest(runtime: Runtime, scratch: Path) -> bytes:
    """The harness's bytecode, compiled once per worker by the sandbox's own CPython 3.12
    (the host's CPython may be another version, with another bytecode)."""
    source = scratch / "guest.py"
    source.write_text(GUEST_SOURCE, encoding="utf-8")
    store = wasmtime.Store(runtime.engine)
    store.set_fuel(1 << 40)
    store.set_epoch_deadline(int(60 / TICK_SECONDS))
    output = Capped(1 << 24, lambda: None)
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["python", "-S", "-I", "-c", COMPILE]
    wasi.stdin_file = str(source)
    wasi.stdout_custom = output
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    instance = runtime.linker.instantiate(store, runtime.module)
    start = instance.exports(store)["_start"]
    assert isinstance(start, wasmtime.Func)
    with contextlib.suppress(wasmtime.ExitTrap):
        start(store)
    store.close()
    source.unlink()
    if not output.data or output.exceeded:
        raise RuntimeError("the sandbox could not compile its harness")
    return bytes(output.data)


def execute(
    runtime: Runtime, harness: bytes, job_file: Path, request: dict[str, Any]
) -> dict[str, Any]:
    """Run one job; the raw facts of the run (``harness.interpret`` reads them)."""
    limits = request["limits"]
    started = time.perf_counter()
    job_file.write_bytes(b"%08d" % len(harness) + harness + marshal.dumps(request["job"]))
    store = wasmtime.Store(runtime.engine)
    store.set_fuel(int(limits["fuel"]))
    store.set_limits(memory_size=int(limits["memory_bytes"]), instances=1, tables=4, memories=1)
    ticks = int(limits["wall_ms"] / 1000 / TICK_SECONDS) + 1
    store.set_epoch_deadline(ticks)

    def stop() -> None:
        store.set_fuel(0)

    stdout = Capped(int(limits["output_bytes"]), stop)
    channel = Capped(CHANNEL_BYTES, stop)
    wasi = wasmtime.WasiConfig()
    wasi.argv = GUEST_ARGV
    wasi.stdin_file = str(job_file)
    wasi.stdout_custom = stdout
    wasi.stderr_custom = channel
    store.set_wasi(wasi)
    trap = None
    exit_code = 0
    memory_used = 0
    try:
        instance = runtime.linker.instantiate(store, runtime.module)
        memory = instance.exports(store)["memory"]
        try:
            start = instance.exports(store)["_start"]
            assert isinstance(start, wasmtime.Func)
            start(store)
        except wasmtime.ExitTrap as exc:
            exit_code = exc.code
        except wasmtime.Trap as exc:
            trap = _trap_kind(exc)
        assert isinstance(memory, wasmtime.Memory)
        memory_used = memory.data_len(store)
    except wasmtime.WasmtimeError as exc:
        trap = "error"
        channel.data += f"\n{exc}".encode()[:2000]
    finally:
        job_file.write_bytes(b"")
        # Free the store now: its output callbacks hold it in wasmtime's global table of
        # callbacks, so it would never be collected (a leak of every run's memory).
        store.close()
    return {
        "stdout": stdout.data.decode("utf-8", "replace"),
        "channel": channel.data.decode("utf-8", "replace"),
        "output_exceeded": stdout.exceeded or channel.exceeded,
        "trap": trap,
        "exit_code": exit_code,
        "memory_used": memory_used,
        "duration_ms": round((time.perf_counter() - started) * 1000),
    }


def _trap_kind(exc: wasmtime.Trap) -> str:
    if exc.trap_code == wasmtime.TrapCode.OUT_OF_FUEL:
        return "fuel"
    if exc.trap_code == wasmtime.TrapCode.INTERRUPT:
        return "deadline"
    if exc.trap_code == wasmtime.TrapCode.STACK_OVERFLOW:
        return "stack"
    return "other"


def serve(cache_dir: Path) -> None:
    """The worker's loop: load the runtime, say ready, then answer requests until EOF."""
    channel = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints (a library's warning) land on stderr, not in a frame
    requests = os.fdopen(0, "rb", buffering=0)
    runtime = load_runtime(cache_dir)
    Ticker(runtime.engine)
    scratch = Path(tempfile.mkdtemp(prefix="sandbox-"))
    harness = compile_guest(runtime, scratch)
    job_file = scratch / "job"
    _confine()
    _send(channel, {"ready": True, "pid": os.getpid()})
    try:
        while (request := _receive(requests)) is not None:
            reply = {"id": request["id"], "raw": execute(runtime, harness, job_file, request)}
            _send(channel, reply)
    finally:
        job_file.unlink(missing_ok=True)
        scratch.rmdir()


def _confine() -> None:
    """Defence in depth, once the runtime is loaded: should code ever escape wasmtime, this
    process writes no file larger than the largest job and leaves no core dump."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_JOB_BYTES, MAX_JOB_BYTES))


def _send(channel: Any, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    channel.write(struct.pack(">I", len(body)) + body)


def _receive(stream: Any) -> dict[str, Any] | None:
    header = _read_exactly(stream, 4)
    if header is None:
        return None
    body = _read_exactly(stream, struct.unpack(">I", header)[0])
    if body is None:
        return None
    message: dict[str, Any] = json.loads(body)
    return message


def _read_exactly(stream: Any, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
