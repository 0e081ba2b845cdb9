"""Prometheus metrics of the API (``GET /metrics``), on the app's own registry.

- ``eventgraph_http_request_duration_seconds{method, route, status}``: latency histogram
- ``eventgraph_recommendation_stage_seconds{stage}``: graph / features / score / rank split
- ``eventgraph_recommendation_candidates``: candidates scored per request
- ``eventgraph_errors_total{kind}``: 503s by cause (neo4j_unavailable, not_ready)
- ``eventgraph_writes_total{kind}``: accepted writes by record kind
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        # One registry per app: several apps in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "eventgraph_http_request_duration_seconds",
            "HTTP request latency.",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stages = Histogram(
            "eventgraph_recommendation_stage_seconds",
            "Time per stage of a recommendation.",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.candidates = Histogram(
            "eventgraph_recommendation_candidates",
            "Candidates scored per recommendation.",
            buckets=(0, 10, 50, 100, 200, 300, 400, 500, 1000),
            registry=self.registry,
        )
        self.errors = Counter(
            "eventgraph_errors",
            "Requests answered 503, by cause.",
            ["kind"],
            registry=self.registry,
        )
        self.writes = Counter(
            "eventgraph_writes",
            "Accepted writes, by record kind.",
            ["kind"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).observe(seconds)

    def observe_recommendation(self, timings_ms: dict[str, float], n_candidates: int) -> None:
        for stage, ms in timings_ms.items():
            self.stages.labels(stage).observe(ms / 1000.0)
        self.candidates.observe(n_candidates)

    def error(self, kind: str) -> None:
        self.errors.labels(kind).inc()

    def write(self, kind: str) -> None:
        self.writes.labels(kind).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
