"""Pure parts of the SFU, and every aiortc internal it patches (an upgrade that breaks one
fails here first)."""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
from fractions import Fraction

import aiortc
import av
import pytest
from aiortc import (
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
    rtcrtpreceiver,
)
from aiortc.codecs import CODECS
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcpeerconnection import is_codec_compatible
from aiortc.rtcrtptransceiver import RTCRtpTransceiver

from media.audio_level import SpeakerDetector, loudness
from media.config import parse_ice_servers
from media.errors import BadSdp
from media.fastpath import passthrough
from media.forwarding import ForwardTrack, FrameQueue, PacketStream
from media.keyframes import KeyframeThrottle, h264_nal_types, is_keyframe
from media.sdp import (
    ABS_SEND_TIME,
    announce_public_ip,
    check_sources,
    offered_media,
    without_bandwidth_feedback,
)


def test_the_pinned_aiortc_is_the_one_patched() -> None:
    assert aiortc.__version__.startswith("1.16.")
    passthrough.check_internals()


def test_patched_internals_exist_with_the_expected_shapes() -> None:
    params = list(inspect.signature(RTCRtpReceiver._handle_rtp_packet).parameters)
    assert params == ["self", "packet", "arrival_time_ms"]
    assert list(inspect.signature(RTCRtpReceiver._send_rtcp_pli).parameters) == [
        "self",
        "media_ssrc",
    ]
    assert list(inspect.signature(RTCRtpSender._send_keyframe).parameters) == ["self"]
    assert "_codecs" in RTCRtpTransceiver("video", None, None).__dict__  # type: ignore[arg-type]
    assert inspect.signature(is_codec_compatible)
    assert next(c.mimeType for c in CODECS["video"] if c.mimeType != "video/rtx") == "video/VP8"


async def test_tapped_receivers_never_decode_and_others_still_do() -> None:
    passthrough.install()
    passthrough.install()  # idempotent
    assert rtcrtpreceiver.decoder_worker is passthrough._worker
    pc = RTCPeerConnection()
    ours, theirs = (pc.addTransceiver("video").receiver for _ in range(2))
    assert hasattr(ours, passthrough.QUEUE_ATTR) and hasattr(ours, passthrough.STARTED_ATTR)
    got: list[bytes] = []
    ended: list[bool] = []
    passthrough.tap_receiver(ours, lambda _c, f: got.append(f.data), lambda: ended.append(True))
    assert passthrough.tapped(ours) and not passthrough.tapped(theirs)
    tap = getattr(ours, passthrough.QUEUE_ATTR)
    tap.put((CODECS["video"][0], JitterFrame(b"\x10abc", 90)))
    tap.put(None)
    tap.put(None)
    assert got == [b"\x10abc"] and ended == [True]
    skipped = passthrough.COUNTS["decoders_skipped"]
    passthrough._worker(None, tap, None, threading.Event())  # returns at once
    assert passthrough.COUNTS["decoders_skipped"] == skipped + 1
    # Another receiver's queue goes to the real worker, which ends on None.
    plain: queue.Queue[object] = queue.Queue()
    plain.put(None)
    output: asyncio.Queue[object] = asyncio.Queue()
    started = passthrough.COUNTS["decoders_started"]
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, passthrough._worker, loop, plain, output, threading.Event())
    assert passthrough.COUNTS["decoders_started"] == started + 1
    assert await asyncio.wait_for(output.get(), 5) is None
    await pc.close()


async def test_keyframe_requests_and_rtp_hooks_are_per_instance() -> None:
    pc = RTCPeerConnection()
    first, second = (pc.addTransceiver("video") for _ in range(2))
    asked: list[int] = []
    passthrough.bridge_keyframe_requests(first.sender, lambda: asked.append(1))
    first.sender._send_keyframe()
    assert asked == [1]
    assert "_send_keyframe" not in second.sender.__dict__
    seen: list[object] = []
    passthrough.hook_rtp(first.receiver, seen.append)
    assert "_handle_rtp_packet" in first.receiver.__dict__
    assert "_handle_rtp_packet" not in second.receiver.__dict__


