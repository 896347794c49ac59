"""The one error table: REST modules do not load the SFU, and every close code is listed.

The problem types and close codes themselves are checked end to end by tests/api and
tests/rooms; these tests keep the table whole and the import graph clean.
"""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import error_map
import lms
import server  # noqa: F401  (imports every package that declares a close error)
from lms.accounts.throttle import LoginThrottled
from lms.errors import Conflict, LmsError, NotFound
from media.errors import BadSdp, MediaError, StaleOffer
from ops.problems import ProblemMap
from realtime.errors import RealtimeError

ROOT = Path(__file__).resolve().parents[2]
MEDIA_ROUTES = {"lms.rooms.whip", "lms.rooms.recordings", "lms.rooms.media_deps"}
"""The REST modules that serve media (WHIP ingest, recordings) and so import the SFU."""
VIDEO_WORK = {
    "lms.video.encoders",
    "lms.video.jobs",
    "lms.video.mux",
    "lms.video.probe",
    "lms.video.process",
    "lms.video.thumbnails",
    "lms.video.transcode",
    "lms.video.worker",
}
"""The video domain's transcoding side: PyAV in the worker process and the job driving it,
loaded by job runners, never by a route (the video routes read ladders without PyAV)."""
SFU_MODULES = ("aiortc", "aioice", "av", "pylibsrtp")
PLAIN_MEDIA = {"media", "media.relay"}
"""The media modules a REST module may load: the relay's message types are plain dataclasses
the room catalogue names (``rooms.media_commands``), and rooms -> media is the designed
direction. Nothing else of ``media`` (its errors included), nor aiortc."""


def _lms_modules() -> list[str]:
    found = [
        info.name
        for info in pkgutil.walk_packages(lms.__path__, prefix="lms.")
        if info.name not in MEDIA_ROUTES | VIDEO_WORK
    ]
    return ["lms", *found]


def test_no_rest_module_but_the_media_routes_imports_the_sfu() -> None:
    modules = _lms_modules()
    assert len(modules) > 20 and "lms.errors" in modules and "lms.deps" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"sfu = [m for m in sys.modules if m.split('.')[0] in {SFU_MODULES!r}]\n"
        "media = [m for m in sys.modules if m.split('.')[0] == 'media']\n"
        f"print(sorted(sfu + [m for m in media if m not in {sorted(PLAIN_MEDIA)!r}]))\n"
    )
    # A fresh interpreter: this one has imported the server (and the SFU) already.
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout


def _subclasses(cls: type[RealtimeError]) -> set[type[RealtimeError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_realtime_error_is_listed_and_every_close_code_documented() -> None:
    assert _subclasses(RealtimeError) | {RealtimeError} == set(error_map.CLOSE_ERRORS)
    protocol = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    documented = {int(code) for code in re.findall(r"^\| (\d{4}) \|", protocol, re.MULTILINE)}
    assert set(error_map.CLOSE_CODES) <= documented


def test_an_exception_takes_its_nearest_listed_class() -> None:
    table = ProblemMap(error_map.PROBLEMS)
    throttled = LoginThrottled("account", retry_after=7, delay=0.0)
    cases: list[tuple[Exception, int, str]] = [
        (throttled, 429, "too-many-requests"),
        (BadSdp("no media"), 400, "bad-sdp"),
        (StaleOffer("old"), 503, "media-unavailable"),
        (MediaError("closing"), 503, "media-unavailable"),
        (NotFound("gone"), 404, "not-found"),
        (Conflict("twice"), 409, "conflict"),
        (LmsError("odd"), 400, "bad-request"),
    ]
    for exc, status, slug in cases:
        problem = table.find(exc)
        assert problem is not None and (problem.status, problem.slug) == (status, slug)
    assert table.find(ValueError("not ours")) is None
    found = table.find(throttled)
    assert found is not None and found.headers(throttled) == {"Retry-After": "7"}
