"""The guards every patch of aiortc/aioice internals goes through fail loudly."""

from __future__ import annotations

import pytest
from aiortc import RTCRtpSender

from media import internals


def test_source_guard_names_what_changed() -> None:
    internals.require_source(RTCRtpSender, ["self._run_rtp("])
    with pytest.raises(RuntimeError, match=r"aiortc\.rtcrtpsender\.RTCRtpSender no longer does"):
        internals.require_source(RTCRtpSender, ["self._run_rtp(", "a line aiortc never had"])


def test_attribute_guard_names_the_missing_attribute() -> None:
    class Probe:
        present = 1

    internals.require_attributes(Probe(), ["present"])
    with pytest.raises(RuntimeError, match=r"Probe\.absent is gone"):
        internals.require_attributes(Probe(), ["present", "absent"])
