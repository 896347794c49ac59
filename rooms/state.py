"""The state of one live room, rebuilt on every node by applying its events in order.

Pure data; the reducers (one per event kind, named in the catalogue) never do I/O and
never fail on a stale or repeated event, so every node that sees the same publications
holds the same state.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rooms.caption_state import CaptionState
from rooms.quiz_state import QuizBook
from rooms.roles import Grant, RoomRole, grants_for, is_host

Event = dict[str, Any]
CHAT_TAIL = 200

DEFAULT_SETTINGS: dict[str, Any] = {
    "open": False,
    "lobby": False,
    "locked": False,
    "chat_enabled": True,
    "slow_mode_seconds": 0,
    "whiteboard_locked": False,
    "notes_locked": False,
    "max_participants": 300,
}
# Kept in a room's stored settings for the server's own use, never shown as settings:
# the breakouts, who was removed when (`removals`: a join token minted before a
# removal no longer opens a socket), and the captions' (`captioners`, `auto_captions`).
PRIVATE_SETTINGS = frozenset({"breakouts", "removals", "captioners", "auto_captions"})


def public_settings(stored: dict[str, Any]) -> dict[str, Any]:
    """A room's settings as clients see them: the defaults, overridden by what is stored."""
    return {**DEFAULT_SETTINGS, **{k: v for k, v in stored.items() if k not in PRIVATE_SETTINGS}}


@dataclass
class Participant:
    """Someone in the room, with every connection (tab, device) they have open."""

    user_id: str
    name: str
    role: RoomRole
    connections: dict[str, str] = field(default_factory=dict)  # conn_id -> node id
    camera: bool = False
    mic: bool = False
    screen: bool = False
    away: bool = False
    joined_at: str = ""

    def public(self) -> dict[str, Any]:
        """How other participants see this one."""
        return {
            "user_id": self.user_id,
            "name": self.name,
            "role": self.role.value,
            "connections": len(self.connections),
            "camera": self.camera,
            "mic": self.mic,
            "screen": self.screen,
            "away": self.away,
            "joined_at": self.joined_at,
        }


@dataclass
class Poll:
    """A poll and its tallies; who voted is kept only for named polls and own votes."""

    id: str
    question: str
    options: list[str]
    multiple: bool
    anonymous: bool
    created_by: str
    status: str = "open"
    published: bool = False
    counts: list[int] = field(default_factory=list)
    voters: dict[str, list[int]] = field(default_factory=dict)
    votes: int = 0

    def results(self, *, named: bool) -> dict[str, Any]:
        """Tallies, and who chose what when ``named`` and the poll is not anonymous."""
        result: dict[str, Any] = {"counts": list(self.counts), "votes": self.votes}
        if named and not self.anonymous:
            result["voters"] = {user: list(c) for user, c in self.voters.items()}
        return result

    def view(self, *, host: bool, key: str) -> dict[str, Any]:
        """The poll as a viewer voting as ``key`` sees it: results for hosts or once published."""
        shown: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "options": self.options,
            "multiple": self.multiple,
            "anonymous": self.anonymous,
            "status": self.status,
            "published": self.published,
            "my_vote": self.voters.get(key),
        }
        if host or self.published:
            shown["results"] = self.results(named=host)
        return shown


@dataclass
class RoomState:
    """Everything a participant's snapshot shows, plus what commands check against."""

    room_id: str
    title: str
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    status: str = "open"
    closing: dict[str, str] | None = None  # room.closing: when the room ends, and why
    participants: dict[str, Participant] = field(default_factory=dict)
    lobby: dict[str, dict[str, Any]] = field(default_factory=dict)
    admitted: set[str] = field(default_factory=set)
    banned: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    hands: list[dict[str, str]] = field(default_factory=list)
    chat: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=CHAT_TAIL))
    polls: dict[str, Poll] = field(default_factory=dict)
    spotlight: str | None = None
    breakouts: dict[str, Any] | None = None
    media_tracks: dict[str, dict[str, Any]] = field(default_factory=dict)  # by track_id
    recording: dict[str, Any] | None = None  # the recording running now (media.recording)
    captions: CaptionState = field(default_factory=CaptionState)
    parent_id: str | None = None
    course_id: str | None = None
    quizzes: QuizBook = field(default_factory=QuizBook)
    offset: int = 0
    epoch: str = ""
    salt: bytes = b""

    def voter_key(self, poll: Poll, user_id: str) -> str:
        """How votes are keyed: the user id, or for anonymous polls a keyed hash of it."""
        if not poll.anonymous:
            return user_id
        digest = hmac.new(self.salt, f"{poll.id}:{user_id}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def role_of(self, user_id: str) -> RoomRole | None:
        """The user's current role, if they are in the room."""
        found = self.participants.get(user_id)
        return found.role if found else None

    def is_host(self, user_id: str) -> bool:
        """Whether the user currently runs the room."""
        role = self.role_of(user_id)
        return role is not None and is_host(role)

    def grants(self, user_id: str) -> frozenset[str]:
        """The user's grants now: their role under the room's current settings."""
        role = self.role_of(user_id)
        if role is None:
            return frozenset()
        grants = grants_for(role, self.settings)
        if user_id in self.captions.captioners:
            grants |= {Grant.CAPTION}
        return grants

    def hosts(self) -> list[str]:
        """User ids of everyone running the room."""
        return [p.user_id for p in self.participants.values() if is_host(p.role)]

    def find_message(self, message_id: str) -> dict[str, Any] | None:
        """A recent chat message by id."""
        return next((m for m in self.chat if m["id"] == message_id), None)

    def visible(self, message: dict[str, Any], viewer: str) -> bool:
        """Whether ``viewer`` may see a chat message (private ones: sender and addressee)."""
        if message.get("to_user_id"):
            return viewer in (message["author_id"], message["to_user_id"])
        if message.get("to_hosts"):
            return viewer == message["author_id"] or self.is_host(viewer)
        return True

    def snapshot(self, viewer: str) -> dict[str, Any]:
        """The whole room as ``viewer`` may see it, for a (re)joining client."""
        host = self.is_host(viewer)
        return {
            "room": {
                "id": self.room_id,
                "title": self.title,
                "status": self.status,
                "settings": dict(self.settings),
                "parent_id": self.parent_id,
                "closing": self.closing,
            },
            "participants": [p.public() for p in self.participants.values()],
            "hands": list(self.hands),
            "chat": [m for m in self.chat if self.visible(m, viewer)],
            "polls": [
                p.view(host=host, key=self.voter_key(p, viewer))
                for p in self.polls.values()
                if p.status == "open" or p.published or host
            ],
            "spotlight": self.spotlight,
            "lobby": list(self.lobby.values()) if host else [],
            "breakouts": self.breakouts,
            "media": {"tracks": self.live_media_tracks(), "recording": self.recording},
            "captions": self.captions.view(),
            "quizzes": self.quizzes.views(host=host, viewer=viewer),
        }

    def live_media_tracks(self) -> list[dict[str, Any]]:
        """Published tracks whose connection is still here (or external, e.g. WHIP)."""
        live = {c for p in self.participants.values() for c in p.connections}
        return [t for t in self.media_tracks.values() if t.get("external") or t["conn_id"] in live]


# How one event kind changes the state; the catalogue (rooms/catalogue.py) names each
# kind's reducer, and ``Catalogue.apply`` runs it.
Reducer = Callable[[RoomState, Event], None]


def new_event(kind: str, *, by: str | None, at: str, **fields: Any) -> Event:
    """An event of ``kind`` caused by user ``by`` (None: the system) at time ``at``."""
    return {"type": kind, "at": at, "by": by, **fields}
