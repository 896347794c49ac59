"""WHIP sessions: a session still starting is never pruned by a concurrent POST."""

from __future__ import annotations

from media.whip import WhipSessions


def test_a_starting_session_survives_a_prune_and_a_dead_one_does_not() -> None:
    sessions = WhipSessions()
    first = sessions.create("room", "user")
    second = sessions.create("room", "user")
    sessions.prune(alive=set())  # another POST prunes while both are still starting
    assert sessions.get("room", first.session_id) == first
    sessions.started(first.session_id)
    sessions.started(second.session_id)
    sessions.prune(alive={second.conn_id})  # the first publisher has gone since
    assert sessions.get("room", first.session_id) is None
    assert sessions.get("room", second.session_id) == second
    assert sessions.get("other-room", second.session_id) is None


def test_a_dropped_session_is_forgotten_even_while_starting() -> None:
    sessions = WhipSessions()
    found = sessions.create("room", "user")
    sessions.drop(found.session_id)
    assert sessions.get("room", found.session_id) is None
    assert not sessions.starting
