"""The guards every patch of aiortc/aioice/pylibsrtp/uvicorn internals goes through fail
loudly, the whole media fast path passes them on the pinned versions, and those versions
are pinned to a minor range."""

from __future__ import annotations

import tomllib
from importlib.metadata import version

import pytest
from aiortc import RTCRtpSender
from packaging.requirements import Requirement
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from kits.servers import ROOT
from media import fastpath
from media.fastpath import demux, passthrough, remb
from ops import internals


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
    with pytest.raises(RuntimeError, match=r"Probe\.absent is gone"):
        internals.require_attributes(Probe, ["absent"])  # a class names itself


async def test_the_fast_path_passes_its_checks_and_installs_once() -> None:
    fastpath.check()
    assert fastpath.install() is fastpath.NATIVE
    assert fastpath.installed() and fastpath.install() is fastpath.NATIVE  # idempotent
    assert demux._original is not None and passthrough._original_worker is not None
    gauges = fastpath.gauges()
    assert gauges["native_extension"] == float(fastpath.NATIVE)
    assert {"decoders_started", "frames_sent_native", "datagrams_received_direct"} <= set(gauges)


async def test_the_fast_path_check_fails_on_a_changed_internal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(remb, "ESTIMATOR_ATTR", "_RTCRtpReceiver__no_such_estimator")
    with pytest.raises(RuntimeError, match="remote bitrate estimator"):
        fastpath.check()
    monkeypatch.undo()
    monkeypatch.setattr(demux, "RX_BYTES", "_RTCDtlsTransport__renamed")
    with pytest.raises(RuntimeError, match=r"RTCDtlsTransport\._RTCDtlsTransport__renamed is gone"):
        fastpath.check()


def test_uvicorn_internals_our_protocols_override_are_still_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    internals.check_uvicorn()
    changed = (*internals.WEBSOCKET_SOURCE, "self.queue = SomethingElse()")
    monkeypatch.setattr(internals, "WEBSOCKET_SOURCE", changed)
    with pytest.raises(RuntimeError, match="WebSocketsSansIOProtocol no longer does"):
        internals.check_uvicorn()
    monkeypatch.setattr(internals, "WEBSOCKET_SOURCE", internals.WEBSOCKET_SOURCE[:1])
    monkeypatch.setattr(internals, "WEBSOCKET_METHODS", ("schedule_ping", "schedule_pong"))
    assert hasattr(WebSocketsSansIOProtocol, "schedule_ping")
    with pytest.raises(RuntimeError, match=r"WebSocketsSansIOProtocol\.schedule_pong is gone"):
        internals.check_uvicorn()


@pytest.mark.parametrize("name", ["aiortc", "aioice", "pylibsrtp", "uvicorn"])
def test_patched_libraries_are_pinned_to_the_installed_minor(name: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == name]
    assert len(found) == 1, f"{name} is not a declared dependency"
    spec = found[0].specifier
    assert spec.contains(version(name)), f"installed {name} {version(name)} is outside {spec}"
    upper = [s for s in spec if s.operator == "<"]
    assert upper, f"{name} has no upper bound"
    major, minor = (int(part) for part in version(name).split(".")[:2])
    assert upper[0].version == f"{major}.{minor + 1}", f"{name} is not pinned to one minor"
