"""SFU benchmark: liveclass forwarding vs stock aiortc ``MediaRelay`` (decode + re-encode).

One publisher sends a pre-encoded ~500 kbps VP8 clip (640x480, 30 fps) to N subscribers
(default N = 5, 20, 50); the same run does the same with a stock aiortc server that shares
the track through ``MediaRelay`` (aiortc's own way: decode once, encode per subscriber).
Per N and server: server CPU seconds per forwarded track per second (/proc/<pid>/stat),
frames delivered, RTP packet loss seen by the subscribers, and for liveclass the latency
added between the publisher handing a frame to aiortc and a subscriber holding the same
bytes (frames are matched by fingerprint; the baseline re-encodes, so its frames cannot be).
A second baseline is the floor: a uvloop UDP relay that forwards the same packet rate to N
sockets and does nothing else (``sfukit/udp_floor.py``), the least any Python SFU can spend.

Subscribers are aiortc peers in ``--workers`` processes that count frames without decoding
(they tap their receivers with ``media.fastpath.passthrough``). Prints one JSON object. Usage::

    python bench/sfu.py [--subscribers 5,20,50] [--seconds 10] [--repeat 3] [--quick]

With ``--repeat R`` each N runs R times, liveclass and the baseline alternating, and the
run with the median server CPU is reported (every run's CPU beside it): on a shared VM
the machine's speed drifts by 10-20% within minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiortc
import orjson
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from benchpath import ROOT
from sfukit.clip import FPS, ClipTrack, load_clip
from websockets.asyncio.client import ClientConnection, connect

from kits.bench import BenchNode, percentile
from kits.servers import free_port
from kits.stats import cpu_seconds, machine_busy_seconds, rss_mb
from media.fastpath import passthrough

WORKER = ROOT / "bench" / "sfukit" / "subscribers.py"
RELAY = ROOT / "bench" / "sfukit" / "relay_server.py"
FLOOR = ROOT / "bench" / "sfukit" / "udp_floor.py"


def vp8_only(pc: RTCPeerConnection, track: ClipTrack) -> str:
    """Add ``track`` send-only with VP8 as the only video codec; return its transceiver."""
    transceiver = pc.addTransceiver(track, direction="sendonly")
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences(
        [c for c in codecs if c.mimeType.lower() in ("video/vp8", "video/rtx")]
    )
    return transceiver  # type: ignore[no-any-return]


async def lines(ws: ClientConnection) -> Any:
    """The JSON messages of a room channel (several per frame, newline-separated)."""
    async for frame in ws:
        for line in (frame if isinstance(frame, str) else frame.decode()).split("\n"):
            if line:
                yield orjson.loads(line)


# ------------------------------------------------------------------ the two servers


class Liveclass(BenchNode):
    """liveclass (``kits.bench.BenchNode``); each scenario gets a fresh open room and N
    student tokens."""

    def scenario(self, subscribers: int) -> dict[str, Any]:
        """A fresh room: the host's token and one token per subscriber."""
        room_id = self.create_room("sfu bench")
        return {
            "mode": "liveclass",
            "base": self.ws_url,
            "room": room_id,
            "host_token": self.join(room_id)["token"],
            "tokens": [self.join(room_id, self.student(i))["token"] for i in range(subscribers)],
        }

    def publisher(self, job: dict[str, Any], track: ClipTrack) -> Publisher:
        return RoomPublisher(job, track)


class Relay:
    """The stock aiortc ``MediaRelay`` server in its own process; restarted per scenario."""

    name = "aiortc_mediarelay"

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def scenario(self, subscribers: int) -> dict[str, Any]:
        self._stop()
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(RELAY), str(self.port)], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"
        url = f"ws://127.0.0.1:{self.port}"
        return {"mode": "relay", "url": url, "tokens": [""] * subscribers}

    def publisher(self, job: dict[str, Any], track: ClipTrack) -> Publisher:
        return RelayPublisher(job, track)


# ------------------------------------------------------------------ publishers


class Publisher(AbstractAsyncContextManager["Publisher"]):
    """The publishing peer, sending the clip; ``sent`` is the clip track's send log."""

    def __init__(self, job: dict[str, Any], track: ClipTrack) -> None:
        self.job = job
        self.track = track
        self.pc = RTCPeerConnection()
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None

    async def offer(self) -> tuple[str, str]:
        transceiver = vp8_only(self.pc, self.track)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp), str(transceiver.mid)

    async def __aexit__(self, *exc: object) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()
        await self.pc.close()


class RoomPublisher(Publisher):
    """The host on the room channel: ``media.publish`` and the answer in the ack."""

    async def __aenter__(self) -> RoomPublisher:
        job = self.job
        url = f"{job['base']}/ws/rooms/{job['room']}?token={job['host_token']}"
        self.ws = await connect(url, max_size=None, compression=None, proxy=None)
        sdp, mid = await self.offer()
        publish = {"type": "media.publish", "ref": "pub", "sdp": sdp}
        publish["tracks"] = [{"mid": mid, "source": "camera"}]
        await self.ws.send(orjson.dumps(publish).decode())
        async for message in lines(self.ws):
            if message.get("ref") == "pub":
                if message.get("type") != "ack":
                    raise RuntimeError(f"media.publish failed: {message}")
                answer = RTCSessionDescription(sdp=message["sdp"], type="answer")
                await self.pc.setRemoteDescription(answer)
                break
        self.reader = asyncio.create_task(self._drain())
        return self

    async def _drain(self) -> None:
        assert self.ws is not None
        async for _ in lines(self.ws):
            pass


