"""Prometheus metrics of one app instance, kept in its own registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The HTTP metrics every node exports, plus gauges other modules register."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "liveclass_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "liveclass_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def add_gauges(self, name: str, help_text: str, read: Callable[[], dict[str, float]]) -> None:
        """Export ``read()`` (label value -> number) as a gauge labelled ``kind``."""
        self.registry.register(_GaugeCollector(name, help_text, read))

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)


class _GaugeCollector(Collector):
    def __init__(self, name: str, help_text: str, read: Callable[[], dict[str, float]]) -> None:
        self._name, self._help, self._read = name, help_text, read

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(self._name, self._help, labels=["kind"])
        for kind, value in self._read().items():
            family.add_metric([kind], value)
        yield family
