"""The notification channel across two nodes over one PostgreSQL and one Redis: a
notification caused through node a reaches the person's tab open on node b, and the tab
resumes on node a from where it was on node b."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kits.cluster import Cluster, cluster_of, private_redis
from kits.notify import channel, receive, stop_a_recording
from kits.redis_server import RedisServer
from kits.servers import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def cluster(pg_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    redis: RedisServer
    for redis in private_redis():
        with cluster_of(["a", "b"], redis, pg_server, tmp_path) as found:
            yield found


def test_a_tab_on_another_node_gets_the_notification_live(cluster: Cluster) -> None:
    a, b = cluster.nodes
    _, token = a.register("instructor")
    with channel(b, token) as tab:
        welcome = receive(tab, "welcome")
        stop_a_recording(a, token, "Across nodes")
        live = receive(tab, "notification")
        assert live["notification"]["title"] == "Recording ready: Across nodes"
        assert live["unread"] == 1
        assert live["epoch"] == welcome["epoch"]
    stop_a_recording(a, token, "While the tab moved")
    with channel(a, token, epoch=live["epoch"], seq=str(live["seq"])) as tab:
        back = receive(tab, "welcome")
        assert back["recovered"] is True
        missed = receive(tab, "notification")
        assert missed["notification"]["title"] == "Recording ready: While the tab moved"
