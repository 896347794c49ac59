"""Labs benchmark (issue 20): one lab, 100 learners each typing about one edit a second in
their own workspace, and an instructor watching the whole grid, through the real node.

Every learner is a y-websocket client in this process (pycrdt, the stock protocol) on their
own workspace document; each edit rewrites the first line of `main.py` with a marker (the
learner and a sequence number) in one update, about once a second each (jittered). The
instructor is one socket on the lab feed (`/ws/labs/{lab}`): every `workspaces` message
carries tiles whose thumbnail starts with that marker, so the grid lag of an edit is the
time from sending it to the first tile that shows it (coalescing may fold several edits of
one learner into one tile: the lag of the edit shown is counted).

Two phases of the same length in the same run: the baseline (the 100 learners typing, no
instructor view) and the view (the same, with the instructor's feed open). Reported: grid
lag p50/p99, the node's CPU (cores) in each phase and their ratio (the view's cost), and
the node's memory per workspace (RSS growth from before the workspaces were opened, over
the learners). Targets: p99 < 1 s, CPU < 0.5 core, view < +25 %.

    flock /tmp/liveclass-bench.lock python bench/labs.py      # 100 learners, 30 s phases
    flock /tmp/liveclass-bench.lock python bench/labs.py --learners 20 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import benchpath  # noqa: F401  (the tree and its kits on sys.path)
import httpx
import pycrdt
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from kits.bench import BenchNode, bearer, percentile, progress, student_email
from kits.labs import lab_body
from kits.stats import cpu_seconds, rss_mb
from realtime.yjs.messages import (
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_sync_step1,
    encode_sync_step2,
    encode_sync_update,
)

MAIN = "file:main.py"


class Learner:
    """A y-websocket client on one workspace document that edits its first line."""

    def __init__(self, index: int, ws: ClientConnection) -> None:
        self.index = index
        self.ws = ws
        self.doc: pycrdt.Doc[Any] = pycrdt.Doc()
        self.synced = asyncio.Event()
        self.sent: dict[int, float] = {}
        self.seq = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                if not isinstance(frame, bytes):
                    continue
                message = decode_message(frame, max_size=1 << 24)
                if isinstance(message, SyncStep1):
                    await self.ws.send(encode_sync_step2(self.doc.get_update(message.state_vector)))
                elif isinstance(message, SyncStep2 | SyncUpdate):
                    self.doc.apply_update(message.update)
                    if isinstance(message, SyncStep2):
                        self.synced.set()
        except ConnectionClosed:
            pass

    async def open(self) -> None:
        await self.ws.send(encode_sync_step1(self.doc.get_state()))
        await asyncio.wait_for(self.synced.wait(), 60)

    async def edit(self) -> None:
        self.seq += 1
        before = self.doc.get_state()
        text = self.doc.get(MAIN, type=pycrdt.Text)
        with self.doc.transaction():
            current = str(text)
            end = current.find("\n")
            if current.startswith("# m ") and end >= 0:
                del text[0:end]
            else:
                text.insert(0, "\n")
            text.insert(0, f"# m {self.index} {self.seq}")
        self.sent[self.seq] = time.perf_counter()
        await self.ws.send(encode_sync_update(self.doc.get_update(before)))

    async def type(self, until: float) -> None:
        await asyncio.sleep(random.random())
        while time.perf_counter() < until:
            await self.edit()
            await asyncio.sleep(random.uniform(0.8, 1.2))


async def watch(url: str, learners: list[Learner], lags: list[float], stop: asyncio.Event) -> int:
    """The instructor's grid: read `workspaces` messages until ``stop``; lag per shown edit."""
    seen: set[tuple[int, int]] = set()
    messages = 0
    async with connect(url, max_size=None) as ws:
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.perf_counter()
            message = json.loads(frame)
            if message.get("type") != "workspaces":
                continue
            messages += 1
            for tile in message["items"]:
                head = tile["thumbnail"].split("\n", 1)[0].split()
                if len(head) != 4 or head[:2] != ["#", "m"]:
                    continue
                key = (int(head[2]), int(head[3]))
                sent = learners[key[0]].sent.get(key[1]) if key[0] < len(learners) else None
                if sent is not None and key not in seen:
                    seen.add(key)
                    lags.append(now - sent)
    return messages


