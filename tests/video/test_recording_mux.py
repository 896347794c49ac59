"""A room recording's track files (VP8 WebM picture, Opus voices starting at different
times, as media/recording writes them) muxed into one source the ladder reads."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np
import pytest
from video_kit import decode_segments

from lms.video import ladder, probe, transcode
from lms.video.mux import Track, mux_recording


def _picture(path: Path, seconds: float) -> Path:
    with av.open(str(path), "w", format="webm") as out:
        assert isinstance(out, av.container.OutputContainer)
        stream = out.add_stream("libvpx", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for index in range(int(seconds * 30)):
            image = np.full((180, 320, 3), (index * 5) % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 30)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _voice(path: Path, seconds: float, hz: float) -> Path:
    with av.open(str(path), "w", format="webm") as out:
        assert isinstance(out, av.container.OutputContainer)
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        done = 0
        while done < seconds * 48000:
            tone = 0.4 * np.sin(2 * np.pi * hz * np.arange(done, done + 960) / 48000)
            frame = av.AudioFrame.from_ndarray(
                tone.astype(np.float32)[None, :], format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 48000, done
            for packet in stream.encode(frame):
                out.mux(packet)
            done += 960
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_picture_and_voices_become_one_source_and_a_ladder(tmp_path: Path) -> None:
    picture = Track(_picture(tmp_path / "camera.webm", 3.0), offset=0.5)
    voices = [
        Track(_voice(tmp_path / "host.webm", 2.0, 440), offset=0.5),
        Track(_voice(tmp_path / "student.webm", 1.0, 660), offset=2.0),
    ]
    source = mux_recording(picture, voices, tmp_path / "recording.mkv")
    info = probe.probe(source)
    assert (info.width, info.height, info.has_audio) == (320, 180, True)
    assert abs(info.duration - 3.0) < 0.2
    with av.open(str(source)) as container:
        assert isinstance(container, av.container.InputContainer)
        assert container.streams.video[0].codec_context.name == "vp8"  # copied, not re-encoded
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        audio = np.concatenate(
            [
                out.to_ndarray()
                for frame in container.decode(audio=0)
                for out in resampler.resample(frame)
            ],
            axis=1,
        )
    assert audio.shape[1] / 48000 == pytest.approx(2.5, abs=0.1)  # the last voice's end
    host_only = audio[:, int(0.2 * 48000) : int(1.4 * 48000)]
    both = audio[:, int(1.6 * 48000) : int(1.9 * 48000)]
    assert 0.25 < np.abs(host_only).max() < 0.4  # 0.4, mono spread over two channels (-3 dB)
    assert np.abs(both).max() > 0.45  # both voices summed where they overlap
    result = transcode.transcode(source, tmp_path / "out", info, ladder.plan(info))
    videos, audios, size = decode_segments(tmp_path / "out", result.renditions[0].name)
    assert size == (320, 180) and videos == 90 and audios > 0


def test_without_voices_the_picture_alone(tmp_path: Path) -> None:
    picture = Track(_picture(tmp_path / "screen.webm", 1.0))
    source = mux_recording(picture, [], tmp_path / "screen.mkv")
    assert probe.probe(source).has_audio is False
