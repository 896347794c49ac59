"""Room roles and grants, declared once; every room action names the grant it needs."""

from __future__ import annotations

from enum import StrEnum


class RoomRole(StrEnum):
    """What a person is in one room. Hosts own it; observers only watch."""

    HOST = "host"
    CO_HOST = "co-host"
    PRESENTER = "presenter"
    PARTICIPANT = "participant"
    OBSERVER = "observer"


class Grant(StrEnum):
    """A capability in a room, carried in join tokens and checked on every message."""

    CHAT = "chat"
    PUBLISH_AUDIO = "publish_audio"
    PUBLISH_VIDEO = "publish_video"
    PUBLISH_SCREEN = "publish_screen"
    WHITEBOARD_WRITE = "whiteboard_write"
    NOTES_WRITE = "notes_write"
    MODERATE = "moderate"
    REACT = "react"
    RAISE_HAND = "raise_hand"
    VOTE = "vote"
    # Send captions (typed by a person). Hosts hold it by role; anyone else only while a
    # host has made them a captioner (``caption.assign``, kept in the room state).
    CAPTION = "caption"


_PARTICIPATE = frozenset(
    {
        Grant.CHAT,
        Grant.PUBLISH_AUDIO,
        Grant.PUBLISH_VIDEO,
        Grant.WHITEBOARD_WRITE,
        Grant.NOTES_WRITE,
        Grant.REACT,
        Grant.RAISE_HAND,
        Grant.VOTE,
    }
)
ROLE_GRANTS: dict[RoomRole, frozenset[Grant]] = {
    RoomRole.HOST: frozenset(Grant),
    RoomRole.CO_HOST: frozenset(Grant),
    RoomRole.PRESENTER: _PARTICIPATE | {Grant.PUBLISH_SCREEN},
    RoomRole.PARTICIPANT: _PARTICIPATE,
    RoomRole.OBSERVER: frozenset({Grant.REACT}),
}
# Roles that run the room: they see the lobby, live poll results and messages to hosts.
HOST_ROLES = frozenset({RoomRole.HOST, RoomRole.CO_HOST})
# Who may give which role: only the host makes co-hosts or other hosts.
ASSIGNABLE_BY: dict[RoomRole, frozenset[RoomRole]] = {
    RoomRole.HOST: frozenset(RoomRole),
    RoomRole.CO_HOST: frozenset({RoomRole.PRESENTER, RoomRole.PARTICIPANT, RoomRole.OBSERVER}),
}


def grants_for(role: RoomRole, settings: dict[str, object] | None = None) -> frozenset[Grant]:
    """The grants of ``role`` under the room's current settings (locks narrow them)."""
    grants = set(ROLE_GRANTS[role])
    if role in HOST_ROLES or not settings:
        return frozenset(grants)
    if settings.get("whiteboard_locked"):
        grants.discard(Grant.WHITEBOARD_WRITE)
    if settings.get("notes_locked"):
        grants.discard(Grant.NOTES_WRITE)
    if settings.get("chat_enabled") is False:
        grants.discard(Grant.CHAT)
    return frozenset(grants)


def is_host(role: RoomRole) -> bool:
    """Whether ``role`` runs the room."""
    return role in HOST_ROLES
