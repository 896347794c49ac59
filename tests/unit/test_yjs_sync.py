"""SyncSession: the y-websocket handshake, updates, awareness and convergence of real docs."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import pycrdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.yjs.awareness import AwarenessEntry, AwarenessState, encode_awareness_update
from realtime.yjs.errors import MalformedMessage, MessageTooLarge, UnknownMessageType
from realtime.yjs.messages import (
    Auth,
    Awareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_auth_denied,
    encode_awareness,
    encode_query_awareness,
    encode_sync_step1,
    encode_sync_step2,
    encode_sync_update,
)
from realtime.yjs.sync import (
    EMPTY_UPDATE,
    READ_ONLY_REASON,
    Action,
    ApplyUpdate,
    Broadcast,
    Reply,
    SyncSession,
    WriteRejected,
    YDocument,
    apply_update,
)

EMPTY_STEP1 = bytes([0, 0, 1, 0])
Encode = Callable[[bytes], bytes]


def new_doc() -> pycrdt.Doc[Any]:
    return pycrdt.Doc()


def text_doc(content: str = "") -> pycrdt.Doc[Any]:
    doc = new_doc()
    text = doc.get("text", type=pycrdt.Text)
    text += content
    return doc


def text_of(doc: pycrdt.Doc[Any]) -> str:
    return str(doc.get("text", type=pycrdt.Text))


def aw(*entries: tuple[int, int, str]) -> bytes:
    return encode_awareness(encode_awareness_update(AwarenessEntry(*e) for e in entries))


def session(
    doc: YDocument | None = None,
    awareness: AwarenessState | None = None,
    *,
    connection: Hashable = "c1",
    read_only: bool = False,
) -> SyncSession:
    return SyncSession(
        doc if doc is not None else new_doc(),
        awareness if awareness is not None else AwarenessState(),
        connection=connection,
        read_only=read_only,
    )


# --- handshake --------------------------------------------------------------------------


def test_empty_doc_handshake_bytes() -> None:
    s = session()
    assert not s.synced
    assert s.receive(EMPTY_STEP1) == [Reply(bytes([0, 1, 2, 0, 0])), Reply(EMPTY_STEP1)]
    assert s.synced


def test_step1_is_answered_with_the_missing_part_only() -> None:
    server = text_doc("hello")
    client = new_doc()
    client.apply_update(server.get_update())
    server.get("text", type=pycrdt.Text).insert(5, " world")
    actions = session(server).receive(encode_sync_step1(client.get_state()))
    assert actions == [
        Reply(encode_sync_step2(server.get_update(client.get_state()))),
        Reply(encode_sync_step1(server.get_state())),
    ]
    step2 = decode_message(actions[0].frame)
    assert isinstance(step2, SyncStep2)
    client.apply_update(step2.update)
    assert text_of(client) == "hello world"


def test_step1_reply_matches_pycrdt_reference() -> None:
    server = text_doc("abc 🎉")
    client = new_doc()
    reply = pycrdt.handle_sync_message(pycrdt.create_sync_message(client)[1:], server)
    actions = session(server).receive(pycrdt.create_sync_message(client))
    assert reply is not None
    assert actions[0] == Reply(reply)


def test_read_only_session_sends_no_step1() -> None:
    s = session(text_doc("x"), read_only=True)
    actions = s.receive(EMPTY_STEP1)
    assert len(actions) == 1
    assert isinstance(decode_message(actions[0].frame), SyncStep2)
    assert s.synced


def test_every_client_step1_gets_an_answer() -> None:
    s = session()
    assert len(s.receive(EMPTY_STEP1)) == 2
    assert len(s.receive(EMPTY_STEP1)) == 2  # resyncInterval re-sends step 1


# --- updates ----------------------------------------------------------------------------


@pytest.mark.parametrize("encode", [encode_sync_step2, encode_sync_update])
def test_update_becomes_apply_action_with_encoded_broadcast(encode: Encode) -> None:
    update = text_doc("hi").get_update()
    actions = session().receive(encode(update))
    assert actions == [ApplyUpdate(update, encode_sync_update(update))]


@pytest.mark.parametrize("frame", [bytes([0, 1, 2, 0, 0]), bytes([0, 2, 2, 0, 0])])
@pytest.mark.parametrize("read_only", [False, True])
def test_empty_update_is_a_no_op(frame: bytes, read_only: bool) -> None:
    assert session(read_only=read_only).receive(frame) == []


@pytest.mark.parametrize("encode", [encode_sync_step2, encode_sync_update])
def test_read_only_write_is_rejected_with_auth_frame(encode: Encode) -> None:
    doc = new_doc()
    actions = session(doc, read_only=True).receive(encode(text_doc("no").get_update()))
    assert actions == [WriteRejected(READ_ONLY_REASON, encode_auth_denied(READ_ONLY_REASON))]
    assert decode_message(actions[0].frame) == Auth(READ_ONLY_REASON)
    assert doc.get_update() == EMPTY_UPDATE


def test_apply_update_helper_reports_bad_updates_as_malformed() -> None:
    doc = new_doc()
    apply_update(doc, text_doc("ok").get_update())
    assert text_of(doc) == "ok"
    with pytest.raises(MalformedMessage, match="invalid Yjs update"):
        apply_update(doc, b"\xff\xff\xff")


# --- awareness --------------------------------------------------------------------------


def test_open_sends_known_awareness_to_a_new_connection() -> None:
    table = AwarenessState()
    assert session(awareness=table).open() == []
    first = session(awareness=table, connection="a")
    first.receive(aw((1, 1, '{"n":1}')))
    assert session(awareness=table, connection="b").open() == [Reply(aw((1, 1, '{"n":1}')))]


def test_awareness_is_broadcast_to_everyone_including_sender() -> None:
    s = session()
    frame = aw((5, 1, '{"cursor":3}'))
    assert s.receive(frame) == [Broadcast(frame, include_sender=True)]


def test_stale_awareness_is_not_broadcast() -> None:
    s = session()
    s.receive(aw((5, 2, "{}")))
    assert s.receive(aw((5, 2, "{}"))) == []
    assert s.receive(aw((5, 1, '{"old":1}'))) == []


def test_broadcast_holds_only_winning_entries() -> None:
    s = session()
    s.receive(aw((5, 2, "{}")))
    actions = s.receive(aw((5, 1, "{}"), (6, 1, "{}")))
    assert actions == [Broadcast(aw((6, 1, "{}")), include_sender=True)]


def test_query_awareness_replies_with_all_states() -> None:
    table = AwarenessState()
    s = session(awareness=table)
    assert s.receive(encode_query_awareness()) == [Reply(bytes([1, 1, 0]))]
    session(awareness=table, connection="other").receive(aw((9, 1, "{}")))
    assert s.receive(encode_query_awareness()) == [Reply(aw((9, 1, "{}")))]


def test_read_only_connection_may_still_share_awareness() -> None:
    s = session(read_only=True)
    assert s.receive(aw((1, 1, "{}"))) == [Broadcast(aw((1, 1, "{}")), include_sender=True)]


def test_close_removes_own_awareness_for_the_others() -> None:
    table = AwarenessState()
    mine = session(awareness=table, connection="me")
    theirs = session(awareness=table, connection="them")
    mine.receive(aw((1, 4, "{}")))
    theirs.receive(aw((2, 1, "{}")))
    assert mine.close() == [Broadcast(aw((1, 5, "null")), include_sender=False)]
    assert mine.closed
    assert mine.close() == []
    assert table.states == {2: "{}"}


def test_close_without_awareness_sends_nothing() -> None:
    assert session().close() == []


def test_frames_after_close_are_ignored() -> None:
    s = session()
    s.close()
    assert s.receive(EMPTY_STEP1) == []
    assert s.receive(b"garbage") == []


# --- errors -----------------------------------------------------------------------------


def test_client_auth_message_is_ignored() -> None:
    assert session().receive(encode_auth_denied("hi")) == []


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (b"", MalformedMessage),
        (bytes([0, 0, 2, 1, 1]), MalformedMessage),
        (bytes([0, 0, 1, 0, 0]), MalformedMessage),
        (bytes([9]), UnknownMessageType),
        (aw((1, 1, "{nope")), MalformedMessage),
    ],
)
def test_bad_frames_raise(frame: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        session().receive(frame)


def test_message_size_limit() -> None:
    s = SyncSession(new_doc(), AwarenessState(), connection=1, max_message_size=4)
    assert s.receive(EMPTY_STEP1) != []
    with pytest.raises(MessageTooLarge):
        s.receive(encode_sync_update(bytes(10)))


def test_document_rejecting_a_state_vector_is_malformed() -> None:
    class Refusing:
        def get_state(self) -> bytes:
            return b"\x00"

        def get_update(self, state: bytes | None = None, /) -> bytes:
            raise ValueError("Cannot decode state")

        def apply_update(self, update: bytes, /) -> None:
            raise AssertionError("not called")

    with pytest.raises(MalformedMessage, match="invalid state vector"):
        session(Refusing()).receive(EMPTY_STEP1)


def test_works_with_any_document_implementing_the_protocol() -> None:
    class Recording:
        def __init__(self) -> None:
            self.asked: list[bytes | None] = []

        def get_state(self) -> bytes:
            return b"\x01\x07\x02"

        def get_update(self, state: bytes | None = None, /) -> bytes:
            self.asked.append(state)
            return b"\x00\x00"

        def apply_update(self, update: bytes, /) -> None:
            raise AssertionError("sessions never apply updates themselves")

    doc = Recording()
    actions = session(doc).receive(encode_sync_step1(b"\x01\x05\x03"))
    assert doc.asked == [b"\x01\x05\x03"]
    assert actions == [Reply(bytes([0, 1, 2, 0, 0])), Reply(bytes([0, 0, 3, 1, 7, 2]))]


# --- convergence through encoded frames only --------------------------------------------


class Server:
    """A minimal in-memory adapter: one document, sessions, and an outbox per connection."""

    def __init__(self, doc: pycrdt.Doc[Any]) -> None:
        self.doc = doc
        self.awareness = AwarenessState()
        self.sessions: dict[str, SyncSession] = {}
        self.outbox: dict[str, list[bytes]] = {}
        self.rejected: list[str] = []

    def connect(self, name: str, *, read_only: bool = False) -> None:
        self.sessions[name] = SyncSession(
            self.doc, self.awareness, connection=name, read_only=read_only
        )
        self.outbox[name] = []
        self.dispatch(name, self.sessions[name].open())

    def disconnect(self, name: str) -> None:
        self.dispatch(name, self.sessions.pop(name).close())

    def receive(self, name: str, frame: bytes) -> None:
        self.dispatch(name, self.sessions[name].receive(frame))

    def dispatch(self, sender: str, actions: list[Action]) -> None:
        for action in actions:
            match action:
                case Reply(frame=frame):
                    self.outbox[sender].append(frame)
                case Broadcast(frame=frame, include_sender=include_sender):
                    for name in self.sessions:
                        if include_sender or name != sender:
                            self.outbox[name].append(frame)
                case ApplyUpdate(update=update, frame=frame):
                    apply_update(self.doc, update)
                    for name in self.sessions:
                        if name != sender:
                            self.outbox[name].append(frame)
                case WriteRejected(reason=reason):
                    self.rejected.append(reason)


class Client:
    """A y-websocket client written against our codec, behaving like the stock provider."""

    def __init__(self, name: str, doc: pycrdt.Doc[Any]) -> None:
        self.name = name
        self.doc = doc
        self.synced = False
        self.awareness = pycrdt.Awareness(doc)

    def edit(self, server: Server, index: int, content: str) -> None:
        before = self.doc.get_state()
        text = self.doc.get("text", type=pycrdt.Text)
        text.insert(min(index, len(text)), content)
        if self.name in server.sessions:
            server.receive(self.name, encode_sync_update(self.doc.get_update(before)))

    def handle(self, frame: bytes) -> list[bytes]:
        match decode_message(frame):
            case SyncStep1(state_vector=state_vector):
                return [encode_sync_step2(self.doc.get_update(state_vector))]
            case SyncStep2(update=update):
                self.doc.apply_update(update)
                self.synced = True
            case SyncUpdate(update=update):
                self.doc.apply_update(update)
            case Awareness(payload=payload):
                self.awareness.apply_awareness_update(payload, "server")
        return []


def join(server: Server, client: Client) -> None:
    server.connect(client.name)
    server.receive(client.name, encode_sync_step1(client.doc.get_state()))


def pump(server: Server, clients: list[Client]) -> None:
    while any(server.outbox.get(c.name) for c in clients):
        for client in clients:
            queue = server.outbox.get(client.name, [])
            while queue:
                for reply in client.handle(queue.pop(0)):
                    server.receive(client.name, reply)


def test_two_docs_converge_through_frames_only() -> None:
    server = Server(text_doc("shared "))
    alice = Client("alice", text_doc("alice-offline "))
    bob = Client("bob", new_doc())
    join(server, alice)
    join(server, bob)
    pump(server, [alice, bob])
    assert alice.synced and bob.synced
    alice.edit(server, 0, "A")
    bob.edit(server, 3, "B")
    pump(server, [alice, bob])
    assert text_of(alice.doc) == text_of(bob.doc) == text_of(server.doc)
    assert sorted(text_of(server.doc)) == sorted("shared alice-offline AB")


def test_edits_made_while_disconnected_arrive_on_reconnect() -> None:
    server = Server(new_doc())
    alice, bob = Client("alice", new_doc()), Client("bob", new_doc())
    join(server, alice)
    join(server, bob)
    pump(server, [alice, bob])
    server.disconnect("bob")
    bob.edit(server, 0, "offline 李 ")
    alice.edit(server, 0, "online 🎉")
    pump(server, [alice])
    join(server, bob)
    pump(server, [alice, bob])
    assert text_of(alice.doc) == text_of(bob.doc) == text_of(server.doc)
    assert "offline 李" in text_of(alice.doc)


def test_pycrdt_reference_client_syncs_with_session() -> None:
    server = Server(text_doc("from server"))
    client_doc = text_doc("from client")
    server.connect("ref")
    server.receive("ref", pycrdt.create_sync_message(client_doc))
    for frame in server.outbox.pop("ref"):
        reply = pycrdt.handle_sync_message(frame[1:], client_doc)
        if reply is not None:
            server.receive("ref", reply)
    assert text_of(client_doc) == text_of(server.doc)
    assert {"from server", "from client"} <= {text_of(client_doc)[:11], text_of(client_doc)[-11:]}


def test_read_only_client_receives_but_cannot_write() -> None:
    server = Server(text_doc("lecture notes"))
    teacher, student = Client("teacher", new_doc()), Client("student", new_doc())
    join(server, teacher)
    server.connect("student", read_only=True)
    server.receive("student", encode_sync_step1(student.doc.get_state()))
    pump(server, [teacher, student])
    assert student.synced
    teacher.edit(server, 0, "Today: ")
    pump(server, [teacher, student])
    assert text_of(student.doc) == "Today: lecture notes"
    student.edit(server, 0, "graffiti ")
    assert server.rejected == [READ_ONLY_REASON]
    pump(server, [teacher, student])
    assert text_of(server.doc) == text_of(teacher.doc) == "Today: lecture notes"


def test_awareness_flows_between_clients_and_leaves_on_disconnect() -> None:
    server = Server(new_doc())
    alice, bob = Client("alice", new_doc()), Client("bob", new_doc())
    join(server, alice)
    alice.awareness.set_local_state({"user": "alice"})
    alice_id = alice.doc.client_id
    server.receive("alice", encode_awareness(alice.awareness.encode_awareness_update([alice_id])))
    join(server, bob)
    pump(server, [alice, bob])
    assert bob.awareness.states[alice_id] == {"user": "alice"}
    server.disconnect("alice")
    pump(server, [bob])
    assert alice_id not in bob.awareness.states


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        # ASCII only: pycrdt's Text.insert takes UTF-8 byte offsets, and an offset inside a
        # character yields an update its peers cannot integrate.
        st.tuples(st.sampled_from("abc"), st.integers(0, 30), st.text("xyz 0", max_size=4)),
        max_size=12,
    ),
    st.lists(st.integers(0, 12), max_size=3),
)
def test_random_edits_converge(edits: list[tuple[str, int, str]], pumps: list[int]) -> None:
    server = Server(new_doc())
    clients = {name: Client(name, new_doc()) for name in "abc"}
    for client in clients.values():
        join(server, client)
    for step, (name, index, content) in enumerate(edits):
        clients[name].edit(server, index, content)
        if step in pumps:
            pump(server, list(clients.values()))
    pump(server, list(clients.values()))
    texts = {text_of(client.doc) for client in clients.values()}
    assert texts == {text_of(server.doc)}
    assert len(text_of(server.doc)) == sum(len(content) for _, _, content in edits)
