"""Automatic captions benchmark: N speakers through a real node, against offline transcription.

N aiortc peers (``--speakers``, default 1 and 2) each publish a microphone track that speaks
espeak-ng sentences (a different order per speaker, 1.5 s of silence after each) through a
real liveclass node whose room has automatic captions on; a viewer on the room channel
times every ``caption.line``. Reported per N and partial interval:

- caption delay, p50 and p99: from the end of an utterance's speech (its last voiced 20 ms
  frame handed to the sender) to the viewer holding the line;
- word error rate of the lines against the sentences;
- CPU per captioned stream: the worker processes' CPU plus what the node itself spent more
  than in the same run with captions off (Opus decoding, the tap), per second of audio;
- whether one core keeps up: the worker's CPU share and the audio it had to drop.

The baseline, in the same run: the same engine (same model, threads, window) transcribing
the same audio (decoded from the same Opus packets) offline, utterance by utterance: its
CPU seconds per second of audio (real-time factor) and WER. ``cost_ratio`` is live CPU per
audio second over that. Prints one JSON object. Usage::

    python bench/captions.py [--speakers 1,2] [--partials 0,1.5] [--seconds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import orjson
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from benchpath import ROOT
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(ROOT / "tests" / "captions"))

from captions_kit import SENTENCES, opus_packets, silence, spoken, worker_processes

from kits.metrics import parse_gauges
from kits.servers import LiveServer
from kits.stats import cpu_seconds, machine_busy_seconds
from media.captions.config import CaptionConfig, load_engine
from media.captions.decode import OpusDecoder
from media.captions.scoring import word_errors
from media.captions.segmenter import Endpointing

PASSWORD = "bench-password-123"
FRAME = 0.02
LEAD = 0.3  # silence before each sentence
TAIL = 1.5  # silence after it
SPEECH_DBFS = -42.0


@dataclass
class Utterance:
    """One sentence as sent: its Opus packets and where its speech ends."""

    text: str
    packets: list[bytes]
    speech_end: int  # index of the packet after the last voiced one
    seconds: float


def last_voiced(pcm: bytes) -> float:
    """Seconds into ``pcm`` (16 kHz s16) after its last 20 ms frame above the speech level."""
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    frames = samples[: samples.size - samples.size % 320].reshape(-1, 320)
    power = np.mean(frames**2, axis=1) / (32768.0**2)
    voiced = np.nonzero(10 * np.log10(np.maximum(power, 1e-12)) >= SPEECH_DBFS)[0]
    return float((voiced[-1] + 1) * FRAME) if voiced.size else 0.0


def utterances() -> list[Utterance]:
    found = []
    for text in SENTENCES:
        speech = spoken(text)
        pcm = silence(LEAD) + speech + silence(TAIL)
        packets = opus_packets(pcm)
        end = math.ceil((LEAD + last_voiced(speech)) / FRAME)
        found.append(Utterance(text, packets, end, len(packets) * FRAME))
    return found


# ------------------------------------------------------------------ the offline baseline


def offline(items: list[Utterance], config: CaptionConfig) -> dict[str, Any]:
    """The engine on the same audio (decoded from the same packets), finals only, here."""
    engine = load_engine(config)
    pcms = []
    for item in items:
        decoder = OpusDecoder()
        pcms.append(b"".join(decoder.decode(p) for p in item.packets) + decoder.flush())
    engine.open_stream().accept(pcms[0][:32000])  # warm-up
    errors = words = 0
    audio = 0.0
    started = time.process_time()
    for item, pcm in zip(items, pcms, strict=True):
        stream = engine.open_stream()
        out = []
        for offset in range(0, len(pcm), 32000):
            out += stream.accept(pcm[offset : offset + 32000])
        out += stream.flush()
        text = " ".join(c.text for c in out if c.final)
        wrong, total = word_errors(item.text, text)
        errors, words, audio = errors + wrong, words + total, audio + len(pcm) / 32000
    cpu = time.process_time() - started
    engine.close()
    return {
        "audio_seconds": round(audio, 1),
        "cpu_seconds": round(cpu, 2),
        "real_time_factor": round(cpu / audio, 4),
        "wer": round(errors / words, 3),
    }


# ------------------------------------------------------------------ the live run


class Speaker(MediaStreamTrack):
    """Sends the utterances' Opus packets in real time, in a loop; notes speech ends."""

    kind = "audio"

    def __init__(self, items: list[Utterance], first: int) -> None:
        super().__init__()
        self.plan = [(u, n) for u in items[first:] + items[:first] for n in range(len(u.packets))]
        self.sent = 0
        self.started: float | None = None
        self.ends: list[tuple[float, str]] = []  # (wall time speech ended, sentence)

    async def recv(self) -> av.Packet[Any]:
        if self.started is None:
            self.started = time.monotonic()
        delay = self.started + self.sent * FRAME - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        item, index = self.plan[self.sent % len(self.plan)]
        if index == item.speech_end:
            self.ends.append((time.time(), item.text))
        packet = av.Packet(item.packets[index])
        packet.pts = self.sent * 960
        packet.time_base = fractions.Fraction(1, 48_000)
        self.sent += 1
        return packet


