"""The SFU's own send path: payloads built once per frame and RTP packets built without
aiortc's per-packet objects must be byte for byte what aiortc's sender would send."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import Any

import av
import pytest
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.codecs import CODECS
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import convert_timebase
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from kits.peers import forwarding_sender
from media.fastpath import passthrough, payloads, rtp_writer, srtp_send
from media.forwarding import ForwardTrack

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


def frame(data: bytes, pts: int = 0, time_base: Fraction = Fraction(1, 90_000)) -> av.Packet:
    packet = av.Packet(data)
    packet.pts = pts
    packet.time_base = time_base
    return packet


def extensions_map(*uris: str) -> HeaderExtensionsMap:
    extensions = HeaderExtensionsMap()
    params = RTCRtpParameters(
        headerExtensions=[
            RTCRtpHeaderExtensionParameters(id=i, uri=uri) for i, uri in enumerate(uris, 1)
        ]
    )
    extensions.configure(params)
    return extensions


@pytest.mark.parametrize("size", [0, 1, 1295, 1296, 1297, 2600, 9000])
def test_vp8_payloads_are_aiortcs_with_consecutive_picture_ids(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    ours = payloads.Vp8Payloads(picture_id=0x7FFE)
    for pid in (0x7FFE, 0x7FFF, 0):  # the 15-bit picture ID wraps
        assert ours(frame(data)) == Vp8Encoder._packetize(data, pid)


def test_h264_and_opus_payloads_are_aiortcs_and_shared_by_every_sender() -> None:
    access_unit = b"\x00\x00\x00\x01\x67" + b"s" * 20 + b"\x00\x00\x00\x01\x65" + b"k" * 3000
    shared = frame(access_unit)
    a = payloads.SharedPayloads(payloads.h264_payloads, 90_000)
    b = payloads.SharedPayloads(payloads.h264_payloads, 90_000)
    expected, _ = H264Encoder().pack(shared)
    assert a(shared) == expected
    assert b(shared) is a(shared)  # built once for the frame, not once per subscriber
    opus = payloads.for_codec(CODECS["audio"][0])
    assert opus(frame(b"\xfc\x01\x02", time_base=Fraction(1, 48_000))) == [b"\xfc\x01\x02"]
    assert opus(frame(b"")) == []


def test_the_frame_cache_is_bounded_and_keyed_by_the_frame_object() -> None:
    cache = payloads.FrameCache(size=2)
    built: list[bytes] = []

    def build(data: bytes) -> list[bytes]:
        built.append(data)
        return [data]

    one, two, three = frame(b"1"), frame(b"2"), frame(b"3")
    for item in (one, one, two, three, one):
        cache.get(item, build)
    assert built == [b"1", b"2", b"3", b"1"]  # "1" fell out after two newer frames


def test_unknown_codecs_are_refused() -> None:
    rtx = next(c for c in CODECS["video"] if c.mimeType == "video/rtx")
    with pytest.raises(ValueError, match="no forwarding packetizer"):
        payloads.for_codec(rtx)


@pytest.mark.parametrize(
    ("pts", "time_base", "clock"),
    [
        (123_456, Fraction(1, 90_000), 90_000),
        (4_321, Fraction(1, 1000), 90_000),
        (960, Fraction(1, 48_000), 48_000),
    ],
)
def test_rtp_timestamps_match_aiortcs_conversion(pts: int, time_base: Fraction, clock: int) -> None:
    expected = convert_timebase(pts, time_base, Fraction(1, clock))
    assert payloads.rtp_timestamp(pts, time_base, clock) == expected


@pytest.mark.parametrize("uris", [(MID, ABS), (ABS, MID), (MID,), (ABS,), (), (LEVEL, ABS, MID)])
def test_packets_are_what_aiortcs_serializer_makes(uris: tuple[str, ...]) -> None:
    extensions = extensions_map(*uris)
    blocks = rtp_writer.ExtensionBlock(extensions, "1")
    chunks = [b"a" * 1300, b"b" * 1300, b"c" * 7]
    for abs_send_time in (0, 0x123456, 0xFFFFFF):
        block = blocks.at(abs_send_time)
        assert block == blocks.serialize(abs_send_time)
        built = rtp_writer.rtp_packets(chunks, 96, 0xFFFE, 0xFFFFFFF0, 0xDEADBEEF, block)
        for i, (data, chunk) in enumerate(zip(built, chunks, strict=True)):
            packet = RtpPacket(payload_type=96, sequence_number=(0xFFFE + i) & 0xFFFF)
            packet.timestamp, packet.ssrc, packet.payload = 0xFFFFFFF0, 0xDEADBEEF, chunk
            packet.marker = int(i == len(chunks) - 1)
            packet.extensions.mid = "1"
            packet.extensions.abs_send_time = abs_send_time
            assert data == packet.serialize(extensions)


def test_history_gives_aiortcs_retransmit_the_packet_back() -> None:
    extensions = extensions_map(MID, ABS)
    history = rtp_writer.History(extensions)
    block = rtp_writer.ExtensionBlock(extensions, "0").at(77)
    (data,) = rtp_writer.rtp_packets([b"payload"], 96, 130, 9000, 42, block)
    history.store(130, data)
    packet = history.get(130 % rtp_writer.HISTORY_SIZE)
    assert packet is not None and packet.sequence_number == 130
    assert packet.payload == b"payload" and packet.extensions.abs_send_time == 77
    assert packet.serialize(extensions) == data
    assert history.get(0) is None


def test_the_ntp_clock_agrees_with_aiortcs() -> None:
    from aiortc import clock

    before = clock.current_ntp_time()
    ours = rtp_writer.ntp_now()
    after = clock.current_ntp_time()
    assert before - (1 << 24) <= ours <= after + (1 << 24)  # within ~4 ms


async def test_the_writer_takes_over_a_real_senders_loop() -> None:
    pc = RTCPeerConnection()
    try:
        track = ForwardTrack("video", 4, on_gap=lambda: None)
        sender: RTCRtpSender = pc.addTransceiver(track, direction="sendonly").sender
        rtp_writer.check_internals(sender)
        writer = rtp_writer.RtpWriter(sender)
        writer.install()
        assert sender._run_rtp == writer.run
    finally:
        await pc.close()


@pytest.mark.parametrize("native", [True, False], ids=["native-send", "aiortc-send"])
async def test_frames_and_retransmissions_reach_a_real_peer(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two aiortc peers over real ICE/DTLS: frames arrive whole; a NACKed packet is resent.

    Both send paths: the native one (``media.fastpath._srtp``) and aiortc's, which TURN-relayed
    subscribers and machines without the compiled extension use.
    """
    monkeypatch.setattr(srtp_send, "NATIVE", native)
    counted = dict(srtp_send.COUNTS)
    sending, receiving = RTCPeerConnection(), RTCPeerConnection()
    got: list[bytes] = []
    try:
        track, transceiver = forwarding_sender(sending)

        @receiving.on("track")
        def on_track(remote: Any) -> None:
            receiver = next(
                t.receiver for t in receiving.getTransceivers() if t.receiver.track is remote
            )
            passthrough.tap_receiver(receiver, lambda _c, f: got.append(f.data), lambda: None)

        await sending.setLocalDescription(await sending.createOffer())
        await receiving.setRemoteDescription(sending.localDescription)
        await receiving.setLocalDescription(await receiving.createAnswer())
        await sending.setRemoteDescription(receiving.localDescription)

        frames = [bytes([0x10]) + bytes([i]) * 3000 for i in range(1, 11)]  # 0x10: no keyframe
        # The first five are queued before the connection is up (the send loop takes them),
        # the rest go out as they come: from the pusher's call natively, else via the loop.
        for i, data in enumerate(frames[:5]):
            track.queue.push(frame(data, pts=3000 * i), keyframe=True)
        for wanted in (5, 10):
            for _ in range(200):
                if len(got) >= wanted:
                    break
                await asyncio.sleep(0.02)
            for i in range(wanted, min(wanted + 5, len(frames))):
                track.queue.push(frame(frames[i], pts=3000 * i), keyframe=True)
                if native:
                    assert len(track.queue) == 0, "the frame was queued, not sent at once"
        assert got == frames  # byte for byte, in order, each released at its marker bit

        sender = transceiver.sender
        history = getattr(sender, rtp_writer.HISTORY)
        sent_before = sender.transport._get_stats()
        before = next(iter(sent_before.values())).packetsSent
        newest = max(
            (p for p in (history.get(s) for s in range(rtp_writer.HISTORY_SIZE)) if p),
            key=lambda p: p.timestamp,
        )
        assert before >= len(got)  # the DTLS transport counted what it sent, either way
        await sender._retransmit(newest.sequence_number)  # what a NACK for it triggers
        after = next(iter(sender.transport._get_stats().values())).packetsSent
        assert after == before + 1
        used = "native_frames" if native else "fallback_frames"
        unused = "fallback_frames" if native else "native_frames"
        assert srtp_send.COUNTS[used] >= counted[used] + len(got)
        assert srtp_send.COUNTS[unused] == counted[unused]
    finally:
        await sending.close()
        await receiving.close()
