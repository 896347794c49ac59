"""The content digest of uploads and blobs: BLAKE3 (hex), which names a file's bytes in its
content key (``files/blake3/ab/abcd...``: equal files share one blob) and is shown to users.

Why BLAKE3 and not SHA-256: an upload hashes every byte it receives, on the node's cores,
before it is answered. SHA-256 (OpenSSL with the SHA extensions) takes 0.58 CPU-s per GiB
here, a third of the node's whole upload work; BLAKE3 takes 0.13 on one thread (AVX-512).
Switching lifted a 1 GiB tus upload from ~920 to ~1,300 MB/s and cut the node's CPU from
1.5 to 0.9 s per GiB (docs/benchmarks.md, "Content: uploads and file serving"). Files
stored before the switch keep their SHA-256 and their ``files/sha256/...`` keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from blake3 import blake3

ALGORITHM = "blake3"
READ_CHUNK = 1 << 20


class Hasher(Protocol):
    """What the upload path feeds bytes to: the content digest, a tus chunk checksum."""

    def update(self, data: bytes | memoryview, /) -> object: ...

    def hexdigest(self) -> str: ...


def new() -> Hasher:
    """A fresh content digest (its ``update`` releases the GIL: feed it from a thread)."""
    return blake3()


def of_file(path: Path) -> tuple[str, int]:
    """The content digest (hex) and size of a file, read in chunks (blocking)."""
    digest = new()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
