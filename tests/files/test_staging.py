"""lms/files/staging.py: dropping an upload's staged bytes removes the file in a worker
thread (unlinking a large file takes a fraction of a second: never on the event loop)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from lms.files.staging import Staging


async def test_forget_removes_the_file_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staging = Staging(tmp_path / "uploads")
    upload_id = uuid.uuid4()
    staging.create(upload_id)
    removed_by: list[threading.Thread] = []
    unlink = Path.unlink

    def watched(path: Path, missing_ok: bool = False) -> None:
        removed_by.append(threading.current_thread())
        unlink(path, missing_ok)

    monkeypatch.setattr(Path, "unlink", watched)
    await staging.forget(upload_id)
    await staging.forget(upload_id)  # already gone: fine
    assert not staging.exists(upload_id)
    assert removed_by
    assert threading.main_thread() not in removed_by
