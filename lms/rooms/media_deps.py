"""Typed accessors for the SFU's services, apart from ``lms.deps``.

Reading them in ``lms.deps`` would make every REST module import the SFU (and aiortc)
just to reach the database session; here only the media routes (WHIP, recordings) do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lms.deps import on_the_loop
from media.whip import WhipSessions
from rooms.media import MediaSignalling
from rooms.recording import RoomRecorder


def media(request: Request) -> MediaSignalling | None:
    """The node's media signalling; None when media is disabled."""
    signalling: MediaSignalling | None = request.app.state.media
    return signalling


def recorder(request: Request) -> RoomRecorder | None:
    """The node's room recorder; None when media is disabled."""
    found: RoomRecorder | None = request.app.state.recorder
    return found


def whip_sessions(request: Request) -> WhipSessions:
    """The WHIP ingest sessions this node serves."""
    sessions: WhipSessions = request.app.state.whip
    return sessions


MediaDep = Annotated[MediaSignalling | None, Depends(on_the_loop(media))]
RecorderDep = Annotated[RoomRecorder | None, Depends(on_the_loop(recorder))]
WhipDep = Annotated[WhipSessions, Depends(on_the_loop(whip_sessions))]
