"""``GET /metrics``: the server's metrics in the Prometheus text format (``serve --metrics``).

Off by default. When on, :class:`Metrics` owns one ``prometheus_client`` registry per app (no global
state: two apps in one process count apart), and :class:`MetricsMiddleware` counts every HTTP request by
route, status and upstream, times it, and times the first body frame of an event stream (the client's
time to first event). The rest are small hooks where the numbers are known: the upstream's first body
bytes (``first_chunk``), a terminal response's usage (``tokens``), a store lookup (``store_lookup``).

Labels stay bounded: the route is the route's template (``/v1/responses/{id}``; an unknown path is
``other``), the upstream is its configured name, and the model is the one requested, for the first
``MAX_MODELS`` names seen (a client chooses it: later names count as ``other``).

Under ``serve --workers N`` every worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR``
(set by ``serve`` before the workers start) and a scrape of any worker adds up all of them.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Json = dict[str, Any]

_LABELS = "c2r.labels"  # the request's scope key for its RequestLabels
MAX_MODELS = 100
# Seconds: first events come within milliseconds from a replay and within minutes from a long prefill.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
WEBSOCKET_ROUTE = "ws /v1/responses"  # a WebSocket turn's route label
_ROUTES = {
    "responses": "/v1/responses",
    "responses/compact": "/v1/responses/compact",
    "models": "/v1/models",
    "health": "/health",
    "metrics": "/metrics",
}


def route_of(path: str) -> str:
    """The route template a path matched (``/responses/resp_1`` → ``/v1/responses/{id}``)."""
    bare = path.strip("/")
    bare = bare[3:] if bare.startswith("v1/") else bare
    if bare in _ROUTES:
        return _ROUTES[bare]
    if bare.startswith("responses/") and "/" not in bare[len("responses/") :]:
        return "/v1/responses/{id}"
    return "other"


class RequestLabels:
    """What an endpoint learns about its request that the middleware labels it with."""

    __slots__ = ("failed", "upstream")

    def __init__(self) -> None:
        self.upstream = "none"  # the configured name of the upstream that served it, once chosen
        self.failed = False  # a 200 stream that ended in response.failed


class Metrics:
    """The hooks; all do nothing unless metrics are on (``enabled``)."""

    enabled = False

    def labels(self, scope: Mapping[str, Any]) -> RequestLabels:
        labels = scope.get(_LABELS)
        return labels if isinstance(labels, RequestLabels) else RequestLabels()

    def first_chunk(
        self, upstream: str, pieces: AsyncIterator[bytes], started: float
    ) -> AsyncIterator[bytes]:
        """``pieces``, timing its first bytes from ``started`` (``time.monotonic()`` before the request)."""
        return pieces

    def upstream_answered(self, upstream: str, started: float) -> None:
        """A non-streamed upstream answer was read whole: its first chunk is the whole completion."""
        return None

    def tokens(self, model: str, response: Json) -> None:
        return None

    def store_lookup(self, hit: bool) -> None:
        return None

    def count(self, route: str, status: int, labels: RequestLabels, seconds: float) -> None:
        """One answered request (an HTTP request, or a WebSocket turn)."""
        return None

    def first_event(self, route: str, seconds: float) -> None:
        return None

    def streaming(self, delta: int) -> None:
        """A stream starts (+1) or ends (-1)."""
        return None

    def render(self) -> tuple[bytes, str]:
        raise RuntimeError("metrics are off")

    def close(self) -> None:
        """The app ends (a worker's live gauges stop counting)."""
        return None


class PrometheusMetrics(Metrics):
    """The metrics, in a registry of their own."""

    enabled = True

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        by_request = ["route", "status", "upstream"]
        self.requests = Counter("c2r_requests", "HTTP requests answered", by_request, registry=reg)
        self.errors = Counter(
            "c2r_errors",
            "Error answers (status >= 400), and streams that ended in response.failed (kind)",
            [*by_request, "kind"],
            registry=reg,
        )
        self.active = Gauge(
            "c2r_active_streams", "Event streams in progress", registry=reg, multiprocess_mode="livesum"
        )
        self.duration = Histogram(
            "c2r_request_duration_seconds", "Time to the end of the answer", ["route"], registry=reg,
            buckets=_BUCKETS,
        )  # fmt: skip
        self.first_event_seconds = Histogram(
            "c2r_time_to_first_event_seconds",
            "Time from the request to the first event of a stream",
            ["route"],
            registry=reg,
            buckets=_BUCKETS,
        )
        self.upstream_first = Histogram(
            "c2r_upstream_time_to_first_chunk_seconds",
            "Time from the upstream request to its first body bytes",
            ["upstream"],
            registry=reg,
            buckets=_BUCKETS,
        )
        self.token_count = Counter(
            "c2r_tokens", "Tokens by model and direction (in, out)", ["model", "direction"], registry=reg
        )
        self.lookups = Counter("c2r_store_lookups", "Stored response lookups", ["result"], registry=reg)
        self._models: set[str] = set()

    def first_chunk(
        self, upstream: str, pieces: AsyncIterator[bytes], started: float
    ) -> AsyncIterator[bytes]:
        return _timed_first(pieces, started, self.upstream_first.labels(upstream).observe)

    def upstream_answered(self, upstream: str, started: float) -> None:
        self.upstream_first.labels(upstream).observe(time.monotonic() - started)

    def tokens(self, model: str, response: Json) -> None:
        usage = response.get("usage")
        if not isinstance(usage, dict):
            return
        if model not in self._models:
            if len(self._models) >= MAX_MODELS:
                model = "other"
            self._models.add(model)
        for direction, key in (("in", "input_tokens"), ("out", "output_tokens")):
            count = usage.get(key)
            if isinstance(count, int) and not isinstance(count, bool) and count > 0:
                self.token_count.labels(model, direction).inc(count)

    def store_lookup(self, hit: bool) -> None:
        self.lookups.labels("hit" if hit else "miss").inc()

    def count(self, route: str, status: int, labels: RequestLabels, seconds: float) -> None:
        code = str(status)
        self.requests.labels(route, code, labels.upstream).inc()
        self.duration.labels(route).observe(seconds)
        if status >= 400:
            self.errors.labels(route, code, labels.upstream, "http").inc()
        elif labels.failed:
            self.errors.labels(route, code, labels.upstream, "response_failed").inc()

    def first_event(self, route: str, seconds: float) -> None:
        self.first_event_seconds.labels(route).observe(seconds)

    def streaming(self, delta: int) -> None:
        self.active.inc(delta)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # serve --workers: every worker's files, summed
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def close(self) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


async def _timed_first(
    pieces: AsyncIterator[bytes], started: float, observe: Callable[[float], None]
) -> AsyncIterator[bytes]:
    first = True
    try:
        async for piece in pieces:
            if first and piece:
                observe(time.monotonic() - started)
                first = False
            yield piece
    finally:
        close = getattr(pieces, "aclose", None)
        if close is not None:
            await close()


def open_metrics(enabled: bool) -> Metrics:
    return PrometheusMetrics() if enabled else Metrics()


class MetricsMiddleware:
    """Counts and times each HTTP request (pure ASGI: streamed bodies pass through untouched)."""

    def __init__(self, app: ASGIApp, metrics: PrometheusMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        labels = scope[_LABELS] = RequestLabels()
        route, started = route_of(scope["path"]), time.monotonic()
        state: dict[str, Any] = {"status": 500, "stream": False, "first": True}

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["stream"] = any(
                    k == b"content-type" and v.startswith(b"text/event-stream") for k, v in message["headers"]
                )
                if state["stream"]:
                    self.metrics.streaming(+1)
            elif state["stream"] and state["first"] and message.get("body"):
                state["first"] = False
                self.metrics.first_event(route, time.monotonic() - started)
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            if state["stream"]:
                self.metrics.streaming(-1)
            self.metrics.count(route, state["status"], labels, time.monotonic() - started)
