"""`DocumentRegistry`: the documents loaded on this node, one pycrdt Doc per active document.

A document is loaded on first use (snapshot + log tail), shared by every local connection,
and unloaded once it has had no connection and no pending write for the idle time. Its
updates and awareness travel on the broker channel `docs:{name}` through a `Hub` of its
own: with the in-memory broker that is local fan-out; with a shared broker the other nodes
apply each publication to their copy (`observe`) before fanning it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from realtime.broker import Publication
from realtime.connection import Frame
from realtime.errors import BrokerUnavailableError, ResyncError, ServerShutdownError
from realtime.hub import Hub
from realtime.yjs import yrs
from realtime.yjs.awareness import AwarenessState
from realtime.yjs.document import (
    DocumentDeletedError,
    LiveDocument,
    Member,
    Rejections,
)
from realtime.yjs.errors import YjsError
from realtime.yjs.limits import DocumentLimits
from realtime.yjs.messages import encode_sync_update
from realtime.yjs.publication import (
    CHANNEL_PREFIX,
    DELETED,
    DocFrame,
    channel_of,
    decode_publication,
    encode_publication,
    is_control,
)
from realtime.yjs.settling import Settling
from realtime.yjs.surrogates import AstralIndex
from realtime.yjs.update_log import UpdateLog
from realtime.yjs.yrs import DocumentPolicy

logger = logging.getLogger("liveclass.documents")


class DocumentBusyError(BrokerUnavailableError):
    """The document is being deleted or the node is closing; try again shortly."""

    default_reason = "document unavailable, try again"


class _Sink:
    """The document's own channel membership: keeps the subscription while it is loaded."""

    def offer(self, frame: Frame) -> bool:
        return True


