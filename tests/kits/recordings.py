"""Room recordings as the SFU leaves them, written straight into a node's data directory and
database: VP8 cameras and screen shares, Opus voices, for tests of what is made of them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from kits.nodes import Node
from persistence.models import Recording, RecordingFile


def write_vp8(path: Path, seconds: float, colour: int) -> None:
    with av.open(str(path), "w", format="webm") as out:
        assert isinstance(out, av.container.OutputContainer)
        stream = out.add_stream("libvpx", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for index in range(int(seconds * 30)):
            image = np.full((240, 320, 3), colour, np.uint8)
            image[:, (index * 5) % 320] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 30)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def write_opus(path: Path, seconds: float, hertz: float) -> None:
    with av.open(str(path), "w", format="webm") as out:
        assert isinstance(out, av.container.OutputContainer)
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        samples = 0
        while samples < seconds * 48000:
            t = np.arange(samples, samples + 960) / 48000
            tone = (0.2 * np.sin(2 * np.pi * hertz * t)).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
            frame.sample_rate, frame.pts = 48000, samples
            for packet in stream.encode(frame):
                out.mux(packet)
            samples += 960
        for packet in stream.encode(None):
            out.mux(packet)


def seed_recording(node: Node, room_id: str, host_id: str, *, node_id: str) -> str:
    """A stopped recording of ``room_id`` with four track files, as the SFU leaves them."""
    folder = node.server.data_dir / "recordings"
    recording_id = uuid.uuid4()
    started = datetime.now(UTC) - timedelta(minutes=5)
    tracks: list[tuple[str, str, float, float, Callable[[Path], None]]] = [
        ("camera", "video", 0.0, 4.0, lambda p: write_vp8(p, 4.0, 40)),
        ("screen", "video", 1.0, 3.0, lambda p: write_vp8(p, 3.0, 200)),
        ("microphone", "audio", 0.0, 4.0, lambda p: write_opus(p, 4.0, 440)),
        ("microphone", "audio", 0.5, 3.0, lambda p: write_opus(p, 3.0, 660)),
    ]
    engine = create_engine(f"sqlite:///{node.server.data_dir / 'liveclass.db'}")
    with Session(engine) as session:
        session.add(
            Recording(
                id=recording_id,
                room_id=uuid.UUID(room_id),
                started_by=uuid.UUID(host_id),
                started_at=started,
                stopped_at=started + timedelta(seconds=5),
            )
        )
        session.flush()
        for index, (source, kind, offset, seconds, write) in enumerate(tracks):
            relative = f"{room_id}/{recording_id}/{index}-{source}.webm"
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            write(folder / relative)
            session.add(
                RecordingFile(
                    recording_id=recording_id,
                    track_id=f"t{index}",
                    user_id=uuid.UUID(host_id),
                    source=source,
                    kind=kind,
                    codec="vp8" if kind == "video" else "opus",
                    content_type=f"{kind}/webm",
                    path=relative,
                    node_id=node_id,
                    started_at=started + timedelta(seconds=offset),
                    stopped_at=started + timedelta(seconds=offset + seconds),
                    bytes=(folder / relative).stat().st_size,
                    duration=seconds,
                    frames=int(seconds * 30),
                )
            )
        session.commit()
    engine.dispose()
    return str(recording_id)
