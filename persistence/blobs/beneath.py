"""Opening a file strictly below a directory in one system call: Linux's ``openat2`` with
``RESOLVE_BENEATH`` (5.6 and later), through ctypes since Python's ``os`` has no binding.

Why: the byte-serving fast path opens a blob per request, and the store's rule (a blob is
a file really under the store's root, whatever symlinks were planted there) otherwise costs
a ``readlink`` of ``/proc/self/fd/N`` after the open (``LocalBlobStore.open_for_sending``),
which was the dearest system call of a ranged read. The kernel checks the rule while it
resolves the path: ``..`` above the directory, absolute symlinks and symlinks leading out
fail with ``EXDEV``. Where ``openat2`` is missing (another system, an older kernel, a
seccomp filter) ``Beneath.open`` returns None and the caller uses its portable check.
"""

from __future__ import annotations

import ctypes
import errno
import os
from typing import Any

SYS_OPENAT2 = 437  # one number on every architecture since Linux 5.6
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_BENEATH = 0x08
UNAVAILABLE = (errno.ENOSYS, errno.EPERM, errno.E2BIG, errno.EINVAL)


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


_HOW_SIZE = ctypes.sizeof(_OpenHow)


class Beneath:
    """Opens files read-only below ``root`` (a descriptor on it is opened on first use and
    kept for the object's life)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._dir: int | None = None
        self._syscall: Any = None
        self.available = os.uname().sysname == "Linux"
        self._how = _OpenHow(os.O_RDONLY | os.O_CLOEXEC, 0, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

    def open(self, relative: str) -> int | None:
        """A read-only descriptor of ``relative`` below the root; None when ``openat2`` is
        not available here. Raises ``OSError`` as ``open`` does (``FileNotFoundError``...),
        with ``EXDEV`` for a path that leads out of the root."""
        if not self.available:
            return None
        if self._dir is None:
            self._dir = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            self._syscall = ctypes.CDLL(None, use_errno=True).syscall
        how = ctypes.byref(self._how)
        fd = int(self._syscall(SYS_OPENAT2, self._dir, os.fsencode(relative), how, _HOW_SIZE))
        if fd >= 0:
            return fd
        code = ctypes.get_errno()
        if code in UNAVAILABLE:
            self.available = False
            return None
        raise OSError(code, os.strerror(code), relative)
