"""The decode path: the SFU's 48 kHz audio (frames or Opus packets) to 16 kHz mono s16."""

from __future__ import annotations

import av
import numpy as np
import pytest

from kits.peers import encode_opus
from media.captions.decode import OpusDecoder, PcmResampler
from media.captions.engine import CaptionInputError


def stereo_frame(samples: np.ndarray, *, rate: int = 48000, pts: int = 0) -> av.AudioFrame:
    interleaved = np.repeat(samples.astype(np.int16), 2).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout="stereo")
    frame.sample_rate = rate
    frame.pts = pts
    return frame


def tone(hz: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16)


def dominant_hz(pcm: bytes) -> float:
    x = np.frombuffer(pcm, np.int16).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.argmax(spectrum) * 16000 / x.size)


def test_aiortc_frames_become_16k_mono_with_the_same_pitch() -> None:
    """20 ms s16 stereo frames at 48 kHz, as aiortc's Opus decoder yields them."""
    resampler = PcmResampler()
    source = tone(440, 1.0, 48000)
    out = bytearray()
    for i in range(0, source.size, 960):
        out += resampler.convert(stereo_frame(source[i : i + 960], pts=i))
    out += resampler.flush()
    assert len(out) == 16000 * 2  # one second, mono, two bytes a sample
    assert abs(dominant_hz(bytes(out)) - 440) < 3
    assert np.abs(np.frombuffer(bytes(out), np.int16)).max() > 6000  # level kept


def test_a_format_change_mid_stream_starts_a_new_resampler() -> None:
    resampler = PcmResampler()
    out = bytearray(resampler.convert(stereo_frame(tone(300, 0.5, 48000))))
    mono = av.AudioFrame.from_ndarray(tone(300, 0.5, 44100).reshape(1, -1), layout="mono")
    mono.sample_rate = 44100
    out += resampler.convert(mono)
    out += resampler.flush()
    assert abs(len(out) - 16000 * 2) <= 64  # ~one second in all, none lost at the switch
    assert resampler.flush() == b""


def test_pts_gaps_and_jumps_do_not_matter() -> None:
    resampler = PcmResampler()
    out = bytearray()
    for n, pts in enumerate([0, 960, 50_000, 10, 10]):
        out += resampler.convert(stereo_frame(tone(500, 0.02, 48000), pts=pts + n))
    out += resampler.flush()
    assert len(out) == 5 * 320 * 2


def test_opus_packets_decode_to_16k_pcm() -> None:
    decoder = OpusDecoder()
    pcm = b"".join(decoder.decode(p) for p in encode_opus(50)) + decoder.flush()
    assert abs(len(pcm) - 16000 * 2) <= 640  # 50 packets of 20 ms, codec delay aside
    assert np.abs(np.frombuffer(pcm, np.int16)).max() > 1000


def test_opus_packets_decoded_in_batches_give_the_same_pcm_as_one_by_one() -> None:
    packets = encode_opus(50)
    single = OpusDecoder()
    one_by_one = b"".join(single.decode(p) for p in packets) + single.flush()
    batched = OpusDecoder()
    pcm = bytearray()
    for start in range(0, len(packets), 20):
        for payload in packets[start : start + 20]:
            batched.add(av.Packet(payload))  # as the SFU's tap hands them over
        pcm += batched.take()
    pcm += batched.flush()
    assert bytes(pcm) == one_by_one  # tiny.en is brittle: 1 in 32768 changed its words


def test_silence_for_a_gap_lands_between_the_packets_around_it() -> None:
    packets = encode_opus(10)
    decoder = OpusDecoder()
    for payload in packets[:5]:
        decoder.add(payload)
    decoder.add_silence(0.5)
    for payload in packets[5:]:
        decoder.add(payload)
    pcm = np.frombuffer(decoder.take() + decoder.flush(), np.int16)
    assert abs(pcm.size - 16000 * 0.7) <= 320
    quiet = np.abs(pcm[16000 * 15 // 100 : 16000 * 55 // 100])  # inside the gap
    assert quiet.max() == 0
    assert np.abs(pcm[-1600:]).max() > 1000  # the audio after it


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "not valid"),
        (bytes(5000), "not valid"),
        (b"\xff\xff\xff", "not a valid Opus packet"),
        ("text", "is bytes"),
    ],
)
def test_garbage_opus_gets_a_clear_error(payload: object, message: str) -> None:
    decoder = OpusDecoder()
    with pytest.raises(CaptionInputError, match=message):
        decoder.decode(payload)  # type: ignore[arg-type]
    assert len(decoder.decode(encode_opus(1)[0])) > 0  # the decoder carries on


def test_random_bytes_as_opus_never_raise_anything_else() -> None:
    decoder = OpusDecoder()
    rng = np.random.default_rng(11)
    for _ in range(200):
        payload = rng.integers(0, 256, int(rng.integers(1, 400)), dtype=np.uint8).tobytes()
        try:
            pcm = decoder.decode(payload)
        except CaptionInputError:
            continue
        assert len(pcm) % 2 == 0


def test_video_frames_and_strange_rates_are_refused() -> None:
    resampler = PcmResampler()
    video = av.VideoFrame(16, 16, "yuv420p")
    with pytest.raises(CaptionInputError, match=r"expected an av\.AudioFrame"):
        resampler.convert(video)  # type: ignore[arg-type]
    with pytest.raises(CaptionInputError, match="4000 Hz"):
        resampler.convert(stereo_frame(tone(100, 0.02, 4000), rate=4000))
    with pytest.raises(CaptionInputError, match="samples is more than"):
        resampler.convert(stereo_frame(tone(100, 3.0, 48000)))