class RelayPublisher(Publisher):
    """The publisher of the baseline server."""

    async def __aenter__(self) -> RelayPublisher:
        self.ws = await connect(self.job["url"], max_size=None, compression=None, proxy=None)
        sdp, _ = await self.offer()
        await self.ws.send(json.dumps({"role": "publish", "sdp": sdp}))
        answer = json.loads(await self.ws.recv())
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        return self


# ------------------------------------------------------------------ one scenario


def start_workers(job: dict[str, Any], workers: int) -> list[subprocess.Popen[str]]:
    """Spread the subscribers over ``workers`` processes."""
    procs = []
    tokens = job["tokens"]
    for index in range(workers):
        share = tokens[index::workers]
        if not share:
            continue
        proc = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps({**job, "tokens": share}) + "\n")
        proc.stdin.flush()
        procs.append(proc)
    return procs


def profile(pid: int, label: str, args: argparse.Namespace) -> subprocess.Popen[bytes] | None:
    """With ``--profile DIR``: py-spy samples the server for the measured window."""
    if not args.profile:
        return None
    out = Path(args.profile) / f"{label}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            "py-spy",
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(args.seconds)),
            "--rate",
            "1000",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def latencies(sent: dict[str, list[float]], arrivals: list[list[Any]]) -> list[float]:
    """Per delivered frame: arrival minus the latest send of the same bytes before it."""
    out = []
    for arrived, fingerprint in arrivals:
        before = [t for t in sent.get(fingerprint, []) if t <= arrived]
        if before:
            out.append((arrived - max(before)) * 1000)
    return out


