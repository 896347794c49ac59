"""Media knobs of a node (built from settings): ICE servers, NAT address, caps, timeouts."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server as clients and the server use it."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None

    def for_browser(self) -> dict[str, object]:
        """As a WebRTC ``RTCIceServer`` dictionary (sent to browsers in the welcome)."""
        found: dict[str, object] = {"urls": list(self.urls)}
        if self.username:
            found["username"] = self.username
        if self.credential:
            found["credential"] = self.credential
        return found


@dataclass(frozen=True)
class MediaConfig:
    """What the SFU needs from settings."""

    ice_servers: list[IceServer] = field(default_factory=list)
    public_ip: str = ""
    max_tracks_per_room: int = 50
    ice_timeout: float = 20.0
    keyframe_interval: float = 1.0
    video_queue_frames: int = 60
    audio_queue_frames: int = 50

    def rtc_configuration(self) -> RTCConfiguration:
        """aiortc's configuration: these ICE servers only (never aiortc's public default)."""
        servers = [RTCIceServer(s.urls, s.username, s.credential) for s in self.ice_servers]
        return RTCConfiguration(iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


def parse_ice_servers(
    stun_urls: str, turn_urls: str, turn_username: str, turn_credential: str
) -> list[IceServer]:
    """Comma-separated STUN and TURN URLs as ICE servers (TURN with its credentials)."""
    servers = []
    stun = [u.strip() for u in stun_urls.split(",") if u.strip()]
    turn = [u.strip() for u in turn_urls.split(",") if u.strip()]
    if stun:
        servers.append(IceServer(stun))
    if turn:
        servers.append(IceServer(turn, turn_username or None, turn_credential or None))
    return servers
