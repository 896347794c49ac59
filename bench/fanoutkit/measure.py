"""Timed fan-out runs and their figures: server CPU and RSS from /proc, latency percentiles."""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fanoutkit.common import mb, sleep_until
from fanoutkit.fleet import Fleet
from fanoutkit.profile import start_profile
from fanoutkit.wsclient import BUCKET_NS
from kits.bench import progress
from kits.stats import cpu_seconds, rss_bytes


async def settle_rss(pid: int, *, quiet: float = 2.0, limit: float = 20.0) -> int:
    """RSS once it stops moving (less than 0.5% change over ``quiet`` s), or after ``limit``."""
    deadline = time.monotonic() + limit
    last = rss_bytes(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet)
        now = rss_bytes(pid)
        if abs(now - last) <= 0.005 * last:
            return now
        last = now
    return last


def percentiles(histogram: Counter[int]) -> dict[str, float | None]:
    """p50/p90/p99/p99.9/max in ms from a 0.1 ms histogram."""
    total = sum(histogram.values())
    out: dict[str, float | None] = {}
    if not total:
        return {"p50": None, "p90": None, "p99": None, "p999": None, "max": None}
    ordered = sorted(histogram.items())
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)):
        rank, seen = math.ceil(q * total), 0
        for bucket, count in ordered:
            seen += count
            if seen >= rank:
                out[name] = round((bucket + 1) * BUCKET_NS / 1e6, 1)
                break
    out["max"] = round((ordered[-1][0] + 1) * BUCKET_NS / 1e6, 1)
    return out


