"""RFC 7983 demultiplexing: media datagrams bypass aioice's STUN parser, ICE still works."""

from __future__ import annotations

import asyncio

import aioice
from aioice import stun

from media import demux


async def connected_pair() -> tuple[aioice.Connection, aioice.Connection]:
    one = aioice.Connection(ice_controlling=True)
    two = aioice.Connection(ice_controlling=False)
    await asyncio.gather(one.gather_candidates(), two.gather_candidates())
    for a, b in ((one, two), (two, one)):
        for candidate in b.local_candidates:
            await a.add_remote_candidate(candidate)
        await a.add_remote_candidate(None)
        a.remote_username, a.remote_password = b.local_username, b.local_password
    await asyncio.gather(one.connect(), two.connect())
    return one, two


async def test_media_and_stun_lookalikes_arrive_in_order_after_ice() -> None:
    demux.install()
    demux.install()  # idempotent
    one, two = await connected_pair()  # the checks themselves are STUN: they still work
    try:
        rtp = bytes([0x80, 96]) + bytes(30)
        rtcp = bytes([0x81, 200]) + bytes(26)
        dtls = bytes([22, 0xFE, 0xFD]) + bytes(20)
        # An RTP packet whose sequence number happens to make it parse as STUN (length
        # field = datagram length - 20): aioice alone would have taken it for STUN.
        lookalike = bytes([0x80, 0x01, 0x00, 12]) + stun.COOKIE.to_bytes(4, "big") + bytes(24)
        assert len(lookalike) == 20 + 12
        for data in (rtp, rtcp, dtls, lookalike):
            await one.send(data)
        got = [await asyncio.wait_for(two.recv(), 5) for _ in range(4)]
        assert got == [rtp, rtcp, dtls, lookalike]
    finally:
        await one.close()
        await two.close()
