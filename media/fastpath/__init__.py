"""The SFU's media fast path: aiortc, aioice and pylibsrtp patched for forwarding, as one unit.

What: every place the SFU reaches into a library's internals lives here. ``passthrough``
and ``jitter`` take encoded frames off aiortc's receivers instead of decoding them;
``payloads``, ``rtp_writer`` and ``report_clock`` replace a subscriber sender's RTP and
RTCP loops; ``srtp_send`` (with the C extension ``_srtp``) protects and sends a frame in one
call; ``demux`` and ``eager`` take media datagrams past aioice's STUN parser and queue;
``remb`` is aiortc's bandwidth estimator in fewer steps.

Why one unit: each of those relies on private names and on how pinned versions are
written (pyproject.toml pins aiortc 1.16.x, aioice 0.13.x, pylibsrtp 1.0.x). ``check()``
asserts all of them at once, on probe objects, and ``install()`` runs it and applies the
process-wide patches when the node starts (server.py), so an upgrade that breaks one stops
the node at start-up instead of failing a class at its first subscriber. Without the
native extension media still flows, on aiortc's and pylibsrtp's own paths; ``install()``
says so in one warning line and ``gauges()`` exports it (``liveclass_media{kind=
"native_extension"}`` 0 or 1).

The figure: with pass-through each extra subscriber cost ~0.025 CPU-seconds per second
instead of ~0.19 through aiortc's ``MediaRelay`` (docs/benchmarks.md: 20x-50x at 5-50
subscribers); the native send, the RFC 7983 demultiplexing, the lean estimator and the one
RTCP clock took another 28% off at 5 subscribers.
"""

from __future__ import annotations

import logging

from aiortc import (
    RTCCertificate,
    RTCDtlsTransport,
    RTCIceGatherer,
    RTCIceTransport,
    RTCRtpReceiver,
    RTCRtpSender,
)

from media.fastpath import demux, passthrough, remb, report_clock, rtp_writer, srtp_send

logger = logging.getLogger("liveclass.media")

NATIVE = srtp_send.NATIVE
"""Whether the native extension (``media.fastpath._srtp``) was compiled on this machine."""

MISSING = (
    "media native extension media.fastpath._srtp is missing (not compiled at install): "
    "media is forwarded on aiortc's slower send and receive paths; reinstall liveclass "
    "where a C compiler and the Python headers are present"
)

_installed = False


def probe() -> tuple[RTCRtpSender, RTCRtpReceiver]:
    """A video sender and receiver on an unconnected transport: no socket, no task."""
    ice = RTCIceTransport(RTCIceGatherer())
    dtls = RTCDtlsTransport(ice, [RTCCertificate.generateCertificate()])
    return RTCRtpSender("video", dtls), RTCRtpReceiver("video", dtls)


def check() -> None:
    """Raise ``RuntimeError`` naming the first private name, signature or line of aiortc,
    aioice or pylibsrtp that is not what the fast path was written against."""
    passthrough.check_internals()
    demux.check_source()
    sender, receiver = probe()
    rtp_writer.check_internals(sender)
    report_clock.check_internals(sender)
    srtp_send.check_internals(sender.transport)
    demux.check_internals(sender.transport)
    passthrough.check_receiver(receiver)
    remb.check_internals(receiver)


def install() -> bool:
    """``check()``, then patch aioice's datagram handler and aiortc's decoder worker for the
    whole process; log whether the native extension is there. Once per process (later calls
    do nothing); returns ``NATIVE``."""
    global _installed
    if _installed:
        return NATIVE
    check()
    passthrough.install()
    demux.install()
    _installed = True
    if NATIVE:
        logger.info("media fast path installed, native extension media.fastpath._srtp loaded")
    else:
        logger.warning(MISSING)
    return NATIVE


def installed() -> bool:
    """Whether ``install()`` has run in this process."""
    return _installed


def gauges() -> dict[str, float]:
    """The fast path's figures for /metrics (merged into ``liveclass_media{kind=…}``)."""
    return {
        "native_extension": float(NATIVE),
        "decoders_started": float(passthrough.COUNTS["decoders_started"]),
        "decoders_skipped": float(passthrough.COUNTS["decoders_skipped"]),
        "frames_sent_native": float(srtp_send.COUNTS["native_frames"]),
        "frames_sent_aiortc": float(srtp_send.COUNTS["fallback_frames"]),
        "datagrams_received_direct": float(demux.COUNTS["direct"]),
    }
