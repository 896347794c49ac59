"""A room survives a restart: what was acknowledged before SIGTERM is in the next welcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from kits.nodes import Node, start_node
from kits.opener import RoomOpeners
from kits.rooms import close_all, of, register, rest
from kits.servers import LiveServer

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_state_survives_a_restart(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, rooms_on: RoomOpeners
) -> None:
    nodes = start_node(tmp_path, backend, request)
    node: Node = next(nodes)
    restarted: LiveServer | None = None
    try:
        host_person, a_person = register(node, "instructor"), register(node)
        open_room = rooms_on(node)
        room, [host, a] = await open_room(
            host_person,
            members=[(a_person, "presenter")],
            enter=(host_person, a_person),
            max_participants=50,
        )
        said = (await a.ack({"type": "chat.send", "text": "said before the restart"}))["message_id"]
        await host.ack({"type": "chat.react", "message_id": said, "emoji": "👍"})
        poll_id = (
            await host.ack({"type": "poll.create", "question": "Q?", "options": ["yes", "no"]})
        )["poll_id"]
        await a.ack({"type": "poll.vote", "poll_id": poll_id, "choices": [0]})
        await host.ack({"type": "room.settings", "slow_mode_seconds": 5})
        await host.ack({"type": "participant.set_role", "user_id": a.user_id, "role": "observer"})
        await a.next(of("participant.role"))
        old_position = (a.epoch, a.seq)

        # SIGTERM: clients are told to come back (1001), the node exits cleanly.
        assert node.server.stop() == 0
        for client in (host, a):
            assert await client.closed() == (1001, "server shutting down")

        restarted = LiveServer(data_dir=node.server.data_dir, env=node.server.env).start()
        node.server = restarted
        token = await open_room.token(a_person, room)
        back = await open_room.open(room, token, epoch=old_position[0], seq=old_position[1])
        assert back.welcome is not None
        assert back.welcome["recovered"] is False
        assert back.welcome["recovery_failed"] == "epoch changed"
        [message] = back.snapshot["chat"]
        assert (message["id"], message["text"]) == (said, "said before the restart")
        assert message["reactions"] == {"👍": [host.user_id]}
        [poll] = back.snapshot["polls"]
        assert (poll["id"], poll["my_vote"]) == (poll_id, [0])
        assert back.snapshot["room"]["settings"]["slow_mode_seconds"] == 5
        assert back.snapshot["room"]["settings"]["max_participants"] == 50
        # The role given in the room was stored with the membership.
        assert back.me["role"] == "observer"
        host_view = await open_room.enter(host_person, room)
        [poll] = host_view.snapshot["polls"]
        assert poll["results"]["counts"] == [1, 0]
        # Every stay before the restart was closed by the drain.
        rows = (await rest(node, host_person, "GET", f"/api/v1/rooms/{room}/attendance")).json()
        closed = [r for r in rows if r["left_at"] is not None]
        assert len(closed) == 2
        await close_all([back, host_view])
    finally:
        if restarted is not None:
            restarted.stop()
        nodes.close()
