"""The floor under any Python SFU on this machine: a uvloop UDP relay that does nothing else.

A sender process sends the clip's frames as ~1200-byte datagrams at 30 fps (the packet rate
the SFU receives); the relay forwards each datagram to N sockets, which a sink process
drains. No ICE, DTLS, SRTP, RTP or RTCP: what is measured is the relay's CPU for the wake-ups
and ``sendto`` calls alone. Prints one JSON object. Usage::

    python bench/sfukit/udp_floor.py N SECONDS WARMUP
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import socket
import sys
import time
from pathlib import Path

import uvloop

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import benchpath  # noqa: E402, F401  (the kits: tests/kits)
from clip import FPS, load_clip  # noqa: E402

from kits.stats import cpu_seconds  # noqa: E402

PAYLOAD = 1200
Address = tuple[str, int]


def datagrams(frame: bytes) -> list[bytes]:
    """A frame cut into RTP-sized datagrams."""
    return [frame[i : i + PAYLOAD] for i in range(0, len(frame), PAYLOAD)] or [b"\0"]


def send_clip(target: Address, seconds: float) -> None:
    """Play the clip at 30 fps as datagrams to ``target`` (runs in the sender process)."""
    clip = [datagrams(frame) for frame in load_clip()]
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    index = 0
    while time.monotonic() - start < seconds:
        for data in clip[index % len(clip)]:
            out.sendto(data, target)
        index += 1
        time.sleep(max(0.0, start + index / FPS - time.monotonic()))


def drain(sinks: list[socket.socket], seconds: float) -> None:
    """Read whatever reaches the sink sockets (runs in the sink process)."""
    selector = selectors.DefaultSelector()
    for sink in sinks:
        sink.setblocking(False)
        selector.register(sink, selectors.EVENT_READ)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in selector.select(0.5):
            with contextlib.suppress(BlockingIOError):
                key.fileobj.recv(2048)  # type: ignore[union-attr]


class Relay(asyncio.DatagramProtocol):
    """Forwards every datagram to each subscriber address."""

    def __init__(self, targets: list[Address]) -> None:
        self.targets = targets
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def datagram_received(self, data: bytes, addr: Address) -> None:
        assert self.transport is not None
        for target in self.targets:
            self.transport.sendto(data, target)


def fork(work: object, *args: object) -> int:
    """Run ``work(*args)`` in a child process that exits afterwards."""
    pid = os.fork()
    if pid == 0:
        try:
            work(*args)  # type: ignore[operator]
        finally:
            os._exit(0)
    return pid


async def measure(subscribers: int, seconds: float, warmup: float) -> dict[str, float]:
    total = warmup + seconds + 2
    sinks = []
    for _ in range(subscribers):
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sinks.append(sink)
    children = [fork(drain, sinks, total)]
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Relay([s.getsockname() for s in sinks]), local_addr=("127.0.0.1", 0)
    )
    children.append(fork(send_clip, transport.get_extra_info("sockname"), total - 1))
    await asyncio.sleep(warmup)
    cpu, start = cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - start
    cores = (cpu_seconds() - cpu) / elapsed
    transport.close()
    for pid in children:
        await asyncio.to_thread(os.waitpid, pid, 0)
    return {"subscribers": subscribers, "seconds": round(elapsed, 2), "server_cores": cores}


def main() -> None:
    subscribers, seconds, warmup = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(uvloop.run(measure(subscribers, seconds, warmup))))


if __name__ == "__main__":
    main()
