"""The jobs' Prometheus metrics: runs by outcome, run durations, commit-to-start latency,
and gauges of the queue (depth, age of the oldest due job) sampled from the database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import Metric

from jobs.store import Claimed

DURATION_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0)


class JobMetrics:
    """Counters and histograms of this process's job runs (in ``registry`` when given)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.runs = Counter(
            "liveclass_job_runs",
            "Job runs finished in this process by job type and outcome (succeeded, retried, "
            "dead, cancelled, released, failed = outcome not stored).",
            ["job", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "liveclass_job_duration_seconds",
            "How long job runs took, by job type.",
            ["job"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.lag = Histogram(
            "liveclass_job_start_lag_seconds",
            "From the time a job was due (enqueued, or its run_at) to its handler starting.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.queue: dict[str, float] = {}

    def started(self, job: Claimed, now: datetime) -> None:
        """A run begins: observe how long it waited past its due time."""
        due = max(job.run_at, job.enqueued_at)
        self.lag.observe(max(0.0, (now - due).total_seconds()))

    def finished(self, job: str, outcome: str, seconds: float) -> None:
        """A run ended with ``outcome`` after ``seconds``."""
        self.runs.labels(job, outcome).inc()
        self.duration.labels(job).observe(seconds)

    def add_queue_gauges(self) -> None:
        """Export the sampled queue figures from this registry (a worker's own /metrics;
        a node exports them through its ``Metrics``)."""
        from prometheus_client.core import GaugeMetricFamily
        from prometheus_client.registry import Collector

        figures = self.gauges

        class _Queue(Collector):
            def collect(self) -> Iterable[Metric]:
                family = GaugeMetricFamily(
                    "liveclass_jobs", "Jobs by state, oldest due job's age.", labels=["kind"]
                )
                for kind, value in figures().items():
                    family.add_metric([kind], value)
                yield family

        self.registry.register(_Queue())

    def gauges(self) -> dict[str, float]:
        """The last sampled queue figures (for ``Metrics.add_gauges``)."""
        return dict(self.queue)