async def phase(
    node: BenchNode, learners: list[Learner], seconds: float, feed: str | None
) -> dict[str, Any]:
    """Everyone types for ``seconds``; the node's CPU over the phase (and the grid's lag)."""
    lags: list[float] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(feed, learners, lags, stop)) if feed else None
    if watcher is not None:
        await asyncio.sleep(1.0)  # the welcome and the grid's first load are not measured
    cpu0, wall0 = cpu_seconds(node.pid), time.perf_counter()
    until = wall0 + seconds
    await asyncio.gather(*(learner.type(until) for learner in learners))
    cpu1, wall1 = cpu_seconds(node.pid), time.perf_counter()
    await asyncio.sleep(1.0)  # the last tiles arrive
    stop.set()
    messages = await watcher if watcher is not None else 0
    edits = sum(len(learner.sent) for learner in learners)
    result: dict[str, Any] = {
        "seconds": round(wall1 - wall0, 2),
        "node_cpu_cores": round((cpu1 - cpu0) / (wall1 - wall0), 3),
        "edits_sent_so_far": edits,  # every learner's edits since the first phase
        "node_rss_mb": rss_mb(node.pid),
    }
    if feed:
        result |= {
            "grid_messages": messages,
            "edits_shown": len(lags),
            "grid_lag_p50_ms": percentile(lags, 0.50, scale=0.001),
            "grid_lag_p99_ms": percentile(lags, 0.99, scale=0.001),
            "grid_lag_max_ms": percentile(lags, 1.0, scale=0.001),
        }
    return result


async def main(count: int, seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = {"learners": count, "phase_seconds": seconds, "cpus": os.cpu_count()}
    result["load_before"] = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-labs-") as tmp:
        node = BenchNode(Path(tmp) / "data").start()
        try:
            limits = httpx.Limits(max_connections=count + 10)
            async with httpx.AsyncClient(base_url=node.url, timeout=120, limits=limits) as http:
                progress(f"signing in {count} learners")
                await node.sign_in(http, count, register=True)
                admin = bearer(node.admin_token)
                made = await http.post(
                    "/api/v1/courses",
                    json={"code": f"L-{uuid.uuid4().hex[:6]}", "title": "Bench"},
                    headers=admin,
                )
                made.raise_for_status()
                course = made.json()["id"]
                for i in range(count):
                    body = {"email": student_email(i), "role": "student"}
                    (
                        await http.post(
                            f"/api/v1/courses/{course}/enrollments", json=body, headers=admin
                        )
                    ).raise_for_status()
                lab = await http.post(
                    f"/api/v1/courses/{course}/labs", json=lab_body(), headers=admin
                )
                lab.raise_for_status()
                lab_id = lab.json()["id"]
                rss_before = rss_mb(node.pid)
                progress("starting the lab: a workspace per learner")
                (await http.post(f"/api/v1/labs/{lab_id}/start", headers=admin)).raise_for_status()
                learners: list[Learner] = []
                for i, token in enumerate(node.students[:count]):
                    opened = await http.post(
                        f"/api/v1/labs/{lab_id}/workspace", headers=bearer(token)
                    )
                    opened.raise_for_status()
                    ws = await connect(
                        node.ws_url + opened.json()["url"], max_size=None, compression=None
                    )
                    learners.append(Learner(i, ws))
                await asyncio.gather(*(learner.open() for learner in learners))
                rss_open = rss_mb(node.pid)
                progress(f"{count} workspaces open; warming up")
                await phase(node, learners, min(5.0, seconds), None)
                progress(f"baseline: {count} learners typing, no instructor view")
                baseline = await phase(node, learners, seconds, None)
                feed = await http.post(f"/api/v1/labs/{lab_id}/feed", headers=admin)
                feed.raise_for_status()
                progress("view: the same, with the instructor's grid open")
                view = await phase(node, learners, seconds, node.ws_url + feed.json()["url"])
                for learner in learners:
                    await learner.ws.close()
                result |= {
                    "baseline": baseline,
                    "view": view,
                    "view_cpu_ratio": round(
                        view["node_cpu_cores"] / max(baseline["node_cpu_cores"], 1e-6), 3
                    ),
                    "rss_mb_before_workspaces": rss_before,
                    "rss_mb_workspaces_open": rss_open,
                    "rss_mb_per_workspace": round((view["node_rss_mb"] - rss_before) / count, 3),
                    "targets": {
                        "grid_lag_p99_under_1s": (view.get("grid_lag_p99_ms") or 1e9) < 1000,
                        "cpu_under_half_a_core": view["node_cpu_cores"] < 0.5,
                        "view_under_25_percent": view["node_cpu_cores"]
                        < 1.25 * baseline["node_cpu_cores"],
                    },
                    "node_errors": node.log_errors()[:5],
                }
        finally:
            node.stop()
    result["load_after"] = os.getloadavg()[0]
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.learners, args.seconds)), indent=2))