def test_keyframe_detection() -> None:
    assert is_keyframe("VP8", b"\x50\x06\x00")  # bit 0 clear: key frame
    assert not is_keyframe("vp8", b"\x51\x06\x00")
    assert not is_keyframe("vp8", b"")
    idr = b"\x00\x00\x00\x01\x67\x42" + b"\x00\x00\x01\x65\x88"
    assert h264_nal_types(idr) == [7, 5] and is_keyframe("H264", idr)
    assert not is_keyframe("h264", b"\x00\x00\x00\x01\x41\x9a")
    assert is_keyframe("opus", b"\xfc")


def test_the_keyframe_throttle_allows_one_request_per_interval() -> None:
    throttle = KeyframeThrottle(1.0)
    assert throttle.allow(10.0)
    assert not throttle.allow(10.5)
    assert throttle.allow(11.0)
    assert throttle.sent == 2


def test_active_speaker_changes_only_when_someone_else_is_louder() -> None:
    detector = SpeakerDetector(interval=0.5)
    for _ in range(20):
        detector.add("ann", 20)
        detector.add("bob", 90)
    assert detector.evaluate(0.0) == ("ann", loudness(20))
    assert detector.evaluate(0.1) is None  # too soon
    assert detector.evaluate(1.0) is None  # no change
    for _ in range(40):
        detector.add("ann", 127)
        detector.add("bob", 10)
    assert detector.evaluate(2.0) == ("bob", pytest.approx(loudness(10), abs=0.05))
    detector.forget("bob")
    assert detector.current is None
    assert loudness(0) == 1.0 and loudness(127) == 0.0 and loudness(500) == 0.0


def _packet(n: int) -> av.Packet:
    packet = av.Packet(bytes([n]))
    packet.pts, packet.time_base = n * 3000, Fraction(1, 90_000)
    return packet


async def test_a_full_queue_restarts_at_a_keyframe_instead_of_dropping_single_frames() -> None:
    gaps: list[int] = []
    frames = FrameQueue(3, needs_keyframe=True, on_gap=lambda: gaps.append(1))
    frames.push(_packet(1), keyframe=False)  # before any keyframe: skipped
    assert len(frames) == 0 and gaps
    frames.push(_packet(2), keyframe=True)
    frames.push(_packet(3), keyframe=False)
    frames.push(_packet(4), keyframe=False)
    frames.push(_packet(5), keyframe=False)  # overflow: everything goes, wait for a keyframe
    assert len(frames) == 0 and frames.waiting_keyframe
    frames.push(_packet(6), keyframe=False)
    frames.push(_packet(7), keyframe=True)
    got = await frames.get()
    assert got is not None and bytes(got) == b"\x07"


async def test_a_packet_stream_hands_out_what_queued_in_batches_until_the_end() -> None:
    frames = FrameQueue(50, needs_keyframe=False, on_gap=lambda: None)
    closed: list[PacketStream] = []
    stream = PacketStream(frames, closed.append)
    for n in (1, 2, 3):
        frames.push(_packet(n), keyframe=False)
    batches = stream.batches(0.001)
    first = await anext(batches)
    assert [bytes(p) for p in first] == [b"\x01", b"\x02", b"\x03"]
    frames.push(_packet(4), keyframe=False)
    frames.push(_packet(5), keyframe=False)
    frames.end()
    frames.push(_packet(6), keyframe=False)  # after the end: never handed out
    last = await anext(batches)
    assert [bytes(p) for p in last] == [b"\x04", b"\x05"]
    with pytest.raises(StopAsyncIteration):
        await anext(batches)
    assert closed == [stream]


async def test_a_reused_track_keeps_timestamps_increasing_across_sources() -> None:
    track = ForwardTrack("video", 10, on_gap=lambda: None)
    track.queue.push(_packet(100), keyframe=True)
    first = await track.recv()
    assert first.pts == 300_000
    track.restart()  # another source, whose clock starts elsewhere
    track.queue.push(_packet(2), keyframe=True)
    second = await track.recv()
    assert second.pts == 303_000 and bytes(second) == b"\x02"


OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 1 1 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=mid:0",
        "a=sendonly",
        "a=rtpmap:111 opus/48000/2",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuv",
        "a=fingerprint:sha-256 " + ":".join(["AA"] * 32),
        "a=setup:actpass",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 98",
        "c=IN IP4 0.0.0.0",
        "a=mid:1",
        "a=sendonly",
        "a=rtpmap:96 VP9/90000",
        "a=rtpmap:98 VP8/90000",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuv",
        "a=fingerprint:sha-256 " + ":".join(["AA"] * 32),
        "a=setup:actpass",
        "",
    ]
)


def test_offers_are_checked_against_the_sources_claimed() -> None:
    offered = offered_media(OFFER)
    assert [(m.mid, m.kind) for m in offered] == [("0", "audio"), ("1", "video")]
    assert offered[1].codec is not None and offered[1].codec.mimeType == "video/VP8"
    matched = check_sources(offered, {"0": "microphone", "1": "camera"})
    assert set(matched) == {"0", "1"}
    for sources in ({"0": "camera"}, {"9": "camera"}, {"0": "microphone", "1": "microphone"}):
        with pytest.raises(BadSdp):
            check_sources(offered, sources)
    for text in ("", "garbage", "v=0\r\n", "x" * 70_000):
        with pytest.raises(BadSdp):
            offered_media(text)
    no_codec = OFFER.replace("a=rtpmap:98 VP8/90000", "a=rtpmap:98 AV1/90000")
    with pytest.raises(BadSdp):
        check_sources(offered_media(no_codec), {"1": "camera"})


def test_the_nat_address_is_announced_next_to_host_candidates() -> None:
    sdp = "a=candidate:abc 1 udp 2130706431 10.0.0.5 40000 typ host\r\na=end"
    out = announce_public_ip(sdp, "203.0.113.7").split("\r\n")
    assert out[1] == "a=candidate:nabc 1 udp 2130706431 203.0.113.7 40000 typ host"
    assert announce_public_ip(sdp, "") == sdp
    v6 = "a=candidate:abc 1 udp 2130706431 fd00::2 40000 typ host"
    assert announce_public_ip(v6, "203.0.113.7") == v6


def test_ice_servers_reach_browsers_as_rtc_ice_server_dicts() -> None:
    servers = parse_ice_servers(
        "stun:stun.example.org:3478", "turn:a.example.org,turns:b.example.org", "u", "p"
    )
    assert [s.for_browser() for s in servers] == [
        {"urls": ["stun:stun.example.org:3478"]},
        {"urls": ["turn:a.example.org", "turns:b.example.org"], "username": "u", "credential": "p"},
    ]
    assert parse_ice_servers("", "", "", "") == []


async def test_subscriber_offers_ask_for_no_bandwidth_feedback() -> None:
    """No abs-send-time, no goog-remb: subscribers send no REMB the SFU would only drop."""
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="sendonly")
        pc.addTransceiver("audio", direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        assert ABS_SEND_TIME in offer and "goog-remb" in offer  # what aiortc offers
        stripped = without_bandwidth_feedback(offer)
        assert ABS_SEND_TIME not in stripped and "goog-remb" not in stripped
        removed = set(offer.split("\r\n")) - set(stripped.split("\r\n"))
        assert all("abs-send-time" in line or "goog-remb" in line for line in removed)
        assert "a=rtcp-fb:97 nack pli" in stripped  # keyframe requests and NACKs stay
        # A peer answering it leaves both out, so aiortc's sender stops writing the header.
        answerer = RTCPeerConnection()
        try:
            await answerer.setRemoteDescription(RTCSessionDescription(stripped, "offer"))
            await answerer.setLocalDescription(await answerer.createAnswer())
            answer = answerer.localDescription.sdp
            assert ABS_SEND_TIME not in answer and "goog-remb" not in answer
            await pc.setRemoteDescription(answerer.localDescription)
            sender = pc.getTransceivers()[0].sender
            uris = {e.uri for e in pc.getTransceivers()[0]._headerExtensions}
            assert ABS_SEND_TIME not in uris and sender.kind == "video"
        finally:
            await answerer.close()
    finally:
        await pc.close()
