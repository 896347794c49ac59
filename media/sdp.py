"""SDP checks and rewrites for the SFU (pure): what an offer publishes, the NAT address."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from aiortc import sdp as aiortc_sdp
from aiortc.codecs import CODECS
from aiortc.rtcpeerconnection import is_codec_compatible
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters

from media.errors import BadSdp

MAX_SDP_BYTES = 65_536
SOURCE_KIND = {"camera": "video", "screen": "video", "microphone": "audio"}
FORWARDABLE = frozenset({"video/vp8", "video/h264", "audio/opus"})


@dataclass(frozen=True)
class OfferedMedia:
    """One audio/video m-line of a publisher's offer and the codec the SFU will take."""

    mid: str
    kind: str
    sends: bool
    codec: RTCRtpCodecParameters | None


def parse(text: str) -> aiortc_sdp.SessionDescription:
    """Parse SDP with aiortc's parser; any failure is ``BadSdp``."""
    if not text or len(text) > MAX_SDP_BYTES:
        raise BadSdp("The SDP is empty or too large.")
    try:
        return aiortc_sdp.SessionDescription.parse(text)
    except Exception as exc:  # aiortc raises whatever its parsing hits
        raise BadSdp(f"Unparseable SDP ({type(exc).__name__}).") from None


def offered_media(text: str) -> list[OfferedMedia]:
    """The audio/video m-lines of an offer, each with the first forwardable codec it offers."""
    description = parse(text)
    found = []
    for media in description.media:
        if media.kind not in ("audio", "video"):
            continue
        if not media.rtp.muxId:
            raise BadSdp("Every m-line needs a mid.")
        sends = media.direction in ("sendonly", "sendrecv")
        found.append(OfferedMedia(media.rtp.muxId, media.kind, sends, _pick(media)))
    if not found:
        raise BadSdp("The offer has no audio or video.")
    return found


def _pick(media: aiortc_sdp.MediaDescription) -> RTCRtpCodecParameters | None:
    for remote in media.rtp.codecs:
        if remote.mimeType.lower() not in FORWARDABLE:
            continue
        for local in CODECS[media.kind]:
            if is_codec_compatible(local, remote):
                return local
    return None


def check_sources(offered: list[OfferedMedia], tracks: dict[str, str]) -> dict[str, OfferedMedia]:
    """Match the client's ``{mid: source}`` to the offer: kinds agree, codecs forwardable."""
    by_mid = {m.mid: m for m in offered}
    if len(set(tracks.values())) != len(tracks):
        raise BadSdp("Each source may be published once.")
    matched = {}
    for mid, source in tracks.items():
        media = by_mid.get(mid)
        if media is None:
            raise BadSdp(f"No m-line with mid {mid[:32]!r}.")
        if SOURCE_KIND[source] != media.kind:
            raise BadSdp(f"mid {mid[:32]!r} is {media.kind}, not {source}.")
        if not media.sends:
            raise BadSdp(f"mid {mid[:32]!r} does not send.")
        if media.codec is None:
            raise BadSdp(f"mid {mid[:32]!r} offers no supported codec (VP8, H.264, Opus).")
        matched[mid] = media
    if not matched:
        raise BadSdp("No track to publish.")
    return matched


def preferences(codec: RTCRtpCodecParameters) -> list[RTCRtpCodecCapability]:
    """Codec preferences that pin a transceiver to ``codec`` (plus RTX for video)."""
    kind = codec.mimeType.split("/")[0]
    chosen = RTCRtpCodecCapability(
        mimeType=codec.mimeType,
        clockRate=codec.clockRate,
        channels=codec.channels,
        parameters=codec.parameters,
    )
    if kind != "video":
        return [chosen]
    return [chosen, RTCRtpCodecCapability(mimeType="video/rtx", clockRate=codec.clockRate)]


def codec_key(codec: RTCRtpCodecParameters) -> tuple[str, str]:
    """Identifies a codec across peer connections (payload types differ)."""
    params = ";".join(f"{k}={v}" for k, v in sorted(codec.parameters.items()))
    return codec.mimeType.lower(), params


ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


def without_bandwidth_feedback(text: str) -> str:
    """A subscriber offer without abs-send-time and goog-remb: no REMB comes back.

    A subscriber's REMB would estimate its downlink, but the SFU forwards one layer of each
    track and has nothing to choose with it; each subscriber would still send two to five
    REMB packets a second for the server to decrypt and drop. The answer then leaves them
    out too, so aiortc's sender stops writing abs-send-time.
    """
    lines = text.split("\r\n")
    kept = [
        line
        for line in lines
        if not (line.startswith("a=extmap:") and line.endswith(" " + ABS_SEND_TIME))
        and not (line.startswith("a=rtcp-fb:") and line.endswith(" goog-remb"))
    ]
    return "\r\n".join(kept)


def announce_public_ip(text: str, public_ip: str) -> str:
    """Add a copy of each IPv4 host candidate with the NAT 1:1 ``public_ip``."""
    if not public_ip:
        return text
    lines = text.split("\r\n")
    out = []
    for line in lines:
        out.append(line)
        if not line.startswith("a=candidate:"):
            continue
        parts = line[len("a=candidate:") :].split()
        if len(parts) < 8 or parts[7] != "host" or not _is_ipv4(parts[4]):
            continue
        parts[0] = ("n" + parts[0])[:32]
        parts[4] = public_ip
        out.append("a=candidate:" + " ".join(parts))
    return "\r\n".join(out)


def _is_ipv4(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4
