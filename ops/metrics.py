"""Prometheus metrics of one app instance, kept in its own registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from realtime.sessions import closes_by_code

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
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.fast_answers = Counter(
            "liveclass_http_fast_path_answers",
            "HTTP requests the byte-serving fast path answered itself with sendfile "
            "(ops/fastpath.py; it hands the others under its prefixes to the app), by route "
            "template. They are counted in liveclass_http_requests too.",
            ["route"],
            registry=self.registry,
        )
        self.registry.register(
            _CounterCollector(
                "liveclass_websocket_closes",
                "WebSocket sessions ended in this process, by the close code sent "
                "(1000: the client left or its keepalive expired; 4008: slow consumer).",
                "code",
                closes_by_code,
            )
        )

    def observe(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request (the labelled series are looked up once per route,
        method and status: a bounded set, route templates not paths)."""
        series = self._series.get((route, method, status))
        if series is None:
            series = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
            self._series[(route, method, status)] = series
        series[0].inc()
        series[1].observe(seconds)

    def add_gauges(self, name: str, help_text: str, read: Callable[[], dict[str, float]]) -> None:
        """Export ``read()`` (label value -> number) as a gauge labelled ``kind``."""
        self.registry.register(_GaugeCollector(name, help_text, read))

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)


class _CounterCollector(Collector):
    def __init__(
        self, name: str, help_text: str, label: str, read: Callable[[], dict[str, float]]
    ) -> None:
        self._name, self._help, self._label, self._read = name, help_text, label, read

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(self._name, self._help, labels=[self._label])
        for value, count in self._read().items():
            family.add_metric([value], count)
        yield family


class _GaugeCollector(Collector):
    def __init__(self, name: str, help_text: str, read: Callable[[], dict[str, float]]) -> None:
        self._name, self._help, self._read = name, help_text, read

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(self._name, self._help, labels=["kind"])
        for kind, value in self._read().items():
            family.add_metric([kind], value)
        yield family
