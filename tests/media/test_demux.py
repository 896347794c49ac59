"""RFC 7983 demultiplexing: media datagrams bypass aioice's STUN parser (ICE still works)
and, on a connected peer connection, its queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import aioice
import av
import pytest
from aioice import stun
from aiortc import RTCPeerConnection

from kits.peers import forwarding_sender
from media.fastpath import demux, passthrough


async def connected_pair() -> tuple[aioice.Connection, aioice.Connection]:
    one = aioice.Connection(ice_controlling=True)
    two = aioice.Connection(ice_controlling=False)
    await asyncio.gather(one.gather_candidates(), two.gather_candidates())
    for a, b in ((one, two), (two, one)):
        for candidate in b.local_candidates:
            await a.add_remote_candidate(candidate)
        await a.add_remote_candidate(None)
        a.remote_username, a.remote_password = b.local_username, b.local_password
    await asyncio.gather(one.connect(), two.connect())
    return one, two


async def test_media_and_stun_lookalikes_arrive_in_order_after_ice() -> None:
    demux.install()
    demux.install()  # idempotent
    one, two = await connected_pair()  # the checks themselves are STUN: they still work
    try:
        rtp = bytes([0x80, 96]) + bytes(30)
        rtcp = bytes([0x81, 200]) + bytes(26)
        dtls = bytes([22, 0xFE, 0xFD]) + bytes(20)
        # An RTP packet whose sequence number happens to make it parse as STUN (length
        # field = datagram length - 20): aioice alone would have taken it for STUN.
        lookalike = bytes([0x80, 0x01, 0x00, 12]) + stun.COOKIE.to_bytes(4, "big") + bytes(24)
        assert len(lookalike) == 20 + 12
        for data in (rtp, rtcp, dtls, lookalike):
            await one.send(data)
        got = [await asyncio.wait_for(two.recv(), 5) for _ in range(4)]
        assert got == [rtp, rtcp, dtls, lookalike]
    finally:
        await one.close()
        await two.close()


def vp8_frame(index: int) -> av.Packet:
    packet = av.Packet(bytes([0x10]) + bytes([index]) * 2000)
    packet.pts = 3000 * index
    packet.time_base = Fraction(1, 90_000)
    return packet


async def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize("native", [True, False], ids=["native-unprotect", "pylibsrtp"])
async def test_media_of_an_attached_peer_connection_is_handled_without_the_queue(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames arrive whole through ``deliver``; aiortc's counters and RTCP still work."""
    assert demux.NATIVE, "the test command builds the extension"
    monkeypatch.setattr(demux, "NATIVE", native)
    demux.install()
    sending, receiving = RTCPeerConnection(), RTCPeerConnection()
    got: list[bytes] = []
    try:
        track, _ = forwarding_sender(sending)

        @receiving.on("track")
        def on_track(remote: Any) -> None:
            receiver = next(t for t in receiving.getTransceivers() if t.receiver.track is remote)
            passthrough.tap_receiver(receiver.receiver, lambda _c, f: got.append(f.data), list)

        await sending.setLocalDescription(await sending.createOffer())
        await receiving.setRemoteDescription(sending.localDescription)
        await receiving.setLocalDescription(await receiving.createAnswer())
        await sending.setRemoteDescription(receiving.localDescription)
        await wait_for(lambda: receiving.connectionState == "connected")
        demux.attach(receiving)
        before = demux.COUNTS["direct"]

        for i in range(6):
            track.queue.push(vp8_frame(i), keyframe=True)
        await wait_for(lambda: len(got) == 6)
        assert got == [bytes(vp8_frame(i)) for i in range(6)]
        assert demux.COUNTS["direct"] - before >= 12  # 6 frames x 2 packets, none queued
        (dtls,) = {t.receiver.transport for t in receiving.getTransceivers()}
        stats = [s for s in (await receiving.getStats()).values() if s.type == "transport"]
        assert stats[0].packetsReceived >= 12  # aiortc's own counters still count them
        rtcp = demux.COUNTS["direct"]
        await wait_for(lambda: demux.COUNTS["direct"] > rtcp)  # the sender's RTCP too
        assert dtls._task is not None and not dtls._task.done()
    finally:
        await sending.close()
        await receiving.close()
