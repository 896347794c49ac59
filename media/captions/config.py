"""Which speech-to-text engine a node runs, with which model, and how it segments speech.

Operators choose with settings (the node maps them here): ``engine`` is ``"whisper"``
(the bundled CTranslate2 engine; ``model_path`` empty means the bundled ``tiny.en``) or
``"module:factory"``, a callable that takes this config and returns a ``SpeechEngine``
(how a larger or different engine plugs in: docs/captions.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from media.captions.engine import EngineUnavailable, SpeechEngine
from media.captions.segmenter import Endpointing

COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32", "default", "auto")


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptionConfig:
    """Everything the captions worker needs; validated on construction."""

    engine: str = "whisper"
    model_path: Path | None = None
    compute_type: str = "int8"
    threads: int = 1
    workers: int = 1
    beam_size: int = 1
    min_window: float = 10.0
    max_pending: float = 5.0
    endpointing: Endpointing = field(default_factory=Endpointing)

    def __post_init__(self) -> None:
        if not self.engine or (self.engine != "whisper" and ":" not in self.engine):
            raise ValueError('engine must be "whisper" or "module:factory"')
        if self.compute_type not in COMPUTE_TYPES:
            raise ValueError(f"compute_type must be one of {', '.join(COMPUTE_TYPES)}")
        if not 1 <= self.threads <= 64:
            raise ValueError("threads must be between 1 and 64")
        if not 1 <= self.workers <= 64:
            raise ValueError("workers must be between 1 and 64")
        if not 1 <= self.beam_size <= 10:
            raise ValueError("beam_size must be between 1 and 10")
        if not 1.0 <= self.min_window <= 30.0:
            raise ValueError("min_window must be between 1 and 30 s")
        if not 0.5 <= self.max_pending <= 60.0:
            raise ValueError("max_pending must be between 0.5 and 60 s")


def load_engine(config: CaptionConfig) -> SpeechEngine:
    """The engine ``config`` names, loaded; ``EngineUnavailable`` says why it cannot be."""
    if config.engine == "whisper":
        from media.captions.whisper import WhisperEngine, WhisperOptions, bundled_model_path

        options = WhisperOptions(
            model_path=config.model_path or bundled_model_path(),
            compute_type=config.compute_type,
            threads=config.threads,
            beam_size=config.beam_size,
            min_window=config.min_window,
        )
        return WhisperEngine(options, endpointing=config.endpointing)
    module_name, _, attribute = config.engine.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise EngineUnavailable(f"cannot import the captions engine {config.engine}") from exc
    if not callable(factory):
        raise EngineUnavailable(f"{config.engine} is not callable")
    return cast(Callable[[CaptionConfig], SpeechEngine], factory)(config)
