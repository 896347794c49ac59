"""The baseline: stock aiortc as a server, ``MediaRelay`` to every subscriber (decode + encode).

This is what aiortc's examples do to share one incoming track with many viewers: the
receiver decodes it once, and each subscriber's sender encodes the decoded frames again.
Signalling is one WebSocket per peer: ``{"role": "publish", "sdp"}`` gets the answer back;
``{"role": "subscribe"}`` gets an offer and waits for ``{"sdp"}``. Usage: ``relay_server.py PORT``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from websockets.asyncio.server import ServerConnection, serve

relay = MediaRelay()
published: asyncio.Future[MediaStreamTrack] | None = None
peers: set[RTCPeerConnection] = set()


async def publish(ws: ServerConnection, sdp: str) -> None:
    assert published is not None
    pc = RTCPeerConnection()
    peers.add(pc)

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "video" and published is not None and not published.done():
            published.set_result(track)

    await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    await ws.send(json.dumps({"sdp": pc.localDescription.sdp}))


async def subscribe(ws: ServerConnection) -> None:
    assert published is not None
    track = await published
    pc = RTCPeerConnection()
    peers.add(pc)
    pc.addTrack(relay.subscribe(track))
    await pc.setLocalDescription(await pc.createOffer())
    await ws.send(json.dumps({"sdp": pc.localDescription.sdp}))
    answer = json.loads(await ws.recv())
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))


async def handle(ws: ServerConnection) -> None:
    request = json.loads(await ws.recv())
    if request["role"] == "publish":
        await publish(ws, request["sdp"])
    else:
        await subscribe(ws)
    await ws.wait_closed()


async def main() -> None:
    global published
    published = asyncio.get_running_loop().create_future()
    async with serve(handle, "127.0.0.1", int(sys.argv[1]), max_size=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
