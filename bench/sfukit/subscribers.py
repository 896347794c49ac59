"""A worker process hosting many aiortc subscriber peers that count frames without decoding.

Started by ``bench/sfu.py`` with a JSON job on stdin; prints ``ready`` once every subscriber
has received a frame, then waits for a ``{"window": [t0, t1]}`` line and answers with one
JSON line of what arrived in that window. Receivers are tapped with the SFU's own
pass-through (``media.fastpath.passthrough``), so subscribers spend no CPU decoding.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.jitterbuffer import JitterFrame  # noqa: E402
from aiortc.rtcrtpparameters import RTCRtpCodecParameters  # noqa: E402
from aiortc.rtp import RtpPacket  # noqa: E402
from sfukit.clip import digest  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from media.fastpath import passthrough  # noqa: E402


@dataclass
class Subscriber:
    """One subscriber peer: what it received and when."""

    pc: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    arrivals: list[tuple[float, str]] = field(default_factory=list)
    seqs: dict[int, set[int]] = field(default_factory=dict)  # extended (unwrapped) numbers
    last_seq: dict[int, int] = field(default_factory=dict)
    first_frame: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.pc.on("track", self._on_track)

    def _on_track(self, track: Any) -> None:
        for transceiver in self.pc.getTransceivers():
            receiver = transceiver.receiver
            if receiver.track is track and not passthrough.tapped(receiver):
                passthrough.tap_receiver(receiver, self._frame, lambda: None)
                passthrough.hook_rtp(receiver, self._packet)

    def _frame(self, _codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
        self.arrivals.append((time.monotonic(), digest(frame.data)))
        self.first_frame.set()

    def _packet(self, packet: RtpPacket) -> None:
        if packet.payload_type < 96 or packet.payload_type > 127:
            return
        # Sequence numbers are 16-bit and start at random: extend them past each wrap, or
        # a stream that wraps would look like ~65,000 lost packets.
        last = self.last_seq.get(packet.ssrc)
        seq = packet.sequence_number
        if last is not None:
            seq = last + ((packet.sequence_number - last + 0x8000) & 0xFFFF) - 0x8000
        self.last_seq[packet.ssrc] = max(seq, last) if last is not None else seq
        self.seqs.setdefault(packet.ssrc, set()).add(seq)

    async def answer(self, sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    def report(self, start: float, end: float) -> dict[str, Any]:
        inside = [(t, d) for t, d in self.arrivals if start <= t <= end]
        received = expected = 0
        for seqs in self.seqs.values():
            if seqs:
                received += len(seqs)
                expected += max(seqs) - min(seqs) + 1
        return {"arrivals": inside, "rtp_received": received, "rtp_expected": expected}


async def _messages(ws: ClientConnection) -> Any:
    async for frame in ws:
        for line in (frame if isinstance(frame, str) else frame.decode()).split("\n"):
            if line:
                yield orjson.loads(line)


async def liveclass_signalling(sub: Subscriber, base: str, room: str, token: str) -> None:
    """The room channel: subscribe, then answer every ``media.offer`` the server sends."""
    url = f"{base}/ws/rooms/{room}?{urlencode({'token': token})}"
    async with connect(url, max_size=None, compression=None, proxy=None) as ws:
        await ws.send(orjson.dumps({"type": "media.subscribe", "ref": "s"}).decode())
        async for message in _messages(ws):
            if message.get("type") == "media.offer":
                sdp = await sub.answer(message["sdp"])
                reply = {"type": "media.answer", "sdp": sdp, "version": message["version"]}
                await ws.send(orjson.dumps(reply).decode())
            elif message.get("type") == "error":
                print(f"room channel error: {message}", file=sys.stderr)


async def baseline_signalling(sub: Subscriber, url: str) -> None:
    """The baseline server: ask for an offer, answer it, keep the socket open."""
    async with connect(url, max_size=None, compression=None, proxy=None) as ws:
        await ws.send(json.dumps({"role": "subscribe"}))
        offer = json.loads(await ws.recv())
        await ws.send(json.dumps({"sdp": await sub.answer(offer["sdp"])}))
        await ws.wait_closed()


async def main() -> None:
    passthrough.install()
    job = json.loads(sys.stdin.readline())
    subs = [Subscriber() for _ in job["tokens"]]
    if job["mode"] == "liveclass":
        tasks = [
            asyncio.create_task(liveclass_signalling(sub, job["base"], job["room"], token))
            for sub, token in zip(subs, job["tokens"], strict=True)
        ]
    else:
        tasks = [asyncio.create_task(baseline_signalling(sub, job["url"])) for sub in subs]
    waits = [asyncio.create_task(sub.first_frame.wait()) for sub in subs]
    await asyncio.wait(waits, timeout=job.get("ready_timeout", 60))
    print(json.dumps({"ready": sum(s.first_frame.is_set() for s in subs)}), flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start, end = json.loads(line)["window"]
    print(json.dumps([sub.report(start, end) for sub in subs]), flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(sub.pc.close() for sub in subs), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())
