"""Captions in the room protocol (pure): who may caption, partials and lines, the switch,
the state a snapshot carries, and the transcript as WebVTT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_room_catalogue import HOST, NOW, STUDENT, check, room, send

from rooms.caption_state import CAPTION_TAIL
from rooms.captions import MAX_CAPTION_LENGTH
from rooms.catalogue import CATALOGUE
from rooms.errors import RoomError
from rooms.roles import Grant
from rooms.transcript import TranscriptLine, timestamp, webvtt


def test_a_participant_may_not_caption_until_a_host_assigns_them() -> None:
    state = room()
    assert Grant.CAPTION not in state.grants(STUDENT)
    assert Grant.CAPTION in state.grants(HOST)
    with pytest.raises(RoomError) as refused:
        send(state, STUDENT, {"type": "caption.send", "utterance": "u1", "text": "hi"})
    assert refused.value.code == "forbidden"
    with pytest.raises(RoomError) as refused:
        send(state, STUDENT, {"type": "caption.assign", "user_id": STUDENT})
    assert refused.value.code == "forbidden"

    assigned = send(state, HOST, {"type": "caption.assign", "user_id": STUDENT})
    (event,) = assigned.events
    check(event, "sequenced")
    assert event["user_id"] == STUDENT and event["on"] is True
    CATALOGUE.apply(state, event, offset=3)
    assert Grant.CAPTION in state.grants(STUDENT)
    assert state.snapshot(STUDENT)["captions"]["captioners"] == [STUDENT]
    # Assigning again changes nothing; unassigning takes the grant away.
    assert send(state, HOST, {"type": "caption.assign", "user_id": STUDENT}).events == []
    removed = send(state, HOST, {"type": "caption.assign", "user_id": STUDENT, "on": False})
    CATALOGUE.apply(state, removed.events[0], offset=4)
    assert Grant.CAPTION not in state.grants(STUDENT)


def test_only_people_in_the_room_can_be_made_captioners() -> None:
    with pytest.raises(RoomError) as refused:
        send(
            room(),
            HOST,
            {"type": "caption.assign", "user_id": "9" * 8 + "-9999-4999-8999-" + "9" * 12},
        )
    assert refused.value.code == "not-found"


def test_partials_are_volatile_and_the_final_line_is_sequenced_and_kept() -> None:
    state = room()
    partial = send(
        state,
        HOST,
        {
            "type": "caption.send",
            "utterance": "u1",
            "text": "photosynthesis is",
            "speaker": STUDENT,
        },
    )
    assert partial.events == []
    (volatile,) = partial.volatile
    check(volatile, "volatile")
    assert volatile["utterance"] == f"h:{HOST}:u1"
    assert (volatile["speaker_id"], volatile["speaker_name"]) == (STUDENT, "2")

    final = send(
        state,
        HOST,
        {
            "type": "caption.send",
            "utterance": "u1",
            "text": "photosynthesis is how",
            "final": True,
            "seconds": 2.5,
        },
    )
    (event,) = final.events
    check(event, "sequenced")
    line = event["line"]
    assert final.reply == {"line_id": line["id"]}
    assert line["source"] == "human" and line["author_id"] == HOST
    assert line["speaker_id"] is None and line["speaker_name"] == ""
    assert line["end"] == NOW.isoformat()
    assert line["start"] == (NOW - timedelta(seconds=2.5)).isoformat()
    CATALOGUE.apply(state, event, offset=3)
    CATALOGUE.apply(state, event, offset=4)  # a repeated event is kept once
    assert state.snapshot(STUDENT)["captions"]["lines"] == [line]


def test_an_empty_final_only_clears_the_partial() -> None:
    outcome = send(
        room(), HOST, {"type": "caption.send", "utterance": "u", "text": " ", "final": True}
    )
    assert outcome.events == [] and outcome.volatile[0]["text"] == ""


def test_an_oversized_line_gets_its_own_error() -> None:
    text = "a" * (MAX_CAPTION_LENGTH + 1)
    with pytest.raises(RoomError) as refused:
        send(room(), HOST, {"type": "caption.send", "utterance": "u", "text": text, "final": True})
    assert refused.value.code == "caption-too-long"
    ok = send(
        room(), HOST, {"type": "caption.send", "utterance": "u", "text": "a" * MAX_CAPTION_LENGTH}
    )
    assert ok.volatile


def test_a_named_speaker_must_be_in_the_room() -> None:
    with pytest.raises(RoomError) as refused:
        send(
            room(),
            HOST,
            {
                "type": "caption.send",
                "utterance": "u",
                "text": "x",
                "speaker": "00000000-0000-4000-8000-000000000009",
            },
        )
    assert refused.value.code == "not-found"


def test_bad_utterance_ids_are_invalid_messages() -> None:
    for bad in ("", "has space", "x" * 65):
        with pytest.raises(RoomError) as refused:
            send(room(), HOST, {"type": "caption.send", "utterance": bad, "text": "x"})
        assert refused.value.code == "invalid-message"


def test_the_snapshot_keeps_only_the_recent_lines() -> None:
    state = room()
    for n in range(CAPTION_TAIL + 5):
        outcome = send(
            state,
            HOST,
            {"type": "caption.send", "utterance": f"u{n}", "text": f"line {n}", "final": True},
            seed=n + 1,
        )
        CATALOGUE.apply(state, outcome.events[0], offset=3 + n)
    lines = state.snapshot(HOST)["captions"]["lines"]
    assert len(lines) == CAPTION_TAIL and lines[-1]["text"] == f"line {CAPTION_TAIL + 4}"


def test_the_automatic_switch() -> None:
    state = room()
    on = send(state, HOST, {"type": "caption.auto", "on": True})
    check(on.events[0], "sequenced")
    CATALOGUE.apply(state, on.events[0], offset=3)
    assert state.snapshot(STUDENT)["captions"]["auto"] is True
    assert send(state, HOST, {"type": "caption.auto", "on": True}).events == []
    with pytest.raises(RoomError):
        send(state, STUDENT, {"type": "caption.auto", "on": False})


def test_captioners_and_the_switch_are_not_public_settings() -> None:
    from rooms.state import public_settings

    shown = public_settings({"captioners": [STUDENT], "auto_captions": True, "lobby": True})
    assert "captioners" not in shown and "auto_captions" not in shown and shown["lobby"]


# ---------------------------------------------------------------- WebVTT

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_timestamps() -> None:
    assert timestamp(0) == "00:00:00.000"
    assert timestamp(3723.4567) == "01:02:03.457"
    assert timestamp(-2) == "00:00:00.000"


def test_webvtt_cues_are_relative_to_the_recording_and_clipped_to_it() -> None:
    lines = [
        TranscriptLine("Ada", "second line", at(12), at(14.5)),
        TranscriptLine("Ada", "before the recording", at(-10), at(-5)),
        TranscriptLine("", "spans the start", at(-1), at(2)),
        TranscriptLine("Bo <b>", "a < b & c --> d\n\nnext", at(20), at(40)),
        TranscriptLine("Ada", "after the end", at(61), at(63)),
    ]
    vtt = webvtt(lines, origin=T0, until=at(30))
    assert vtt.startswith("WEBVTT\n\n")
    assert vtt.split("\n\n")[1:] == [
        "1\n00:00:00.000 --> 00:00:02.000\nspans the start",
        "2\n00:00:12.000 --> 00:00:14.500\n<v Ada>second line",
        "3\n00:00:20.000 --> 00:00:30.000\n<v Bo &lt;b&gt;>a &lt; b &amp; c --&gt; d next\n",
    ]


def test_an_empty_transcript_is_a_valid_file() -> None:
    assert webvtt([], origin=T0) == "WEBVTT\n"