class DocumentRegistry:
    """Loads, shares, writes and unloads this node's documents."""

    def __init__(
        self,
        *,
        hub: Hub,
        log: UpdateLog,
        node_id: str,
        limits: DocumentLimits,
        policy_of: Callable[[str], DocumentPolicy | None] = lambda name: None,
    ) -> None:
        self.hub = hub
        self.policy_of = policy_of
        self.rejections = Rejections()
        self._refused: Publication | None = None  # the last publication `observe` refused
        self.log = log
        self.node_id = node_id
        self.limits = limits
        self.documents: dict[str, LiveDocument] = {}
        self._sinks: dict[str, _Sink] = {}
        self._loading: dict[str, asyncio.Future[LiveDocument]] = {}
        self._buffers: dict[str, list[Publication]] = {}
        self._blocked: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_conn_id = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.closing = False
        self.unloaded = 0
        self.settling = Settling(hub=hub, node_id=node_id, document_of=self.documents.get)
        hub.render = self.render
        hub.observe = self.observe

    def new_conn_id(self) -> int:
        """A connection id unique on this node (the origin carried with its updates)."""
        self._next_conn_id += 1
        return self._next_conn_id

    # ------------------------------------------------------------------ lifecycle

    async def acquire(self, name: str) -> LiveDocument:
        """The loaded document (loading it once if needed), held until `release`."""
        if self.closing:
            raise ServerShutdownError()
        if name in self._blocked:
            raise DocumentBusyError()
        document = self.documents.get(name) or await self._load_once(name)
        document.holds += 1
        document.compacted_at_rest = False
        self._idle.clear()
        if document.timer is not None:
            document.timer.cancel()
            document.timer = None
        return document

    def release(self, document: LiveDocument) -> None:
        """Drop a hold; the document unloads after the idle time once nothing holds it."""
        document.holds -= 1
        self._settled(document)

    async def attach(self, document: LiveDocument, member: Member) -> None:
        """Make `member` receive the document's publications."""
        await self.hub.join(document.channel, member)
        document.members[member.conn_id] = member

    def detach(self, document: LiveDocument, member: Member) -> None:
        """Stop sending the document's publications to `member`."""
        document.members.pop(member.conn_id, None)
        self.hub.leave(document.channel, member)

    async def _load_once(self, name: str) -> LiveDocument:
        if name in self._loading:
            return await asyncio.shield(self._loading[name])
        future: asyncio.Future[LiveDocument] = asyncio.get_running_loop().create_future()
        self._loading[name] = future
        try:
            document = await self._load(name)
            future.set_result(document)
            return document
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it
            raise
        finally:
            del self._loading[name]

    async def _load(self, name: str) -> LiveDocument:
        sink = _Sink()
        channel = channel_of(name)
        self._buffers[name] = []
        try:
            await self.hub.join(channel, sink)  # first, so no other node's update is missed
            loaded = await self.log.load(name)
            buffered = self._buffers.pop(name)
        except BaseException:
            self._buffers.pop(name, None)
            self.hub.leave(channel, sink)
            raise
        document = LiveDocument(
            name=name,
            ydoc=loaded.doc,
            awareness=AwarenessState(max_payload_size=self.limits.max_awareness_bytes),
            log=self.log,
            publisher=self.publish,
            limits=self.limits,
            log_length=loaded.log_length,
            log_bytes=loaded.log_bytes,
            snapshot_bytes=loaded.snapshot_bytes,
            on_settled=self._settled,
            on_corrupt=self._forget,
            rejections=self.rejections,
            policy=self.policy_of(name),
            astral=AstralIndex.of_state(loaded.doc.get_update()),
        )
        self.documents[name] = document
        self._sinks[name] = sink
        for publication in buffered:
            self.observe(publication)
        if document.log_length >= self.limits.compact_threshold:
            document.compact_soon()
        return document

    def _settled(self, document: LiveDocument) -> None:
        """Arm the idle timer once nothing holds the document and nothing is in flight.

        A document at rest is first compacted (once), so its next cold load reads a snapshot
        and no log tail: applying a tail to a large document costs far more than its size.
        """
        if document.holds > 0 or document.busy:
            return
        if self.documents.get(document.name) is not document:
            return
        if document.log_length and not document.compacted_at_rest:
            document.compacted_at_rest = True
            document.compact_soon()  # settles again when done
            return
        if document.timer is not None:
            if not self.closing:
                return
            document.timer.cancel()  # closing: unload now rather than after the idle time
        delay = 0.0 if self.closing else self.limits.idle_unload_seconds
        loop = asyncio.get_running_loop()
        document.timer = loop.call_later(delay, self._unload_if_idle, document)

    def _unload_if_idle(self, document: LiveDocument) -> None:
        document.timer = None
        if document.holds == 0 and not document.busy:
            self._forget(document)

    def _forget(self, document: LiveDocument) -> None:
        """Drop the document from memory; the next connection loads it from the database."""
        if self.documents.get(document.name) is not document:
            return
        if document.timer is not None:
            document.timer.cancel()
            document.timer = None
        del self.documents[document.name]
        self.hub.leave(document.channel, self._sinks.pop(document.name))
        self.unloaded += 1
        if not self.documents:
            self._idle.set()

    # ------------------------------------------------------------------ fan-out

    async def publish(self, document: LiveDocument, frame: bytes, origin: int) -> None:
        """Publish once on the document's channel; local members get it from the hub."""
        payload = encode_publication(self.node_id, origin, frame)
        try:
            await self.hub.publish(document.channel, payload)
        except BrokerUnavailableError:
            logger.warning("broker unavailable: %s served to this node only", document.name)
            rendered = DocFrame(frame)
            rendered.origin = origin
            self.hub.broadcast_local(document.channel, rendered)

    def render(self, publication: Publication) -> Frame:
        """Hub render: the y-websocket frame, tagged with the local connection that sent it."""
        node, origin, frame = decode_publication(publication.payload)
        rendered = DocFrame(frame)
        rendered.origin = origin if node == self.node_id else 0
        rendered.control = is_control(frame) or publication is self._refused
        return rendered

    def observe(self, publication: Publication) -> None:
        """Hub hook: apply another node's update or awareness to the local copy first.

        One that does not apply here is remembered, so `render` keeps it from clients.
        """
        name = publication.channel.removeprefix(CHANNEL_PREFIX)
        try:
            node, _, frame = decode_publication(publication.payload)
        except (YjsError, ValueError):
            logger.exception("ignoring a bad publication on %s", publication.channel)
            self._refused = publication
            return
        if self.settling.observe(name, node, frame):
            return  # answered whether or not the document is held: nothing is queued then
        if (buffer := self._buffers.get(name)) is not None:
            buffer.append(publication)
            return
        document = self.documents.get(name)
        if document is None:
            return
        try:
            if frame == DELETED:
                self._evict(document)
            elif node != self.node_id and not document.apply_remote(frame, node):
                self._refused = publication
        except (YjsError, ValueError):
            logger.exception("ignoring a bad publication on %s", publication.channel)
            self._refused = publication

    def on_broker_reset(self, channel: str) -> None:
        """The broker lost publications of a channel: catch its document up from the database.

        Every node stores an update before publishing it, so the database has whatever the
        lost publications carried; the difference is applied and sent to local connections.
        """
        if not channel.startswith(CHANNEL_PREFIX):
            return
        document = self.documents.get(channel.removeprefix(CHANNEL_PREFIX))
        if document is not None:
            task = asyncio.get_running_loop().create_task(self._resync(document))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _resync(self, document: LiveDocument) -> None:
        try:
            stored = await self.log.load(document.name)
        except Exception:
            logger.exception("could not resync %s; its connections reconnect", document.name)
            document.stop_all(DocumentBusyError())
            return
        missing = stored.doc.get_update(document.ydoc.get_state())
        try:
            document.trial.prove(missing)
        except YjsError:
            logger.exception("the stored state of %s does not apply; reloading", document.name)
            document.stop_all(ResyncError())
            self._forget(document)
            return
        yrs.apply(document.ydoc, missing)
        document.astral.add_update(missing)
        document.log_length, document.log_bytes = stored.log_length, stored.log_bytes
        document.snapshot_bytes = stored.snapshot_bytes
        frame = DocFrame(encode_sync_update(missing))
        frame.origin = 0
        self.hub.broadcast_local(document.channel, frame)

    # ------------------------------------------------------------------ server writes

    async def write(self, name: str, update: bytes) -> None:
        """Store and broadcast a server-side update (a restore); returns once it is sent."""
        document = await self.acquire(name)
        try:
            await document.submit(update)
        finally:
            self.release(document)

    async def settle_everywhere(self, name: str, *, within: float) -> None:
        """Wait until every node holding `name` has stored the edits its editors sent it
        (`realtime.yjs.settling`); `DocumentNotSettledError` if one does not confirm."""
        await self.settling.settle(name, within=within)

    async def delete(self, name: str, purge: Callable[[], Awaitable[None]]) -> None:
        """Delete a document everywhere: close its connections (4004) on every node, unload
        it, and run `purge` (erase it from the database) once nothing here can write to it.

        New connections are refused with 1013 meanwhile on this node; other nodes drop their
        copy when the deletion is announced, before and again after the purge.
        """
        self._blocked.add(name)
        try:
            document = self.documents.get(name)
            if document is not None:
                self._evict(document)
                while document.holds > 0 or document.busy:
                    await document.settle()
                    await asyncio.sleep(0.01)  # connections finish closing
            await self._announce_deleted(name)
            await purge()
            await self._announce_deleted(name)
        finally:
            self._blocked.discard(name)

    async def _announce_deleted(self, name: str) -> None:
        payload = encode_publication(self.node_id, 0, DELETED)
        try:
            await self.hub.publish(channel_of(name), payload)
        except BrokerUnavailableError:
            logger.warning("broker unavailable: other nodes may keep a deleted %s open", name)

    def _evict(self, document: LiveDocument) -> None:
        """Close the document's connections (4004) and forget it: the next one loads afresh."""
        document.stop_all(DocumentDeletedError())
        self._forget(document)

    async def drain(self, *, grace: float = 5.0) -> None:
        """Close every connection with 1001, let pending writes finish, unload everything."""
        self.closing = True
        for document in list(self.documents.values()):
            document.stop_all(ServerShutdownError())
            self._settled(document)
        if self.documents:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace)
        for document in list(self.documents.values()):
            await document.settle()

    def gauges(self) -> dict[str, float]:
        """Figures for /metrics."""
        documents = self.documents.values()
        return {
            "loaded": float(len(self.documents)),
            "connections": float(sum(len(d.members) for d in documents)),
            "stored_bytes": float(sum(d.stored_bytes for d in documents)),
            "log_length": float(sum(d.log_length for d in documents)),
            "unloaded_total": float(self.unloaded),
            "updates_refused_total": float(self.rejections.local),
            "remote_updates_refused_total": float(self.rejections.remote),
            "live_apply_failures_total": float(self.rejections.live_failures),
            "settles_answered_total": float(self.settling.answered),
            "settles_unconfirmed_total": float(self.settling.timeouts),
        }
