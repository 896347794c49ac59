"""The worker process: results, typed errors for bad files, cancellation, the wall-clock
cap and a child killed by a signal. Every file the server reads goes through it."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from video_kit import clip

from lms.video.errors import (
    NoVideoStream,
    TranscodeFailed,
    TranscodeTimeout,
    UnreadableVideo,
    VideoError,
    VideoTooLarge,
)
from lms.video.process import WorkerLimits, run_ladder


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    return clip(folder / "clip.mp4", width=320, height=180, seconds=2, channels=2)


async def test_a_ladder_through_the_worker_with_progress(source: Path, tmp_path: Path) -> None:
    shares: list[float] = []

    async def progress(share: float) -> None:
        shares.append(share)

    result = await run_ladder(source, tmp_path / "out", progress=progress)
    assert [o.name for o in result.renditions] == ["180p"]
    assert (tmp_path / "out" / "master.m3u8").is_file()
    assert shares[-1] == 1.0 and shares == sorted(shares)


def _y4m(path: Path, width: int, height: int) -> Path:
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F30:1 C420jpeg\nFRAME\n".encode() + b"\0" * 64)
    return path


async def test_bad_files_end_as_typed_errors(source: Path, tmp_path: Path) -> None:
    data = source.read_bytes()  # noqa: ASYNC240 - a small file, in a test
    (tmp_path / "truncated.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.mp4").write_bytes(b"hello, this is not a video\n" * 10)
    (tmp_path / "empty.mp4").write_bytes(b"")
    cases: dict[Path, type[VideoError]] = {
        tmp_path / "truncated.mp4": UnreadableVideo,
        tmp_path / "text.mp4": UnreadableVideo,
        tmp_path / "empty.mp4": UnreadableVideo,
        tmp_path / "missing.mp4": UnreadableVideo,
        _y4m(tmp_path / "thin.y4m", 100000, 10): VideoTooLarge,
        _y4m(tmp_path / "bomb.y4m", 8000, 8000): VideoTooLarge,
    }
    for path, kind in cases.items():
        with pytest.raises(kind) as raised:
            await run_ladder(path, tmp_path / "out")
        assert isinstance(raised.value, VideoError)
        if kind is UnreadableVideo:
            assert raised.value.detail.startswith("the file is not a video we can read: ")
    sound = clip(tmp_path / "sound.mp4", width=64, height=64, seconds=1, channels=2)
    _strip_video(sound, tmp_path / "sound.m4a")
    with pytest.raises(NoVideoStream, match="no video"):
        await run_ladder(tmp_path / "sound.m4a", tmp_path / "out")


def _strip_video(source: Path, target: Path) -> None:
    import av
    import av.container

    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        assert isinstance(inp, av.container.InputContainer)
        assert isinstance(out, av.container.OutputContainer)
        stream = out.add_stream_from_template(inp.streams.audio[0])
        for packet in inp.demux(inp.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)


async def test_a_file_cut_short_says_so(tmp_path: Path) -> None:
    whole = clip(tmp_path / "whole.mkv", width=160, height=90, seconds=8, channels=0)
    data = whole.read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 3])
    with pytest.raises(UnreadableVideo):
        await run_ladder(tmp_path / "cut.mkv", tmp_path / "out")


async def test_cancelling_kills_the_child(source: Path, tmp_path: Path) -> None:
    started: list[int] = []
    task = asyncio.create_task(run_ladder(source, tmp_path / "out", on_start=started.append))
    await asyncio.sleep(0)
    for _ in range(500):
        if started:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):
        os.kill(started[0], 0)


async def test_the_wall_clock_cap_kills_the_child(source: Path, tmp_path: Path) -> None:
    started: list[int] = []
    limits = WorkerLimits(wall_seconds=0.05)
    with pytest.raises(TranscodeTimeout, match="longer than"):
        await run_ladder(source, tmp_path / "out", limits=limits, on_start=started.append)
    with pytest.raises(ProcessLookupError):
        os.kill(started[0], 0)


async def test_a_child_killed_by_a_signal_is_a_typed_failure(source: Path, tmp_path: Path) -> None:
    def kill(pid: int) -> None:
        os.kill(pid, signal.SIGSEGV)

    with pytest.raises(TranscodeFailed, match="SIGSEGV"):
        await run_ladder(source, tmp_path / "out", on_start=kill)
