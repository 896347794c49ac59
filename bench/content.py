"""Content benchmark, transcoding (issue 18): the HLS ladder of a 60 s 1080p clip, ours
(PyAV in the video worker process, ``lms.video.process.run_ladder``) against the ffmpeg
command line (Debian's ``/usr/bin/ffmpeg``) with the same settings, in the same run.

The clip is made once by ffmpeg (``testsrc2`` 1920x1080 30 fps and a 440 Hz ``sine``,
libx264 CRF 18, AAC) into a temporary folder, so both sides read the same file. Both
produce the ladder our planner picks for it (240p..1080p, the same maxrate/bufsize, CRF 23,
``veryfast``, a keyframe forced every 2 s as IDR, no scene cuts, bilinear scaling, AAC
stereo 128k into every rendition, fMP4 HLS with 4 s segments): ffmpeg in one command that
decodes once and ``split``s to one scaler and encoder per rendition (its fastest form),
ours decoding once in one worker process. Reported: wall time and CPU time (the child
processes' user+system, from ``RUSAGE_CHILDREN``) per side, the ratios ours/ffmpeg (target:
wall <= 1.1), the output sizes, and the machine's load before the run. ``--per-rendition``
adds PeerTube's form (one ffmpeg run per rendition, one after another). Prints one JSON
object.

    flock /tmp/liveclass-bench.lock python bench/content.py              # ~4 minutes
    flock /tmp/liveclass-bench.lock python bench/content.py --seconds 6  # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import benchpath  # noqa: F401  (the tree and its kits on sys.path)

from kits.bench import progress
from lms.video import ladder, probe
from lms.video.ladder import Plan
from lms.video.process import WorkerLimits, run_ladder
from lms.video.transcode import CRF, PRESET

FFMPEG = os.environ.get("FFMPEG", "/usr/bin/ffmpeg")


def make_clip(path: Path, seconds: float) -> None:
    """The source clip: testsrc2 1080p30 and a sine tone, H.264 CRF 18 + AAC in MP4."""
    subprocess.run(
        [
            FFMPEG, "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "192k", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip


def _video_args(plan: Plan, index: int, rendition: ladder.Rendition) -> list[str]:
    gop = ladder.gop_frames(plan.fps, plan.gop_seconds)
    s = f":v:{index}"
    return [
        f"-c{s}", "libx264", f"-preset{s}", PRESET, f"-crf{s}", CRF,
        f"-maxrate{s}", str(rendition.maxrate), f"-bufsize{s}", str(rendition.bufsize),
        f"-g{s}", str(2 * gop), f"-keyint_min{s}", str(gop), f"-sc_threshold{s}", "0",
        f"-forced-idr{s}", "1", f"-x264-params{s}", "open-gop=0:scenecut=0",
        f"-force_key_frames{s}", f"expr:gte(t,n_forced*{plan.gop_seconds:g})",
        f"-pix_fmt{s}", "yuv420p", f"-r{s}", f"{plan.fps:g}",
    ]  # fmt: skip


def _hls_args(plan: Plan) -> list[str]:
    return [
        "-f", "hls", "-hls_time", f"{plan.segment_seconds:g}", "-hls_playlist_type", "vod",
        "-hls_segment_type", "fmp4", "-hls_flags", "independent_segments",
        "-hls_fmp4_init_filename", "init.mp4",
    ]  # fmt: skip


def _audio_args(plan: Plan) -> list[str]:
    if not plan.audio:
        return []
    return ["-c:a", "aac", "-b:a", str(ladder.AUDIO_BITRATE), "-ac", "2", "-ar", "48000"]


def ffmpeg_ladder(source: Path, folder: Path, plan: Plan) -> list[list[str]]:
    """One ffmpeg command: decode once, split, scale and encode each rendition, HLS out."""
    count = len(plan.renditions)
    labels = "".join(f"[v{i}]" for i in range(count))
    graph = [f"[0:v]split={count}{labels}"]
    for i, r in enumerate(plan.renditions):
        graph.append(f"[v{i}]scale={r.width}:{r.height}:flags=bilinear[o{i}]")
    command = [FFMPEG, "-v", "error", "-y", "-i", str(source), "-filter_complex", ";".join(graph)]
    for i, r in enumerate(plan.renditions):
        command += ["-map", f"[o{i}]"]
        if plan.audio:
            command += ["-map", "0:a:0"]
        command += _video_args(plan, i, r)
    command += _audio_args(plan)
    streams = " ".join(
        f"v:{i},a:{i},name:{r.name}" if plan.audio else f"v:{i},name:{r.name}"
        for i, r in enumerate(plan.renditions)
    )
    command += [*_hls_args(plan), "-var_stream_map", streams, "-master_pl_name", "master.m3u8"]
    command += ["-hls_segment_filename", str(folder / "%v" / "seg_%03d.m4s")]
    command += [str(folder / "%v" / "index.m3u8")]
    return [command]


def ffmpeg_per_rendition(source: Path, folder: Path, plan: Plan) -> list[list[str]]:
    """PeerTube's form: one ffmpeg run per rendition (each decodes the source again)."""
    commands = []
    for r in plan.renditions:
        (folder / r.name).mkdir(parents=True, exist_ok=True)
        command = [FFMPEG, "-v", "error", "-y", "-i", str(source), "-map", "0:v:0"]
        command += ["-vf", f"scale={r.width}:{r.height}:flags=bilinear"]
        command += _video_args(plan, 0, r)
        if plan.audio:
            command += ["-map", "0:a:0", *_audio_args(plan)]
        command += _hls_args(plan)
        command += ["-hls_segment_filename", str(folder / r.name / "seg_%03d.m4s")]
        commands.append([*command, str(folder / r.name / "index.m3u8")])
    return commands


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(run: Callable[[], None], folder: Path) -> dict[str, Any]:
    cpu, start = _children_cpu(), time.perf_counter()
    run()
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    files = [p for p in folder.rglob("*") if p.is_file()]
    segments = [p for p in files if p.suffix == ".m4s"]
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "bytes": sum(p.stat().st_size for p in files),
        "segments": len(segments),
    }