async def lines(ws: ClientConnection) -> Any:
    async for frame in ws:
        for line in (frame if isinstance(frame, str) else frame.decode()).split("\n"):
            if line:
                yield orjson.loads(line)


async def request(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    ref = f"r{time.monotonic_ns()}"
    await ws.send(orjson.dumps({**message, "ref": ref}).decode())
    async for reply in lines(ws):
        if reply.get("ref") == ref and reply["type"] in ("ack", "error"):
            return dict(reply)
    raise RuntimeError("closed")


@dataclass
class Node:
    server: LiveServer
    http: httpx.Client
    host: dict[str, str]
    people: list[dict[str, str]] = field(default_factory=list)

    def login(self, email: str) -> dict[str, str]:
        got = self.http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        got.raise_for_status()
        return {"Authorization": f"Bearer {got.json()['access_token']}"}

    def person(self, index: int) -> dict[str, str]:
        while len(self.people) <= index:
            email = f"speaker{len(self.people)}@example.org"
            body = {"email": email, "password": PASSWORD, "name": f"Speaker {len(self.people)}"}
            self.http.post("/api/v1/auth/register", json=body).raise_for_status()
            self.people.append(self.login(email))
        return self.people[index]

    def join(self, room: str, headers: dict[str, str]) -> str:
        got = self.http.post(f"/api/v1/rooms/{room}/join", headers=headers)
        got.raise_for_status()
        return f"{self.server.ws_url}/ws/rooms/{room}?token={got.json()['token']}"

    def gauges(self) -> dict[str, float]:
        return parse_gauges(self.http.get("/metrics").text, "captions")


def start_node(data_dir: Path, partials: float) -> Node:
    env = {
        "LIVECLASS_LOG_LEVEL": "warning",
        "LIVECLASS_CAPTIONS_PARTIAL_INTERVAL_SECONDS": str(partials),
        "LIVECLASS_CAPTIONS_WORKERS": "1",
        "LIVECLASS_CAPTIONS_THREADS": "1",
    }
    server = LiveServer(data_dir=data_dir, env=env)
    server.start(timeout=120)
    run_env = {**os.environ, "LIVECLASS_DATA_DIR": str(data_dir), **env}
    cmd = [sys.executable, "-m", "server", "create-admin", "--email", "host@example.org"]
    subprocess.run(
        [*cmd, "--password", PASSWORD], cwd=ROOT, env=run_env, check=True, capture_output=True
    )
    http = httpx.Client(base_url=server.url, timeout=60)
    node = Node(server, http, {})
    node.host = node.login("host@example.org")
    return node


async def live(
    node: Node, items: list[Utterance], speakers: int, seconds: float, *, captions: bool
) -> dict[str, Any]:
    """One run: ``speakers`` peers talk for ``seconds``; the viewer times the lines."""
    room = node.http.post(
        "/api/v1/rooms", json={"title": "captions bench", "open": True}, headers=node.host
    )
    room.raise_for_status()
    room_id = room.json()["id"]
    host = await connect(node.join(room_id, node.host), max_size=None)
    await anext(aiter(lines(host)))  # welcome
    if captions:
        assert (await request(host, {"type": "caption.auto", "on": True}))["type"] == "ack"
        for _ in range(600):
            if node.gauges().get("engine_loaded") == 1:
                break
            await asyncio.sleep(0.2)
    got: list[tuple[float, dict[str, Any]]] = []

    async def watch() -> None:
        async for message in lines(host):
            if message.get("type") == "caption.line":
                got.append((time.time(), message["line"]))

    watcher = asyncio.create_task(watch())
    peers, tracks, sockets, owners = [], [], [], {}
    for index in range(speakers):
        ws = await connect(node.join(room_id, node.person(index)), max_size=None)
        welcome = await anext(aiter(lines(ws)))
        owners[welcome["you"]["user_id"]] = index
        pc = RTCPeerConnection()
        track = Speaker(items, index * 2 % len(items))
        transceiver = pc.addTransceiver(track, direction="sendonly")
        opus = [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.name == "opus"]
        transceiver.setCodecPreferences(opus)
        await pc.setLocalDescription(await pc.createOffer())
        spec = [{"mid": transceiver.mid, "source": "microphone"}]
        reply = await request(
            ws, {"type": "media.publish", "sdp": pc.localDescription.sdp, "tracks": spec}
        )
        assert reply["type"] == "ack", reply
        await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        peers.append(pc)
        tracks.append(track)
        sockets.append(ws)
    pid = node.server.process.pid  # type: ignore[union-attr]
    workers = worker_processes(pid)
    busy0 = machine_busy_seconds()
    cpu0 = cpu_seconds(pid), sum(cpu_seconds(w) for w in workers), time.monotonic()
    await asyncio.sleep(seconds)
    cpu1 = cpu_seconds(pid), sum(cpu_seconds(w) for w in workers), time.monotonic()
    busy = machine_busy_seconds() - busy0
    await asyncio.sleep(4)  # the last utterances' lines
    gauges = node.gauges()
    for pc in peers:
        await pc.close()
    for ws in (*sockets, host):
        await ws.close()
    watcher.cancel()
    wall = cpu1[2] - cpu0[2]
    result: dict[str, Any] = {
        "speakers": speakers,
        "wall_seconds": round(wall, 1),
        "node_cpu_seconds": round(cpu1[0] - cpu0[0], 2),
        "worker_cpu_seconds": round(cpu1[1] - cpu0[1], 2),
        # The whole machine's busy share (every core, everyone's work): above ~0.8 the
        # delays measure the machine more than the captions.
        "machine_busy_share": round(busy / (wall * (os.cpu_count() or 1)), 2),
    }
    if not captions:
        return result
    delays, errors, words = [], 0, 0
    for at, line in got:
        track = tracks[owners[line["speaker_id"]]]
        before = [(end, text) for end, text in track.ends if end <= at]
        if not before:
            continue
        end, text = before[-1]
        delays.append(at - end)
        wrong, total = word_errors(text, line["text"])
        errors, words = errors + wrong, words + total
    delays.sort()
    audio = speakers * wall
    result |= {
        "lines": len(got),
        "delay_p50_seconds": round(statistics.median(delays), 2) if delays else None,
        "delay_p99_seconds": round(delays[min(len(delays) - 1, int(len(delays) * 0.99))], 2)
        if delays
        else None,
        "wer": round(errors / words, 3) if words else None,
        "worker_cpu_share": round((cpu1[1] - cpu0[1]) / wall, 3),
        "dropped_seconds": gauges.get("dropped_seconds_total", 0.0),
        "audio_seconds": round(audio, 1),
    }
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speakers", default="1,2")
    parser.add_argument("--partials", default="0,1.5", help="partial intervals (0: finals only)")
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    counts = [int(n) for n in args.speakers.split(",")]
    intervals = [float(p) for p in args.partials.split(",")]
    items = utterances()
    baseline = offline(items, CaptionConfig(endpointing=Endpointing(partial_interval=0)))
    runs = []
    for interval in intervals:
        with tempfile.TemporaryDirectory() as folder:
            node = start_node(Path(folder), interval)
            try:
                for count in counts:
                    off = await live(node, items, count, args.seconds, captions=False)
                    on = await live(node, items, count, args.seconds, captions=True)
                    extra = max(0.0, on["node_cpu_seconds"] - off["node_cpu_seconds"])
                    cost = (on["worker_cpu_seconds"] + extra) / on["audio_seconds"]
                    on |= {
                        "partial_interval": interval,
                        "node_cpu_seconds_captions_off": off["node_cpu_seconds"],
                        "cpu_per_audio_second": round(cost, 4),
                        "cpu_per_stream": round(cost, 4),
                        "cost_ratio": round(cost / baseline["real_time_factor"], 2),
                        "engine_cost_ratio": round(
                            on["worker_cpu_seconds"]
                            / on["audio_seconds"]
                            / baseline["real_time_factor"],
                            2,
                        ),
                    }
                    runs.append(on)
            finally:
                node.http.close()
                node.server.stop()
    report = {
        "benchmark": "captions",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds_per_run": args.seconds,
        "baseline_offline": baseline,
        "runs": runs,
        "targets": {"delay_p50_seconds": 2.0, "cost_ratio": 1.3, "speakers_per_core": 2},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
