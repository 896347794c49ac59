"""Whisper's vocabulary as CTranslate2 stores it: token strings, specials, words back to text.

Whisper uses byte-level BPE: each token is a string of stand-in characters, one per byte
(printable Latin-1 bytes stand for themselves, the rest are mapped past U+0100). Turning
tokens back into text maps the characters to bytes and decodes UTF-8; a token that starts
with a space (byte 0x20, shown as U+0120) begins a new word.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def _byte_of_char() -> dict[str, int]:
    """The byte each stand-in character means."""
    kept = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    table = {chr(b): b for b in kept}
    extra = 0
    for b in range(256):
        if b not in kept:
            table[chr(256 + extra)] = b
            extra += 1
    return table


_BYTES = _byte_of_char()


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Token strings by id, and the special tokens a transcription prompt needs."""

    tokens: tuple[str, ...]
    end_of_text: int
    start_of_transcript: int
    english: int
    transcribe: int
    no_timestamps: int

    @classmethod
    def load(cls, model_dir: Path) -> Vocabulary:
        """Read ``vocabulary.txt`` (one token a line) or ``vocabulary.json`` (a list)."""
        text_file, json_file = model_dir / "vocabulary.txt", model_dir / "vocabulary.json"
        if text_file.is_file():
            tokens = tuple(text_file.read_text(encoding="utf-8").split("\n"))
        elif json_file.is_file():
            loaded = json.loads(json_file.read_text(encoding="utf-8"))
            if not isinstance(loaded, list) or not all(isinstance(t, str) for t in loaded):
                raise ValueError("vocabulary.json is not a list of strings")
            tokens = tuple(loaded)
        else:
            raise ValueError(f"no vocabulary.txt or vocabulary.json in {model_dir}")
        index = {token: i for i, token in enumerate(tokens)}

        def special(name: str) -> int:
            if name not in index:
                raise ValueError(f"the vocabulary has no {name}")
            return index[name]

        return cls(
            tokens=tokens,
            end_of_text=special("<|endoftext|>"),
            start_of_transcript=special("<|startoftranscript|>"),
            english=special("<|en|>"),
            transcribe=special("<|transcribe|>"),
            no_timestamps=special("<|notimestamps|>"),
        )

    def prompt(self, *, multilingual: bool) -> list[int]:
        """The start of an English transcription without timestamp tokens."""
        if multilingual:
            return [self.start_of_transcript, self.english, self.transcribe, self.no_timestamps]
        return [self.start_of_transcript, self.no_timestamps]

    def words(self, ids: list[int]) -> Iterator[tuple[str, list[int]]]:
        """Each word of the decoded text with the positions (in ``ids``) of its tokens."""
        pending: list[int] = []
        raw = bytearray()
        for position, token_id in enumerate(ids):
            piece = self._bytes(token_id)
            if piece[:1] == b" " and pending:
                yield from self._word(raw, pending)
                pending, raw = [], bytearray()
            pending.append(position)
            raw += piece
        if pending:
            yield from self._word(raw, pending)

    def text(self, ids: list[int]) -> str:
        """The decoded text of ``ids`` (specials left out)."""
        return b"".join(self._bytes(i) for i in ids).decode("utf-8", "replace").strip()

    def _bytes(self, token_id: int) -> bytes:
        if not 0 <= token_id < self.end_of_text:
            return b""
        return bytes(_BYTES.get(ch, 0x3F) for ch in self.tokens[token_id])

    @staticmethod
    def _word(raw: bytearray, positions: list[int]) -> Iterator[tuple[str, list[int]]]:
        text = raw.decode("utf-8", "replace").strip()
        if text:
            yield text, positions