def _ours(source: Path, folder: Path) -> None:
    asyncio.run(run_ladder(source, folder, limits=WorkerLimits(nice=0)))


def _commands(commands: list[list[str]]) -> None:
    for command in commands:
        subprocess.run(command, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="clip length")
    parser.add_argument("--per-rendition", action="store_true", help="add PeerTube's form")
    parser.add_argument("--keep", type=Path, help="keep the clip and outputs in this folder")
    args = parser.parse_args()
    load = os.getloadavg()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-content-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        source = work / "source.mp4"
        progress(f"making a {args.seconds:g} s 1080p clip")
        make_clip(source, args.seconds)
        info = probe.probe(source)
        plan = ladder.plan(info)
        results: dict[str, Any] = {}
        runs: list[tuple[str, Callable[[Path], None]]] = [
            ("ffmpeg", lambda out: _commands(ffmpeg_ladder(source, out, plan))),
            ("ours", lambda out: _ours(source, out)),
        ]
        if args.per_rendition:
            per = "ffmpeg_per_rendition"
            runs.append((per, lambda out: _commands(ffmpeg_per_rendition(source, out, plan))))
        for name, run in runs:
            out = work / name
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            progress(f"{name}: transcoding")
            results[name] = _measure(lambda run=run, out=out: run(out), out)
            progress(f"{name}: {results[name]}")
        ours, ffmpeg = results["ours"], results["ffmpeg"]
        report = {
            "benchmark": "content.transcode",
            "machine": {
                "cpus": os.cpu_count(),
                "load_before": [round(x, 2) for x in load],
                "python": platform.python_version(),
                "ffmpeg": subprocess.run(
                    [FFMPEG, "-version"], capture_output=True, text=True, check=True
                ).stdout.split("\n")[0],
            },
            "source": {
                "seconds": info.duration,
                "size": f"{info.width}x{info.height}",
                "fps": info.fps,
                "bitrate": info.bitrate,
            },
            "ladder": [
                {"name": r.name, "size": f"{r.width}x{r.height}", "maxrate": r.maxrate}
                for r in plan.renditions
            ],
            "results": results,
            "ratio": {
                "wall": round(ours["wall_s"] / ffmpeg["wall_s"], 3),
                "cpu": round(ours["cpu_s"] / ffmpeg["cpu_s"], 3),
            },
            "target": {"wall_ratio_max": 1.1},
        }
        print(json.dumps(report, indent=2))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
