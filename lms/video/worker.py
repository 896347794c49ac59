"""The worker process's entry point: ``python -m lms.video.worker`` transcodes one ladder.

It reads one JSON request on stdin (``source``, ``folder``, ``memory_bytes``, ``nice``) and
writes JSON lines on stdout: ``{"progress": 0.42}`` as it goes, then exactly one of
``{"result": {...}}`` or ``{"error": {"kind": ..., "message": ...}}``. Every error is
caught here and sent as a typed error (PyAV's, our own, running out of memory); what the
parent cannot get from us (a segfault in a decoder, a kill) it sees as the exit status.
The process lowers its priority (``nice``) so live rooms on the same machine come first,
and caps its data size (``RLIMIT_DATA``) so a decompression bomb hits MemoryError here
instead of the machine's OOM killer.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

import av

from lms.video import ladder, probe, transcode
from lms.video.errors import TranscodeFailed, UnreadableVideo, VideoError, VideoTooLarge


def _send(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message, separators=(",", ":")) + "\n")
    out.flush()


def _limit(memory_bytes: int, nice: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    if nice > 0:
        os.nice(nice)


def run(request: dict[str, Any], out: TextIO) -> int:
    """Do what ``request`` asks, reporting on ``out``; the exit status (0 even on a typed
    error: the error line says what happened)."""
    try:
        _limit(int(request.get("memory_bytes", 0)), int(request.get("nice", 0)))
        source_path = Path(request["source"])
        info = probe.probe(source_path)
        plan = ladder.plan(info)
        result = transcode.transcode(
            source_path,
            Path(request["folder"]),
            info,
            plan,
            progress=lambda share: _send(out, {"progress": round(share, 4)}),
        )
        _send(out, {"result": result.to_json()})
    except VideoError as exc:
        _fail(out, exc)
    except MemoryError:
        _fail(out, VideoTooLarge("the video needs more memory to transcode than we allow"))
    except av.FFmpegError as exc:
        _fail(out, UnreadableVideo(f"{probe.UNREADABLE}: {exc.strerror or exc}"))
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        _fail(out, TranscodeFailed(f"the transcoder failed ({type(exc).__name__})"))
    return 0


def _fail(out: TextIO, error: VideoError) -> None:
    _send(out, {"error": {"kind": error.kind, "message": error.detail}})


def main() -> int:
    """Read the request from stdin and run it."""
    request = json.loads(sys.stdin.readline())
    return run(request, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
