"""Running SymPy where it cannot hurt: worker processes with a deadline and a memory cap.

SymPy can take unbounded time or memory on a short input (``x**(10**10)`` expanded, a
tower of powers evaluated): big-integer arithmetic runs in C and ignores signals, so no
in-process timeout can stop it. Each check therefore runs in a worker process (a fresh
interpreter running ``math_check.main``, SymPy imported there only) under an address-space
limit, talking over a socket pair; the caller
waits at most ``timeout`` seconds, then kills the worker and answers ``unchecked``, and the
next check starts a fresh one. Workers are reused between checks (importing SymPy costs
about a second), at most ``workers`` at a time; a call blocks while all are busy.

The worker answers twice: a provisional verdict from the numeric check, then the final one
after ``simplify``; when ``simplify`` runs out of time the numeric verdict stands.
"""

from __future__ import annotations

import atexit
import contextlib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

MAX_EXPONENT = 100
"""Largest exponent (in absolute value) of a power whose exponent is a number: beyond it
the expression is not evaluated at all (``unchecked``)."""

Kind = Literal["equivalent", "different", "invalid", "unchecked"]


@dataclass(frozen=True)
class Request:
    """Two expressions rewritten by ``math_syntax.read`` over variables ``v0..v{n-1}``."""

    expected: str
    given: str
    variables: int
    rel_tol: float
    max_exponent: float
    seed: str


@dataclass(frozen=True)
class Verdict:
    """Whether ``given`` equals ``expected``; ``method`` says how we know (``symbolic``,
    ``numeric``, ``syntax``, ``limit``, ``timeout``, ``key``...)."""

    kind: Kind
    method: str
    detail: str = ""


_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from lms.assessments.questions.math_check import main; main()"
)
"""The worker's command line: a fresh interpreter that imports only the checker (not the
parent's ``__main__``, as a spawned ``multiprocessing`` child would: the whole server)."""
_ROOT = str(Path(__file__).resolve().parents[3])
"""The directory holding the ``lms`` package."""


class _Worker:
    """One worker process and our end of its socket."""

    def __init__(self, memory_bytes: int, start_timeout: float) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, _ROOT, str(theirs.fileno()), str(memory_bytes)],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        if not self.conn.poll(start_timeout) or self.conn.recv() != ("ready",):
            self.kill()
            raise RuntimeError("the SymPy worker did not start")

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """End the process (it may be deep in a C loop: SIGKILL) and free the socket."""
        if self.alive():
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.conn.close()


class MathGuard:
    """Answers equivalence checks from worker processes (see the module docstring)."""

    def __init__(
        self,
        *,
        timeout: float = 3.0,
        workers: int = 1,
        memory_bytes: int = 1 << 30,
        start_timeout: float = 60.0,
        max_exponent: float = MAX_EXPONENT,
    ) -> None:
        self.timeout = timeout
        self.memory_bytes = memory_bytes
        self.start_timeout = start_timeout
        self.max_exponent = max_exponent
        self._slots = threading.BoundedSemaphore(workers)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def check(
        self, expected: str, given: str, *, variables: int, rel_tol: float, seed: str
    ) -> Verdict:
        """Whether the rewritten expressions are equal; never raises, never waits much past
        ``timeout`` once a worker is running."""
        request = Request(expected, given, variables, rel_tol, self.max_exponent, seed)
        with self._slots:
            try:
                worker = self._take()
            except (RuntimeError, OSError, EOFError) as exc:
                return Verdict("unchecked", "worker", str(exc))
            verdict, healthy = self._ask(worker, request)
            if healthy:
                self._put(worker)
            else:
                worker.kill()
            return verdict

    def _ask(self, worker: _Worker, request: Request) -> tuple[Verdict, bool]:
        provisional: Verdict | None = None
        deadline = time.monotonic() + self.timeout
        try:
            worker.conn.send(request)
            while (remaining := deadline - time.monotonic()) > 0:
                if not worker.conn.poll(remaining):
                    break
                stage, verdict = worker.conn.recv()
                if stage == "final":
                    return verdict, True
                provisional = verdict
        except (EOFError, OSError, BrokenPipeError):
            return Verdict("unchecked", "crashed", "the check stopped"), False
        if provisional is not None:
            return provisional, False
        return Verdict("unchecked", "timeout", "the check took too long"), False

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the math guard is closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.kill()
        return _Worker(self.memory_bytes, self.start_timeout)

    def _put(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed:
                worker.kill()
            else:
                self._idle.append(worker)

    def close(self) -> None:
        """Stop every idle worker; later checks answer ``unchecked``."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


_default: MathGuard | None = None
_default_lock = threading.Lock()


def default_guard() -> MathGuard:
    """The process's shared guard (one worker), started on first use, closed at exit."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MathGuard()
            atexit.register(_default.close)
        return _default
