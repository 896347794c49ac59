"""Media room events (pure): the published tracks every node's state and snapshot hold."""

from __future__ import annotations

from typing import Any

from rooms.state import Event, RoomState, new_event

TRACK_FIELDS = ("track_id", "user_id", "conn_id", "kind", "source")


def published(info: dict[str, Any], *, at: str, external: bool = False) -> Event:
    """``media.track_published``: a track is forwarded from now on."""
    fields = {k: info[k] for k in TRACK_FIELDS}
    if external:
        fields["external"] = True
    # Built by hand: the track's "kind" field would clash with new_event's parameter.
    return {"type": "media.track_published", "at": at, "by": info["user_id"], **fields}


def unpublished(info: dict[str, Any], *, reason: str, at: str, by: str | None = None) -> Event:
    """``media.track_unpublished``: forwarding stopped (unpublished, left, muted, failed)."""
    return new_event(
        "media.track_unpublished",
        by=by or info["user_id"],
        at=at,
        track_id=info["track_id"],
        user_id=info["user_id"],
        reason=reason,
    )


def muted(info: dict[str, Any], *, by: str, at: str) -> Event:
    """``media.track_muted``: a host stopped this track server-side."""
    return new_event(
        "media.track_muted",
        by=by,
        at=at,
        track_id=info["track_id"],
        user_id=info["user_id"],
        source=info["source"],
    )


def on_published(state: RoomState, event: Event) -> None:
    track = {k: event[k] for k in TRACK_FIELDS}
    if event.get("external"):
        track["external"] = True
    state.media_tracks[event["track_id"]] = track


def on_unpublished(state: RoomState, event: Event) -> None:
    state.media_tracks.pop(event["track_id"], None)


def on_recording(state: RoomState, event: Event) -> None:
    if event.get("on"):
        state.recording = {
            "recording_id": event["recording_id"],
            "by": event.get("by"),
            "started_at": event.get("at"),
        }
    elif state.recording and state.recording["recording_id"] == event.get("recording_id"):
        state.recording = None
