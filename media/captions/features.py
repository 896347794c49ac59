"""Whisper's input: an 80-band log-mel spectrogram of 16 kHz audio, computed with numpy.

The recipe is the one Whisper was trained on: 25 ms Hann windows every 10 ms (a centred,
reflect-padded STFT), power spectra through a Slaney-style mel filter bank (0 to 8 kHz),
log10, a floor 8 (i.e. 80 dB) below the loudest value, then scaled to about [-1, 1].
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from media.captions.engine import SAMPLE_RATE

N_FFT = 400
HOP = 160
N_MELS = 80

Floats = npt.NDArray[np.float32]


def log_mel(audio: Floats, *, n_mels: int = N_MELS) -> Floats:
    """``[n_mels, len(audio) // HOP]`` features of ``audio`` (float32 in [-1, 1])."""
    if audio.ndim != 1:
        raise ValueError("audio must be one channel")
    padded = np.pad(audio.astype(np.float32), N_FFT // 2, mode="reflect")
    count = 1 + (padded.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        padded,
        shape=(count, N_FFT),
        strides=(padded.strides[0] * HOP, padded.strides[0]),
        writeable=False,
    )
    spectrum = np.fft.rfft(frames * _window(), axis=1)
    power = (spectrum.real**2 + spectrum.imag**2)[:-1]  # Whisper drops the last frame
    mel = _filters(n_mels) @ power.T.astype(np.float32)
    logs = np.log10(np.maximum(mel, 1e-10))
    logs = np.maximum(logs, logs.max() - 8.0)
    scaled: Floats = ((logs + 4.0) / 4.0).astype(np.float32)
    return scaled


@functools.cache
def _window() -> Floats:
    """A periodic Hann window of ``N_FFT`` samples."""
    n = np.arange(N_FFT, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / N_FFT)).astype(np.float32)


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above."""
    linear = hz * 3.0 / 200.0
    step = np.log(6.4) / 27.0
    log_part = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / step
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    step = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(step * (mel - 15.0)), mel * 200.0 / 3.0)


@functools.cache
def _filters(n_mels: int) -> Floats:
    """``[n_mels, N_FFT // 2 + 1]`` triangular filters, each normalised to equal area."""
    bins = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    top = _hz_to_mel(np.array([SAMPLE_RATE / 2], dtype=np.float64))[0]
    edges = _mel_to_hz(np.linspace(0.0, top, n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= 2.0 / (upper - lower)
    return weights.astype(np.float32)