def machine_busy_seconds() -> tuple[float, float]:
    """CPU-seconds the whole machine has been busy (all cores, anyone's work) in processes,
    and in softirq (loopback networking, largely ours, charged to no process); /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + steal) / tick, softirq / tick


async def fanout_run(
    fleet: Fleet,
    pid: int,
    group: str,
    *,
    rate: float,
    senders: int,
    seconds: float,
    warmup: float,
    drain: float = 3.0,
    private: dict[str, Any] | None = None,
    watch: Callable[[], int | None] | None = None,
    max_seconds: float | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One timed run over the connections of ``group``; ``watch`` may end it early.

    Returns raw figures (see `summarize`): counts, the latency histogram, CPU seconds of the
    server, of the clients and of the whole machine (so other load on the box shows up).
    """
    start = time.monotonic_ns() + 500_000_000
    t0 = start + int(warmup * 1e9)
    t1 = t0 + int((seconds if max_seconds is None else max_seconds) * 1e9)
    fleet.stop.value = 0
    task = asyncio.ensure_future(
        fleet.everyone(
            "run",
            group=group,
            rate=rate,
            total_senders=senders,
            t_send=start,
            t0=t0,
            t1=t1,
            drain=drain,
            private=private,
        )
    )
    await sleep_until(t0)
    cpu0, (busy0, soft0), own0 = cpu_seconds(pid), machine_busy_seconds(), time.process_time()
    rss0 = peak = rss_bytes(pid)
    spy = start_profile(pid, seconds, profile) if profile else None
    seen_at: int | None = None
    while time.monotonic_ns() < t1:
        await asyncio.sleep(min(0.25, max(0.0, (t1 - time.monotonic_ns()) / 1e9)))
        peak = max(peak, rss_bytes(pid))
        if watch is not None and seen_at is None and (seen_at := watch()) is not None:
            # Measure for the planned time and at least 3 s after the event, then stop.
            end = max(t0 + int(seconds * 1e9), seen_at + 3_000_000_000)
            if end < t1:
                t1 = end
                fleet.stop.value = t1
    cpu1, (busy1, soft1), own1 = cpu_seconds(pid), machine_busy_seconds(), time.process_time()
    rss1 = rss_bytes(pid)
    answers = await task
    if spy is not None:
        spy.wait()
    by_second: dict[int, Counter[int]] = {}
    histogram: Counter[int] = Counter()
    gone: dict[str, int] = {}
    first: dict[int, int] = {}
    for answer in answers:
        histogram.update(answer["latency"])
        for sent, took in answer["first"].items():
            first[sent] = min(took, first.get(sent, took))
        for (second, tenth_ms), count in answer["by_second"].items():
            by_second.setdefault(second, Counter())[tenth_ms * 10] += count
        for conn_id, at in answer["gone"].items():
            gone[conn_id] = min(at, gone.get(conn_id, at))
    clients_cpu = sum(a["cpu_seconds"] for a in answers)
    return {
        "window": (t1 - t0) / 1e9,
        "receivers": sum(a["receivers"] for a in answers),
        "sent": sum(a["sent_in_window"] for a in answers),
        "deliveries": sum(a["deliveries"] for a in answers),
        "histogram": histogram,
        "first": Counter(took // BUCKET_NS for took in first.values()),
        "by_second": by_second,
        "frames": sum(a["frames"] for a in answers),
        "bytes": sum(a["bytes"] for a in answers),
        "errors": sum(a["errors"] for a in answers),
        "lost": [tuple(x) for a in answers for x in a["lost"]],
        "server_cpu": cpu1 - cpu0,
        "clients_cpu": clients_cpu,
        # Processes' system time already includes much of the softirq work of their sockets.
        "other_cpu": (busy1 + soft1 - busy0 - soft0) - (cpu1 - cpu0) - clients_cpu - (own1 - own0),
        "softirq_cpu": soft1 - soft0,
        "rss": (rss0, rss1, peak),
        "gone": gone,
        "t_send": start,
    }


def report_run(label: str, run: dict[str, Any]) -> None:
    lat = percentiles(run["histogram"])
    progress(
        f"{label}: {run['deliveries'] / run['window']:.0f} deliveries/s, p50 {lat['p50']} ms, "
        f"p99 {lat['p99']} ms, server CPU {run['server_cpu'] / run['window']:.2f}, "
        f"others' CPU {run['other_cpu'] / run['window']:.2f}"
    )


def summarize(runs: list[dict[str, Any]], *, timeline: bool = False) -> dict[str, Any]:
    """Figures over one or more runs of the same server (rounds are interleaved with the
    other server's, so both see the same machine)."""
    window = sum(r["window"] for r in runs)
    deliveries = sum(r["deliveries"] for r in runs)
    sent = sum(r["sent"] for r in runs)
    expected = sum(r["sent"] * r["receivers"] for r in runs)
    server_cpu = sum(r["server_cpu"] for r in runs)
    histogram: Counter[int] = Counter()
    first: Counter[int] = Counter()
    for run in runs:
        histogram.update(run["histogram"])
        first.update(run["first"])
    lost = [x for r in runs for x in r["lost"]]
    figures: dict[str, Any] = {
        "rounds": len(runs),
        "window_s": round(window, 2),
        "receivers": runs[0]["receivers"],
        "messages_sent": sent,
        "send_rate": round(sent / window, 1),
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / window),
        "delivered_fraction": round(deliveries / expected, 5) if expected else None,
        "latency_ms": percentiles(histogram),
        # Each message's fastest delivery: the time spent before fan-out (parse, checks,
        # durable write, publish) plus one socket; the rest of latency_ms is the fan-out.
        "first_delivery_latency_ms": percentiles(first),
        "server_cpu": round(server_cpu / window, 3),
        "deliveries_per_server_cpu_s": round(deliveries / server_cpu) if server_cpu else None,
        "clients_cpu": round(sum(r["clients_cpu"] for r in runs) / window, 3),
        # Other processes on the machine (not this benchmark's): a noisy neighbour shows here.
        "other_cpu_on_machine": round(sum(r["other_cpu"] for r in runs) / window, 3),
        "softirq_cpu": round(sum(r["softirq_cpu"] for r in runs) / window, 3),
        "frames_per_delivery": round(sum(r["frames"] for r in runs) / deliveries, 3)
        if deliveries
        else None,
        "bytes_per_delivery": round(sum(r["bytes"] for r in runs) / deliveries)
        if deliveries
        else None,
        "server_rss_mb": {
            "run_start": mb(runs[0]["rss"][0]),
            "run_end": mb(runs[-1]["rss"][1]),
            "run_peak": mb(max(r["rss"][2] for r in runs)),
        },
        "error_frames": sum(r["errors"] for r in runs),
        "clients_lost": len(lost),
        "lost_close_codes": dict(Counter(str(code) for code, _ in lost)),
    }
    if len(runs) > 1:
        figures["per_round"] = [
            {
                "deliveries_per_s": round(r["deliveries"] / r["window"]),
                "p50_ms": percentiles(r["histogram"])["p50"],
                "p99_ms": percentiles(r["histogram"])["p99"],
                "server_cpu": round(r["server_cpu"] / r["window"], 3),
                "other_cpu_on_machine": round(r["other_cpu"] / r["window"], 3),
            }
            for r in runs
        ]
    if timeline:
        seconds = runs[0]["by_second"]
        figures["latency_by_second_ms"] = [
            [second, percentiles(seconds[second])["p50"], percentiles(seconds[second])["p99"]]
            for second in sorted(seconds)
        ]
    return figures
