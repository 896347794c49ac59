"""``LocalBlobStore``: blobs as files under a directory (by default ``<data_dir>/blobs``).

Writes go to a temporary file in the same directory tree and are renamed into place, so a
reader sees a whole blob or none. Content types sit beside the blobs in ``.meta/``; keys
never start with a dot (``check_key``), so no key can reach ``.meta/`` or ``.tmp/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from persistence.blobs import digest as content_digest
from persistence.blobs.beneath import Beneath
from persistence.blobs.store import BlobInfo, BlobNotFound, Hashing, Written, check_key

READ_CHUNK = 1 << 20
DEFAULT_TYPE = "application/octet-stream"


class LocalBlobStore:
    """A ``BlobStore`` on the local file system."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._root_text = str(self.root)
        self._beneath = Beneath(self._root_text)
        self._tmp = self.root / ".tmp"
        self._meta = self.root / ".meta"
        for folder in (self._tmp, self._meta):
            folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # a symlink planted under the root
            raise BlobNotFound(key)
        return path

    def _temp(self) -> Path:
        return self._tmp / secrets.token_hex(12)

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str = DEFAULT_TYPE
    ) -> Written:
        """Stream ``chunks`` into a temporary file, then rename it to ``key``."""
        target = self._path(key)
        temp = self._temp()
        hashing = Hashing(chunks)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            async for chunk in hashing:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
            await asyncio.to_thread(os.fsync, fd)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        os.close(fd)
        await asyncio.to_thread(self._install, temp, target, key, content_type)
        return Written(key, hashing.size, hashing.digest)

    async def put_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str = DEFAULT_TYPE,
        digest: str | None = None,
    ) -> Written:
        """Move ``path`` under ``key`` (a rename on the same file system, else a copy)."""
        target = self._path(key)
        if digest is None:
            known, size = await asyncio.to_thread(content_digest.of_file, path)
        else:
            known, size = digest, os.stat(path).st_size
        temp = self._temp()
        try:
            os.replace(path, temp)
        except OSError:
            await asyncio.to_thread(shutil.copyfile, path, temp)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        await asyncio.to_thread(self._install, temp, target, key, content_type)
        return Written(key, size, known)

    def _install(self, temp: Path, target: Path, key: str, content_type: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        meta = self._meta / key
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta_temp = self._temp()
        meta_temp.write_text(content_type)
        os.replace(meta_temp, meta)
        os.replace(temp, target)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream the bytes of ``key`` from ``start`` to ``end`` (exclusive)."""
        path = self._path(key)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        try:
            file.seek(start)
            left = None if end is None else max(0, end - start)
            while left is None or left > 0:
                size = READ_CHUNK if left is None else min(READ_CHUNK, left)
                chunk = await asyncio.to_thread(file.read, size)
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            file.close()

    async def stat(self, key: str) -> BlobInfo:
        """The blob's size, an entity tag from its size and mtime, and its content type."""
        path = self._path(key)
        try:
            found = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFound(key) from None
        try:
            content_type = (self._meta / key).read_text() or DEFAULT_TYPE
        except OSError:
            content_type = DEFAULT_TYPE
        return BlobInfo(
            key=key,
            size=found.st_size,
            etag=f'"{found.st_size:x}-{found.st_mtime_ns:x}"',
            content_type=content_type,
            modified=datetime.fromtimestamp(found.st_mtime, UTC),
        )

    async def exists(self, key: str) -> bool:
        """Whether a file has ``key``."""
        return self._path(key).is_file()

    async def delete(self, key: str) -> None:
        """Remove the blob and its metadata (missing is fine), in a worker thread:
        unlinking a 1 GiB file takes 0.17-0.33 s here, too long for the event loop."""
        await asyncio.to_thread(self._delete, key)

    def _delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            (self._meta / key).unlink(missing_ok=True)

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Every key under the root that starts with ``prefix``."""
        for folder, dirs, files in os.walk(self.root):
            here = Path(folder)
            if here == self.root:
                dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in sorted(files):
                key = (here / name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def local_path(self, key: str) -> Path | None:
        """The blob's file."""
        return self._path(key)

    def open_for_sending(self, key: str) -> int:
        """The blob's file opened read-only (a descriptor the caller closes), for
        ``sendfile``; ``FileNotFoundError`` when there is none.

        The rule is ``_path``'s (a plain key, a file really under the root), checked while
        opening instead of resolving each path component first (one system call per
        component, the byte-serving fast path's largest cost), and with no window between
        check and open: by the kernel with ``openat2`` (``beneath``; it also refuses
        absolute symlinks, which the fast path then hands to the ASGI route), else on the
        file actually opened, through its ``/proc/self/fd`` link, else with ``_path``.
        """
        relative = check_key(key)
        try:
            opened = self._beneath.open(relative)
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.ELOOP):
                raise BlobNotFound(key) from None
            raise
        if opened is not None:
            return opened
        fd = os.open(os.path.join(self._root_text, relative), os.O_RDONLY | os.O_CLOEXEC)
        try:
            try:
                real = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:  # pragma: no cover - a system without /proc
                real = str(self._path(key))
            if not real.startswith(self._root_text + os.sep):  # a symlink planted under the root
                raise BlobNotFound(key)
        except BaseException:
            os.close(fd)
            raise
        return fd
