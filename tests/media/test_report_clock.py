"""Sender reports on one shared timer: a real peer gets aiortc's SR from an active sender,
nothing from an idle one, and a BYE when the sender stops."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import Any

import av
from aiortc import RTCPeerConnection

from kits.peers import forwarding_sender
from media.fastpath import passthrough, report_clock


def frame(data: bytes, pts: int) -> av.Packet:
    packet = av.Packet(data)
    packet.pts = pts
    packet.time_base = Fraction(1, 90_000)
    return packet


async def wait_for(condition: Any, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_reports_come_from_active_senders_only_and_end_with_bye() -> None:
    clock = report_clock.ReportClock()
    sending, receiving = RTCPeerConnection(), RTCPeerConnection()
    got: list[bytes] = []
    ended: list[str] = []
    try:
        tracks = {}
        for name in ("active", "idle"):
            track, transceiver = forwarding_sender(sending)
            report_clock.check_internals(transceiver.sender)
            report_clock.install(transceiver.sender, clock)
            tracks[name] = (track, transceiver)

        @receiving.on("track")
        def on_track(remote: Any) -> None:
            transceiver = next(t for t in receiving.getTransceivers() if t.receiver.track is remote)
            name = "active" if transceiver.mid == tracks["active"][1].mid else "idle"
            passthrough.tap_receiver(
                transceiver.receiver, lambda _c, f: got.append(f.data), lambda: ended.append(name)
            )

        await sending.setLocalDescription(await sending.createOffer())
        await receiving.setRemoteDescription(sending.localDescription)
        await receiving.setLocalDescription(await receiving.createAnswer())
        await sending.setRemoteDescription(receiving.localDescription)
        await wait_for(lambda: len(clock.senders) == 2)

        active, _ = tracks["active"]
        for i in range(5):
            active.queue.push(frame(bytes([0x10]) + bytes([i]) * 2000, 3000 * i), keyframe=True)
        await wait_for(lambda: len(got) == 5)
        ticks = clock.ticks
        await wait_for(lambda: clock.ticks >= ticks + 2)  # two rounds of reports at least

        reports: dict[str, Any] = {}
        for transceiver in receiving.getTransceivers():
            stats = await transceiver.receiver.getStats()
            name = "active" if transceiver.mid == tracks["active"][1].mid else "idle"
            reports[name] = [s for s in stats.values() if s.type == "remote-outbound-rtp"]
        assert [r.packetsSent for r in reports["active"]] == [10]  # 5 frames x 2 packets
        assert reports["idle"] == [], "an idle sender sent a sender report"
        # The report's LSR is what lets the sender compute a round-trip time from an RR.
        sender = tracks["active"][1].sender
        assert getattr(sender, report_clock.LSR) is not None

        await sending.close()
        await wait_for(lambda: "active" in ended)  # the stream ended for the receiver
        assert clock.senders == {}
    finally:
        await sending.close()
        await receiving.close()
