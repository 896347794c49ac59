"""Running a transcode in a child process, never on the server's event loop.

``run_ladder`` starts ``python -m lms.video.worker``, reads its progress lines as they come
and returns its ``Result`` or raises its typed error. The child is killed when the caller is
cancelled (a cancelled job), when the wall-clock cap passes (TranscodeTimeout), and a child
that dies by a signal (a decoder crash, the OOM killer) is a TranscodeFailed naming it: the
server itself never runs FFmpeg on an uploaded file. A subprocess rather than
multiprocessing: nothing of the server's state is inherited, and the child's stderr (FFmpeg's
log, a traceback) goes to a file read only for the server's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lms.video.errors import TranscodeFailed, TranscodeTimeout, from_kind
from lms.video.transcode import Result

logger = logging.getLogger("liveclass.video")

OnProgress = Callable[[float], Awaitable[None]]

LINE_LIMIT = 1 << 20
"""The longest line the child may print (its result lists every rendition)."""


@dataclass(frozen=True)
class WorkerLimits:
    """The child's bounds: wall-clock seconds, data size in bytes, niceness."""

    wall_seconds: float = 4 * 3600.0
    memory_bytes: int = 4 << 30
    nice: int = 10


async def run_ladder(
    source: Path,
    folder: Path,
    *,
    progress: OnProgress | None = None,
    limits: WorkerLimits | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Result:
    """Transcode ``source`` into ``folder`` in a child process (``on_start`` gets its pid).
    Raises the child's typed error, TranscodeTimeout past ``limits.wall_seconds``,
    TranscodeFailed if it died."""
    limits = limits or WorkerLimits()
    request = {
        "source": str(source),
        "folder": str(folder),
        "memory_bytes": limits.memory_bytes,
        "nice": limits.nice,
    }
    with tempfile.TemporaryFile() as stderr:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "lms.video.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            limit=LINE_LIMIT,
        )
        if on_start is not None:
            on_start(child.pid)
        try:
            async with asyncio.timeout(limits.wall_seconds):
                outcome = await _talk(child, request, progress)
                await child.wait()
        except TimeoutError:
            minutes = limits.wall_seconds / 60
            raise TranscodeTimeout(
                f"the transcode took longer than {minutes:g} minutes and was stopped"
            ) from None
        finally:
            await _reap(child)
            stderr.seek(0)
            log = stderr.read()[-4000:].decode(errors="replace").strip()
            if log:
                logger.info("video worker %s said: %s", child.pid, log)
    return _outcome(outcome, child.returncode)


async def _talk(
    child: asyncio.subprocess.Process, request: dict[str, Any], progress: OnProgress | None
) -> dict[str, Any] | None:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(request).encode() + b"\n")
    await child.stdin.drain()
    child.stdin.close()
    outcome: dict[str, Any] | None = None
    while line := await child.stdout.readline():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        if "progress" in message and progress is not None:
            await progress(float(message["progress"]))
        elif "result" in message or "error" in message:
            outcome = message
    return outcome


async def _reap(child: asyncio.subprocess.Process) -> None:
    """Kill the child if it still runs and wait for it (shielded: runs on cancellation)."""
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
    await asyncio.shield(child.wait())


def _outcome(outcome: dict[str, Any] | None, returncode: int | None) -> Result:
    if outcome is not None and "result" in outcome:
        return Result.from_json(outcome["result"])
    if outcome is not None and "error" in outcome:
        error = outcome["error"]
        raise from_kind(str(error.get("kind")), str(error.get("message")))
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        raise TranscodeFailed(
            f"the transcoder stopped unexpectedly ({name or returncode}); the file may be"
            " damaged or need more memory than we allow"
        )
    raise TranscodeFailed(f"the transcoder stopped without a result (exit status {returncode})")