async def run_scenario(
    server: Liveclass | Relay, subscribers: int, args: argparse.Namespace, clip: list[bytes]
) -> dict[str, Any]:
    job = await asyncio.to_thread(server.scenario, subscribers)
    track = ClipTrack(clip)
    async with server.publisher(job, track):
        procs = start_workers(job, args.workers)
        loop = asyncio.get_running_loop()
        ready = 0
        for proc in procs:
            assert proc.stdout is not None
            ready += json.loads(await loop.run_in_executor(None, proc.stdout.readline))["ready"]
        await asyncio.sleep(args.warmup)
        own = os.getpid()
        cpu0, mine0, busy0, start = (
            cpu_seconds(server.pid),
            cpu_seconds(own),
            machine_busy_seconds(),
            time.monotonic(),
        )
        workers0 = sum(cpu_seconds(p.pid) for p in procs)
        spy = profile(server.pid, f"{server.name}-{subscribers}", args)
        await asyncio.sleep(args.seconds)
        if spy is not None:
            spy.wait(args.seconds + 30)
        end = time.monotonic()
        cpu = cpu_seconds(server.pid) - cpu0
        workers_cpu = sum(cpu_seconds(p.pid) for p in procs) - workers0
        mine = cpu_seconds(own) - mine0
        busy = machine_busy_seconds() - busy0
        rss = rss_mb(server.pid)
        reports: list[dict[str, Any]] = []
        for proc in procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps({"window": [start, end]}) + "\n")
            proc.stdin.flush()
            reports.extend(json.loads(await loop.run_in_executor(None, proc.stdout.readline)))
        for proc in procs:
            proc.wait(30)
    elapsed = end - start
    if not subscribers:  # the publisher alone: what receiving costs before any forwarding
        return {
            "subscribers": 0,
            "seconds": round(elapsed, 2),
            "server_cores": round(cpu / elapsed, 3),
        }
    sent_frames = elapsed * FPS
    frames = [len(r["arrivals"]) for r in reports]
    received = sum(r["rtp_received"] for r in reports)
    expected = sum(r["rtp_expected"] for r in reports)
    lat = latencies(track.sent, [a for r in reports for a in r["arrivals"]])
    is_ours = isinstance(server, Liveclass)
    return {
        "subscribers": subscribers,
        "subscribers_ready": ready,
        "seconds": round(elapsed, 2),
        "server_cpu_seconds": round(cpu, 3),
        "server_cores": round(cpu / elapsed, 3),
        "cpu_per_track_second": round(cpu / (subscribers * elapsed), 5),
        "frames_delivered_fraction": round(statistics.mean(frames) / sent_frames, 3),
        "cpu_ms_per_delivered_frame": round(1000 * cpu / sum(frames), 4) if sum(frames) else None,
        "rtp_packet_loss": round(1 - received / expected, 4) if expected else None,
        "latency_ms_p50": percentile(lat, 0.5) if is_ours else None,
        "latency_ms_p99": percentile(lat, 0.99) if is_ours else None,
        "server_rss_mb": round(rss, 1),
        "other_cpu_on_machine": round(max(0.0, busy - cpu - workers_cpu - mine) / elapsed, 3),
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median server CPU, and every run's CPU beside it (``--repeat``)."""
    ordered = sorted(runs, key=lambda r: r["server_cores"])
    figures = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        figures["server_cores_of_each_run"] = [r["server_cores"] for r in runs]
    return figures


async def direct_latency(clip: list[bytes], args: argparse.Namespace) -> dict[str, Any]:
    """The reference path: the publisher straight to one subscriber peer, no server.

    Both ends are the same aiortc code as in the scenarios (its jitter buffer emits a frame
    when the next one starts), so ``ours - direct`` is what the server adds.
    """
    from sfukit.subscribers import Subscriber

    passthrough.install()
    track = ClipTrack(clip)
    pub, sub = RTCPeerConnection(), Subscriber()
    try:
        vp8_only(pub, track)
        await pub.setLocalDescription(await pub.createOffer())
        answer = await sub.answer(pub.localDescription.sdp)
        await pub.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.wait_for(sub.first_frame.wait(), 30)
        await asyncio.sleep(args.warmup)
        start = time.monotonic()
        await asyncio.sleep(args.seconds)
        report = sub.report(start, time.monotonic())
    finally:
        await pub.close()
        await sub.pc.close()
    lat = latencies(track.sent, report["arrivals"])
    return {"latency_ms_p50": percentile(lat, 0.5), "latency_ms_p99": percentile(lat, 0.99)}


def udp_floor(subscribers: int, args: argparse.Namespace) -> dict[str, Any]:
    """The bare uvloop UDP relay at the same packet rate (``sfukit/udp_floor.py``)."""
    command = [sys.executable, str(FLOOR), str(subscribers), str(args.seconds), str(args.warmup)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    figures: dict[str, Any] = json.loads(done.stdout)
    figures["server_cores"] = round(figures["server_cores"], 4)
    return figures


async def run(args: argparse.Namespace) -> dict[str, Any]:
    clip = load_clip()
    counts = [int(n) for n in args.subscribers.split(",")]
    result: dict[str, Any] = {
        "benchmark": "sfu",
        "workload": "1 publisher, pre-encoded VP8 640x480@30fps ~500 kbps, N subscribers",
        "aiortc": aiortc.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as tmp, Liveclass(Path(tmp)) as ours, Relay() as relay:
        for n in counts:
            servers = [
                server
                for server in (ours, relay)
                if not (server is relay and n > args.baseline_max)
                and not (args.only and server.name != args.only)
            ]
            samples: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
            for _ in range(args.repeat):  # alternating, so drift hits both servers alike
                for server in servers:
                    figures = await run_scenario(server, n, args, clip)
                    samples[server.name].append(figures)
                    print(json.dumps({server.name: figures}), file=sys.stderr, flush=True)
            for name, runs in samples.items():
                result["runs"].setdefault(str(n), {})[name] = median_run(runs)
            if not args.only:
                floor = await asyncio.to_thread(udp_floor, n, args)
                result["runs"].setdefault(str(n), {})["udp_relay_floor"] = floor
                print(json.dumps({"udp_relay_floor": floor}), file=sys.stderr, flush=True)
    direct = await direct_latency(clip, args)
    result["direct_peer_to_peer"] = direct
    for figures in result["runs"].values():
        ours = figures.get("liveclass", {})
        if ours.get("latency_ms_p50") is not None and direct["latency_ms_p50"] is not None:
            ours["added_latency_ms_p50"] = round(
                ours["latency_ms_p50"] - direct["latency_ms_p50"], 2
            )
            ours["added_latency_ms_p99"] = round(
                ours["latency_ms_p99"] - direct["latency_ms_p99"], 2
            )
        floor = figures.get("udp_relay_floor", {}).get("server_cores")
        if floor and ours.get("server_cores"):
            ours["cores_over_udp_relay_floor"] = round(ours["server_cores"] / floor, 1)
        if "aiortc_mediarelay" in figures and "liveclass" in figures:
            base = figures["aiortc_mediarelay"]["cpu_per_track_second"]
            mine = figures["liveclass"]["cpu_per_track_second"]
            figures["baseline_cpu_per_track_over_ours"] = round(base / mine, 1) if mine else None
            base = figures["aiortc_mediarelay"]["cpu_ms_per_delivered_frame"]
            mine = figures["liveclass"]["cpu_ms_per_delivered_frame"]
            ratio = round(base / mine, 1) if base and mine else None
            figures["baseline_cpu_per_delivered_frame_over_ours"] = ratio
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", default="5,20,50")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-max", type=int, default=50)
    parser.add_argument(
        "--repeat", type=int, default=1, help="alternating runs per N; the median is reported"
    )
    parser.add_argument("--quick", action="store_true", help="N=5 only, 5 s")
    parser.add_argument("--only", default="", help="liveclass or aiortc_mediarelay")
    parser.add_argument("--profile", default="", help="directory for py-spy samples")
    args = parser.parse_args()
    if args.quick:
        args.subscribers, args.seconds, args.warmup = "5", 5.0, 2.0
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
