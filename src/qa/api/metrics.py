"""Prometheus metrics for the HTTP service: request counts, latency, and the index.

Each app owns its registry, so several apps in one process (tests) never collide.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import generate_latest

from qa.errors import IndexStoreError
from qa.models import IndexInfo

if TYPE_CHECKING:
    from qa.service import QAService

logger = logging.getLogger(__name__)

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST

# Seconds; /ask on a small corpus takes tens of milliseconds, uploads take seconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class IndexCollector:
    """Reads the passage count and index version from the service at scrape time."""

    def __init__(self, service: QAService) -> None:
        self._service = service

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("qa_index_passages", "Passages in the loaded index.")
        yield InfoMetricFamily("qa_index", "The loaded index: version and model.")

    def collect(self) -> Iterator[Metric]:
        passages = GaugeMetricFamily("qa_index_passages", "Passages in the loaded index.")
        info = InfoMetricFamily("qa_index", "The loaded index: version and model.")
        try:
            # info() also swaps in a newer build, so the figures match what is served.
            loaded: IndexInfo | None = self._service.info()
        except IndexStoreError:
            loaded = None
        passages.add_metric([], loaded.passage_count if loaded else 0)
        yield passages
        if loaded is not None:
            info.add_metric([], {"version": loaded.build_id, "model": loaded.model})
            yield info


class HTTPMetrics:
    """The per-app registry with the request counter and latency histogram."""

    def __init__(self, service: QAService) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "qa_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "qa_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(IndexCollector(service))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
