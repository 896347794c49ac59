"""Request/reply between nodes over Redis pub/sub: one relay channel per node.

Requests carry a correlation id and the sender's node id; the receiver runs them (each in a
task of its own, so the reader never waits) and publishes the ``Reply`` to the sender's
channel. A request nobody reads (``PUBLISH`` reached no subscriber: the node is gone) fails
at once; one left unanswered fails after its timeout.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from media.errors import MediaError, MediaUnavailable
from media.placement import relay_channel
from media.relay import Deliver, Op, RelayDecodeError, Reply, Request, decode, encode
from realtime.errors import BrokerUnavailableError
from realtime.redis_subscriber import RedisSubscriber

logger = logging.getLogger("liveclass.media")
Serve = Callable[[Request], Awaitable[dict[str, Any] | None]]


class RelayUnreachable(MediaUnavailable):
    """No node reads the target's relay channel (it is dead or cut off from Redis)."""


class RelayTimeout(MediaUnavailable):
    """The target node did not answer in time."""


class RemoteMediaError(MediaError):
    """The owner node refused the operation; ``code`` is its wire error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RelayBus:
    """This node's relay channel: send requests and deliveries, serve what arrives."""

    def __init__(
        self,
        client: Redis,
        *,
        node_id: str,
        serve: Serve,
        on_deliver: Callable[[Deliver], None],
        timeout: float = 5.0,
    ) -> None:
        self.client = client
        self.node_id = node_id
        self.channel = relay_channel(node_id).encode()
        self._serve = serve
        self._on_deliver = on_deliver
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._subscriber = RedisSubscriber(
            client,
            sharded=False,
            channels=lambda: [self.channel],
            on_message=self._on_message,
            on_resubscribed=lambda: None,
            reconnect_delays=(0.1, 2.0),
            ping_interval=max(1.0, timeout),
            timeout=timeout,
        )

    async def start(self) -> None:
        """Subscribe to this node's channel (retried in the background if Redis is down)."""
        self._subscriber.start()
        try:
            await self._subscriber.subscribe(self.channel)
        except BrokerUnavailableError:
            logger.warning("media relay channel not subscribed yet (redis unavailable)")

    # ------------------------------------------------------------------ sending

    async def request(self, node_id: str, op: Op, *, within: float) -> dict[str, Any]:
        """Run ``op`` on ``node_id``; its result, or its media error re-raised here."""
        request = Request(secrets.token_hex(8), self.node_id, op)
        waiter: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[request.id] = waiter
        try:
            if not await self._publish(node_id, encode(request)):
                raise RelayUnreachable(f"Media node {node_id} is unreachable.")
            try:
                reply = await asyncio.wait_for(waiter, within)
            except TimeoutError:
                raise RelayTimeout(f"Media node {node_id} did not answer.") from None
        finally:
            self._pending.pop(request.id, None)
        if reply.code is not None:
            raise RemoteMediaError(reply.code, reply.message)
        return reply.result or {}

    async def deliver(self, node_id: str, message: Deliver) -> bool:
        """Send a direct message to a connection held by ``node_id``; False if unread."""
        try:
            return await self._publish(node_id, encode(message))
        except MediaUnavailable:
            return False

    async def _publish(self, node_id: str, payload: bytes) -> bool:
        try:
            return int(await self.client.publish(relay_channel(node_id), payload)) > 0
        except RedisError as exc:
            raise MediaUnavailable(f"The media relay is unavailable ({exc}).") from exc

    # ------------------------------------------------------------------ receiving

    def _on_message(self, _channel: bytes, data: bytes) -> None:
        try:
            message = decode(data)
        except RelayDecodeError as exc:
            logger.warning("bad relay message ignored: %s", exc)
            return
        if isinstance(message, Reply):
            waiter = self._pending.get(message.id)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
        elif isinstance(message, Request):
            self._spawn(self._answer(message))
        else:
            self._on_deliver(message)

    async def _answer(self, request: Request) -> None:
        try:
            reply = Reply(request.id, await self._serve(request) or {})
        except MediaError as error:
            reply = Reply(request.id, code=error.code, message=error.message)
        except Exception:
            logger.exception("relayed media request failed")
            reply = Reply(request.id, code="media-error", message="The media node failed.")
        try:
            await self._publish(request.origin, encode(reply))
        except MediaUnavailable:
            logger.warning("relay reply lost", extra={"node": request.origin})

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop reading; fail whatever still waits for a reply."""
        await self._subscriber.close()
        for waiter in self._pending.values():
            if not waiter.done():
                waiter.set_exception(MediaUnavailable("The server is shutting down."))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
