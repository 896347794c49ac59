"""Automatic captions: speech-to-text engines, the SFU's audio decoded for them, a worker.

Not yet wired into rooms or the SFU; docs/captions.md says how the pieces fit.
"""

from media.captions.config import CaptionConfig, load_engine
from media.captions.engine import (
    SAMPLE_RATE,
    Caption,
    CaptionInputError,
    EngineUnavailable,
    SpeechEngine,
    SpeechToText,
    Word,
)
from media.captions.segmenter import Endpointing
from media.captions.worker import CaptionStream, CaptionWorker

__all__ = [
    "SAMPLE_RATE",
    "Caption",
    "CaptionConfig",
    "CaptionInputError",
    "CaptionStream",
    "CaptionWorker",
    "Endpointing",
    "EngineUnavailable",
    "SpeechEngine",
    "SpeechToText",
    "Word",
    "load_engine",
]
