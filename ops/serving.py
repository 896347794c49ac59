"""Serving an app with uvicorn: the node's settings for it, a graceful drain, a tuned GC.

`serve_app` runs until SIGINT/SIGTERM; `DrainingServer` then reports not-ready for the
shutdown delay while still serving (so load balancers stop sending), stops accepting,
closes WebSockets with 1001 (before uvicorn's own 1012) and lets uvicorn finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
from collections.abc import Awaitable, Callable
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from ops import health
from ops.fastpath import FastPaths
from ops.server_protocol import http_protocol_class
from realtime.ws_protocol import LeanWebSocketProtocol
from settings import Settings


def uvicorn_config(
    app: ASGIApp, settings: Settings, *, host: str, port: int, fast: FastPaths | None = None
) -> uvicorn.Config:
    """uvicorn's settings for a node: our HTTP and WebSocket protocols (the HTTP one with
    the byte-serving fast path when ``fast`` is given), pings, proxies."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http_protocol_class(fast),
        ws=LeanWebSocketProtocol,
        log_config=None,
        ws_max_size=max(settings.max_request_bytes, settings.yjs_max_update_bytes),
        ws_max_queue=16,
        ws_ping_interval=10.0,
        ws_ping_timeout=10.0,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=10,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
    )


def serve_app(
    app: ASGIApp,
    settings: Settings,
    *,
    host: str,
    port: int,
    readiness: health.Readiness,
    drain: Callable[[], Awaitable[None]],
    fast: FastPaths | None = None,
) -> None:
    """Run ``app`` until SIGINT/SIGTERM, then drain and return (a clean exit)."""
    tune_garbage_collector()
    config = uvicorn_config(app, settings, host=host, port=port, fast=fast)
    # uvicorn re-raises the signal that stopped it once it has shut down gracefully; with
    # the default handlers the process would then die "killed by SIGTERM" (or print a
    # KeyboardInterrupt traceback). A graceful stop is a clean exit: status 0. uvicorn
    # installs its own handlers while it runs and restores these afterwards.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _stopped)
    DrainingServer(
        config, readiness=readiness, drain=drain, delay=settings.shutdown_delay_seconds
    ).run()


def tune_garbage_collector() -> None:
    """Keep collections rare and short with thousands of connections and requests.

    Objects built at start-up (modules, the app) are frozen out of the collector, and the
    young generation is collected less often: with 1,000 clients the default thresholds
    caused 250-300 ms pauses every few seconds (see docs/benchmarks.md). The middle one is
    collected every second young collection, not every twentieth: under an exam's load
    ~20,000 objects outlive each young collection (the requests in flight), and twenty of
    those made one middle collection of ~250,000 dead objects, a 0.57 s pause that was the
    exam's p99 submission (451 ms; 75 ms at 2).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 2, 10)


class DrainingServer(uvicorn.Server):
    """uvicorn with a graceful drain: report not-ready for ``delay`` seconds while still
    serving (so load balancers stop sending), stop accepting, close WebSockets with 1001
    (before uvicorn's own 1012), then let uvicorn finish."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        readiness: health.Readiness,
        drain: Callable[[], Awaitable[None]],
        delay: float,
    ) -> None:
        super().__init__(config)
        self._readiness = readiness
        self._drain = drain
        self._delay = delay
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        """uvicorn's housekeeping once a second rather than every 100 ms (an idle node woke
        ten times a second); a stop signal still ends the loop at once."""
        self._loop = asyncio.get_running_loop()
        ticks = 0
        while not await self.on_tick(ticks):
            ticks = (ticks + 10) % 864_000  # uvicorn refreshes its Date header when % 10 == 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 1.0)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """uvicorn's exit flag, and wake the main loop at once."""
        super().handle_exit(sig, frame)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Not ready, wait ``delay``, stop accepting, drain, then uvicorn's shutdown."""
        self._readiness.draining = True
        if self._delay:
            await asyncio.sleep(self._delay)
        for server in self.servers:
            server.close()
        await self._drain()
        await super().shutdown(sockets)


def _stopped(_signum: int, _frame: FrameType | None) -> None:
    """Receive the stop signal uvicorn re-raises after its graceful shutdown."""
