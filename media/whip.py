"""WHIP ingest (RFC 9725), the media side: which source each m-line of an offer feeds, and
the node's ingest sessions, and the record that lets any node of a cluster find a session
(in Redis, written and refreshed by the node whose SFU serves the stream).

A WHIP offer names no sources, so they are assigned by kind: the first sending video
m-line is the camera, the first sending audio m-line the microphone; others stay inactive.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import orjson

from media.errors import BadSdp
from media.placement import PREFIX
from media.sdp import offered_media

SDP_CONTENT_TYPE = "application/sdp"
SOURCE_OF_KIND = {"video": "camera", "audio": "microphone"}


def whip_sources(offer: str) -> dict[str, str]:
    """``{mid: source}`` for a WHIP offer; BadSdp if it sends nothing the SFU forwards."""
    sources: dict[str, str] = {}
    for media in offered_media(offer):
        source = SOURCE_OF_KIND[media.kind]
        if media.sends and media.codec is not None and source not in sources.values():
            sources[media.mid] = source
    if not sources:
        raise BadSdp("The offer sends no audio or video in VP8, H.264 or Opus.")
    return sources


def conn_id_of(session_id: str) -> str:
    """The SFU's connection id for an ingest (no room connection behind it)."""
    return f"whip-{session_id}"


def record_key(conn_id: str) -> str:
    """The Redis key of an ingest's record in a cluster (value: ``encode_record``)."""
    return f"{PREFIX}:whip:{conn_id}"


@dataclass(frozen=True)
class WhipSession:
    """One ingest: who streams into which room, under which SFU connection id, and (in a
    cluster) on which node's SFU."""

    session_id: str
    room_id: str
    user_id: str
    node: str = ""

    @classmethod
    def new(cls, room_id: str, user_id: str) -> WhipSession:
        """A new session with an unguessable id (it becomes part of the resource URL)."""
        return cls(secrets.token_urlsafe(16), room_id, user_id)

    @property
    def conn_id(self) -> str:
        """The SFU's connection id for this ingest."""
        return conn_id_of(self.session_id)


def encode_record(room_id: str, user_id: str, node: str) -> bytes:
    """The cluster record of an ingest (its key names the connection)."""
    return orjson.dumps({"room_id": room_id, "user_id": user_id, "node": node})


def decode_record(session_id: str, raw: bytes) -> WhipSession | None:
    """A cluster record as a session, or None if it is not one (never trusted blindly)."""
    try:
        found = orjson.loads(raw)
        values = [found["room_id"], found["user_id"], found["node"]]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not all(isinstance(v, str) and v for v in values):
        return None
    return WhipSession(session_id, *values)


class WhipSessions:
    """The WHIP sessions this node serves, by session id."""

    def __init__(self) -> None:
        self.sessions: dict[str, WhipSession] = {}
        self.starting: set[str] = set()  # created, publisher not up yet: never pruned

    def create(self, room_id: str, user_id: str) -> WhipSession:
        """A new session, served by this node."""
        session = WhipSession.new(room_id, user_id)
        self.sessions[session.session_id] = session
        self.starting.add(session.session_id)
        return session

    def started(self, session_id: str) -> None:
        """Its publisher is up: from now on it lives as long as that publisher."""
        self.starting.discard(session_id)

    def get(self, room_id: str, session_id: str) -> WhipSession | None:
        """The session, if it is this room's."""
        found = self.sessions.get(session_id)
        return found if found is not None and found.room_id == room_id else None

    def drop(self, session_id: str) -> None:
        """Forget a session (ended, failed or never started)."""
        self.sessions.pop(session_id, None)
        self.starting.discard(session_id)

    def prune(self, alive: set[str]) -> None:
        """Forget sessions whose publisher is gone (ICE failed, publisher vanished)."""
        for session_id, session in list(self.sessions.items()):
            if session.conn_id not in alive and session_id not in self.starting:
                del self.sessions[session_id]
