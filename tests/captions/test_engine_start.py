"""The captions engine's start: a model that cannot load turns automatic captions off for
good (and says why on /metrics); a start that failed otherwise (a worker process died while
loading) is tried again after a backoff, so one crash does not end captions until restart.

The worker is a stand-in for the speech worker processes (what is tested is the node's
decision, not the engine); the room and media registries are the bare hook lists the
captions part attaches to.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from media.captions.config import CaptionConfig
from media.captions.engine import EngineUnavailable
from media.captions.worker import CaptionWorker
from rooms.auto_captions import AutoCaptions
from rooms.microphone_holds import MicrophoneHolds


class Worker:
    """Starts as told: raises ``outcome``, or returns it as the engine's name."""

    def __init__(self, outcome: BaseException | str, started: list[str]) -> None:
        self.outcome = outcome
        self.started = started
        self.closed = False

    async def start(self) -> str:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        self.started.append(self.outcome)
        return self.outcome

    async def aclose(self) -> None:
        self.closed = True


def captions(outcomes: list[BaseException | str]) -> tuple[AutoCaptions, list[Worker]]:
    made: list[Worker] = []
    started: list[str] = []

    def factory(_config: CaptionConfig) -> CaptionWorker:
        made.append(Worker(outcomes.pop(0), started))
        return cast(CaptionWorker, made[-1])

    sfu = SimpleNamespace(track_listeners=[])
    manager = SimpleNamespace(after_hooks=[], rooms={})
    holds = MicrophoneHolds(cast(Any, sfu), cast(Any, manager))
    media = SimpleNamespace(sfu=sfu, cluster=None, holds=holds)
    auto = AutoCaptions(
        cast(Any, media), cast(Any, manager), config=CaptionConfig(), worker_factory=factory
    )
    return auto, made


async def test_a_start_that_crashed_is_tried_again_after_a_backoff() -> None:
    auto, made = captions([RuntimeError("worker process died"), "whisper"])
    worker = await asyncio.wait_for(auto._get_worker(), timeout=30)
    assert worker is made[1]
    assert made[0].closed, "the failed worker's processes are stopped"
    assert auto.unavailable is None
    gauges = auto.gauges()
    assert gauges["engine_up"] == 1 and gauges["engine_loaded"] == 1


async def test_an_engine_that_cannot_load_is_off_for_good() -> None:
    auto, made = captions([EngineUnavailable("no CTranslate2 model"), "never"])
    assert await auto._get_worker() is None
    assert await auto._get_worker() is None
    assert len(made) == 1, "no second start after EngineUnavailable"
    assert auto.unavailable == "no CTranslate2 model"
    assert auto.gauges()["engine_up"] == 0


async def test_callers_waiting_for_a_crashed_start_share_the_next_one() -> None:
    auto, made = captions([RuntimeError("died"), "whisper"])
    first, second = await asyncio.wait_for(
        asyncio.gather(auto._get_worker(), auto._get_worker()), timeout=30
    )
    assert first is second is made[1]
    assert len(made) == 2
