"""Prometheus metrics of one server: requests, durations, queue, tokenization and inference time, batches."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_TOKENS = (16, 64, 256, 1024, 4096, 16384, 65536)


class ServerMetrics:
    """The metrics in a registry of their own (several servers in one process do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "ternembed_requests", "HTTP requests answered", ["route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "ternembed_request_duration_seconds",
            "Time to answer a request",
            ["route"],
            buckets=_SECONDS,
            registry=r,
        )
        self.in_flight = Gauge("ternembed_requests_in_flight", "Requests being answered", registry=r)
        self.rejected = Counter(
            "ternembed_requests_rejected", "Requests refused with 429 because the server was full", registry=r
        )
        self.queue_seconds = Histogram(
            "ternembed_queue_duration_seconds",
            "Time a request waited for the model",
            buckets=_SECONDS,
            registry=r,
        )
        self.tokenization_seconds = Histogram(
            "ternembed_tokenization_duration_seconds",
            "Time to tokenize a request",
            buckets=_SECONDS,
            registry=r,
        )
        self.inference_seconds = Histogram(
            "ternembed_inference_duration_seconds",
            "Time of one batched forward pass",
            buckets=_SECONDS,
            registry=r,
        )
        self.batch_size = Histogram(
            "ternembed_batch_size", "Sequences per forward pass", buckets=_SIZES, registry=r
        )
        self.batch_tokens = Histogram(
            "ternembed_batch_tokens", "Padded tokens per forward pass", buckets=_TOKENS, registry=r
        )
        self.input_tokens = Counter("ternembed_input_tokens", "Tokens embedded", registry=r)

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware counting every HTTP request by route template and status, and timing it."""

    def __init__(self, app, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500
        start = time.perf_counter()

        async def recording_send(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.request_seconds.labels(route).observe(time.perf_counter() - start)
