"""A fork server for test nodes: one process imports the server once, then forks a node per
request, so a test node starts without paying the imports again.

Importing ``server`` (every domain's routes, schemas and models) costs about 5 CPU-seconds,
nearly all of a node's start, and the suite starts a few hundred nodes. A forked child runs
exactly what ``python -m server serve`` runs (``server.main``) with the node's own
environment, working directory and log, so the node under test is the real one; only the
import is shared. Nothing runs in this process but the imports (no thread, no event loop),
which keeps the fork safe.

Protocol: one JSON object per line on stdin, one answer per line on stdout:
``{"op": "start", "argv": [...], "env": {...}, "cwd": "...", "log": "..."}`` →
``{"pid": N}``; ``{"op": "status", "pid": N}`` → ``{"code": null | int}`` (a Popen-style
return code: negative for a signal). At the end of stdin the children still running are
stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import traceback
from typing import Any, NoReturn


def _run_child(request: dict[str, Any]) -> NoReturn:
    code = 1
    try:
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        import server

        # As under ``python -m server``: spawned helper processes import it as their main.
        sys.modules["__main__"] = server
        sys.argv = ["server", *request["argv"]]
        server.main(request["argv"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # nothing left to tell
                stream.flush()
    os._exit(code)


def _reap(codes: dict[int, int], running: set[int]) -> None:
    while running:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        running.discard(pid)
        codes[pid] = os.waitstatus_to_exitcode(status)


def _stop_all(codes: dict[int, int], running: set[int]) -> None:
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        for pid in list(running):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                running.discard(pid)
        deadline = time.monotonic() + grace
        while running and time.monotonic() < deadline:
            _reap(codes, running)
            time.sleep(0.05)


def main() -> None:
    """Import the server, then serve start and status requests until stdin ends."""
    import server  # noqa: F401 (the whole point: imported once, before any fork)

    codes: dict[int, int] = {}
    running: set[int] = set()
    answers = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        _reap(codes, running)
        if request["op"] == "start":
            answers.flush()
            pid = os.fork()
            if pid == 0:
                _run_child(request)
            running.add(pid)
            answer: dict[str, Any] = {"pid": pid}
        else:
            answer = {"code": codes.get(int(request["pid"]))}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    _stop_all(codes, running)


if __name__ == "__main__":
    main()
