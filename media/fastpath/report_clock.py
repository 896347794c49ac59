"""RTCP sender reports of every SFU sender on one timer, and none for a sender that is idle.

aiortc gives each ``RTCRtpSender`` its own RTCP task that wakes every 0.5-1.5 s to send a
sender report (SR) and SDES, also for a transceiver that has never sent a packet. A
subscriber has a slot per kind, so a class of N students costs 2N wake-ups a second on top
of the media; on a virtual machine each wake-up from idle costs more than the report.
``ReportClock`` sends the same reports, built as aiortc builds them, for every sender in
one wake-up, skips senders that have sent no RTP (RFC 3550 6.4: only senders send SR), and
still ends each stream with aiortc's RTCP BYE. Each private name is asserted by
``check_internals``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

from aiortc import RTCRtpSender
from aiortc.rtp import (
    AnyRtcpPacket,
    RtcpByePacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
)

from media.fastpath.rtp_writer import NTP_TIMESTAMP, OCTETS, PACKETS, RTP_TIMESTAMP
from ops import internals

logger = logging.getLogger("liveclass.media")

STARTED = "_RTCRtpSender__rtcp_started"
EXITED = "_RTCRtpSender__rtcp_exited"
CNAME = "_RTCRtpSender__cname"
LSR = "_RTCRtpSender__lsr"
LSR_TIME = "_RTCRtpSender__lsr_time"
PRIVATE = (STARTED, EXITED, CNAME, LSR, LSR_TIME, NTP_TIMESTAMP, RTP_TIMESTAMP, OCTETS, PACKETS)


def sender_report(sender: RTCRtpSender) -> list[AnyRtcpPacket]:
    """aiortc's SR + SDES for ``sender`` (and the LSR it keeps to compute round-trip times)."""
    ntp = getattr(sender, NTP_TIMESTAMP)
    packets: list[AnyRtcpPacket] = [
        RtcpSrPacket(
            ssrc=sender._ssrc,
            sender_info=RtcpSenderInfo(
                ntp_timestamp=ntp,
                rtp_timestamp=getattr(sender, RTP_TIMESTAMP),
                packet_count=getattr(sender, PACKETS) & 0xFFFFFFFF,
                octet_count=getattr(sender, OCTETS) & 0xFFFFFFFF,
            ),
        )
    ]
    setattr(sender, LSR, (ntp >> 16) & 0xFFFFFFFF)
    setattr(sender, LSR_TIME, time.time())
    cname: str | None = getattr(sender, CNAME)
    if cname is not None:
        items = [(1, cname.encode("utf8"))]
        packets.append(RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=sender._ssrc, items=items)]))
    return packets


class ReportClock:
    """Sends the reports of every registered sender each 0.5-1.5 s, in one wake-up."""

    def __init__(self) -> None:
        self.senders: dict[RTCRtpSender, None] = {}  # insertion-ordered set
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    def add(self, sender: RTCRtpSender) -> None:
        """Report for ``sender`` from the next tick on."""
        self.senders[sender] = None
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._run())

    def discard(self, sender: RTCRtpSender) -> None:
        """No more reports for ``sender``; the timer stops with the last one."""
        self.senders.pop(sender, None)
        if not self.senders and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while self.senders:
            await asyncio.sleep(0.5 + random.random())
            self.ticks += 1
            for sender in list(self.senders):
                if not getattr(sender, PACKETS) or sender not in self.senders:
                    continue  # idle (no RTP sent yet), or gone while the others were sent
                try:
                    await sender._send_rtcp(sender_report(sender))
                except Exception:  # one broken sender must not stop everyone's reports
                    logger.exception("RTCP sender report failed")


CLOCK = ReportClock()


def install(sender: RTCRtpSender, clock: ReportClock = CLOCK) -> None:
    """Replace ``sender``'s own RTCP loop with ``clock``; call before negotiation starts it."""

    async def run_rtcp() -> None:
        getattr(sender, STARTED).set()
        clock.add(sender)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.get_running_loop().create_future()  # until stop() cancels this
        clock.discard(sender)
        await sender._send_rtcp([RtcpByePacket(sources=[sender._ssrc])])
        getattr(sender, EXITED).set()

    sender._run_rtcp = run_rtcp  # type: ignore[method-assign]


SENDER = (
    "asyncio.ensure_future(self._run_rtcp())",
    "self.__lsr = ((self.__ntp_timestamp) >> 16) & 0xFFFFFFFF",
    "if self.__lsr == report.lsr and report.dlsr:",
)


def check_internals(sender: RTCRtpSender) -> None:
    """Fail loudly if an aiortc sender lacks what the report clock reads or writes."""
    internals.require_source(RTCRtpSender, SENDER)
    internals.require_attributes(sender, PRIVATE)
    if not callable(getattr(sender, "_send_rtcp", None)):
        raise RuntimeError("aiortc RTCRtpSender._send_rtcp is gone")
