"""Automatic captions on a real server: a host turns them on, an aiortc peer speaks an
espeak-ng sentence into its microphone track, and the other participants get captions
naming the speaker whose words match it (the word error rate is printed, the bound on
words is generous; nothing is asserted about timing). A dead worker process is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass

import pytest
from captions_kit import SENTENCES, opus_packets, silence, spoken, worker_processes

from kits.metrics import gauges
from kits.nodes import Node
from kits.peers import classroom
from kits.rooms import Message, Person, RoomClient, of, register
from kits.waiting import eventually
from media.captions.scoring import word_error_rate

SENTENCE = SENTENCES[0]
MAX_WER = 0.5


@dataclass
class People:
    host: Person
    speaker: Person
    viewer: Person


@pytest.fixture(scope="module")
def people(sqlite_node: Node) -> People:
    return People(register(sqlite_node, "instructor"), register(sqlite_node), register(sqlite_node))


def captions_gauges(node: Node) -> dict[str, float]:
    return gauges(node.url, "captions")


def auto_line(speaker: str) -> object:
    def match(m: Message) -> bool:
        return (
            m.get("type") == "caption.line"
            and m["line"]["source"] == "auto"
            and m["line"]["speaker_id"] == speaker
            and bool(m["line"]["text"].strip())
        )

    return match


async def test_a_spoken_sentence_becomes_a_caption_for_everyone(
    sqlite_node: Node, people: People
) -> None:
    audio = opus_packets(silence(0.5) + spoken(SENTENCE) + silence(1.5))
    async with classroom(sqlite_node, people.host, [people.speaker, people.viewer]) as room:
        host, speaker, viewer = room.clients
        await host.ack({"type": "caption.auto", "on": True})
        await viewer.next(of("caption.auto", on=True))
        # The engine loads when a room turns captions on (audio before that waits, up to
        # LIVECLASS_CAPTIONS_MAX_PENDING_SECONDS): on a busy machine that takes a while.
        await eventually(
            lambda: captions_gauges(sqlite_node).get("engine_loaded") == 1,
            "the captions engine to load",
            within=120,
        )
        await room.publish(speaker, {"microphone": ("audio/opus", audio)})

        event = await viewer.next(auto_line(speaker.user_id), within=90)
        line = event["line"]
        wer = word_error_rate(SENTENCE, line["text"])
        print(f"\nautomatic caption: {line['text']!r} (WER {wer:.2f} against {SENTENCE!r})")
        print(f"captions gauges: {captions_gauges(sqlite_node)}")
        assert wer <= MAX_WER, line
        assert line["speaker_name"] == people.speaker.name
        assert line["author_id"] is None and line["track_id"]
        assert line["start"] < line["end"]
        # The host and the speaker see the same line; late joiners get it in the snapshot.
        for client in (host, speaker):
            await client.next(lambda m, i=line["id"]: m.get("line", {}).get("id") == i)
        late = await RoomClient.enter(sqlite_node, people.viewer, room.room)
        assert line["id"] in [entry["id"] for entry in late.snapshot["captions"]["lines"]]
        await late.close()

        gauges = captions_gauges(sqlite_node)
        assert gauges["streams"] == 1 and gauges["finals_total"] >= 1
        assert gauges["engine_up"] == 1

        # A worker process dies: it is replaced and the captions go on.
        pids = worker_processes(sqlite_node.server.process.pid)  # type: ignore[union-attr]
        assert pids, "no caption worker process found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        await eventually(
            lambda: captions_gauges(sqlite_node).get("worker_restarts_total", 0) >= 1,
            "the worker to be restarted",
            within=60,
        )
        viewer.inbox.clear()
        again = await viewer.next(auto_line(speaker.user_id), within=90)
        print(f"after the restart: {again['line']['text']!r}")

        # Off: this node stops captioning the track.
        await host.ack({"type": "caption.auto", "on": False})
        await eventually(
            lambda: captions_gauges(sqlite_node).get("streams") == 0,
            "captioning to stop",
            within=30,
        )
        await asyncio.sleep(0)
