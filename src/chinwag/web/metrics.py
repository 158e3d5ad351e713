"""``GET /metrics``: this node's counters in the Prometheus text format, by ``prometheus-client``.

Rules kept:

- Off unless ``CHINWAG_METRICS_TOKEN`` is set: then the route exists and a scrape must send
  ``Authorization: Bearer <token>`` (401 ``UNAUTHORIZED`` otherwise). Off, ``/metrics`` is a 404
  like any unknown path, and no registry or sink exists.
- One registry per app made by ``create_app``, never the library's global one, so two servers in
  one process count apart. Each node is scraped on its own: the numbers are this node's.
- Counting never fails or slows what it counts: counters are increments in the thread that
  already does the work; what the realtime hub holds (connections, watches) is read at scrape
  time, on the event loop that owns it.

What is exposed (docs/settings.md lists it too):

- ``chinwag_connections``: realtime sockets open on this node.
- ``chinwag_subscriptions{kind}``: conversations watched, by how (``participant``, ``former``
  for a member whose access is ``None``, ``guest``).
- ``chinwag_messages_stored_total{type}``: messages committed (``UserMessage``,
  ``SystemMessage``), counted from the events published after commit.
- ``chinwag_rate_limited_total{scope}``: requests refused by a rate limit (``rest`` per app,
  ``realtime`` per connection).
- The process's own CPU, memory and file descriptors (``process_*``).
"""

from __future__ import annotations

import hmac
import threading
from collections import Counter as Tally
from collections.abc import Iterator

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.responses import Response

from chinwag.domain.ratelimit import RateLimiter
from chinwag.errors import RateLimited, Unauthorized
from chinwag.realtime.node import RealtimeNode
from chinwag.services.events import Event

SUBSCRIPTION_KINDS = ("participant", "former", "guest")


class CountingRateLimiter(RateLimiter):
    """A :class:`RateLimiter` that counts the requests it refuses."""

    def __init__(self, rate: float, burst: int) -> None:
        super().__init__(rate, burst)
        self.refused = 0
        self._count_lock = threading.Lock()

    def take(self, key: str, now_ms: int, what: str = "requests") -> None:
        try:
            super().take(key, now_ms, what)
        except RateLimited:
            with self._count_lock:
                self.refused += 1
            raise


class Metrics(Collector):
    """The counters of one server: an :class:`EventSink` for what is committed, and a
    collector of what the realtime node and the REST limiter hold at scrape time."""

    def __init__(self, node: RealtimeNode, rest_limiter: CountingRateLimiter) -> None:
        self.node = node
        self.rest_limiter = rest_limiter
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.messages_stored = Counter(
            "chinwag_messages_stored",
            "Messages committed on this node, by type.",
            ["type"],
            registry=self.registry,
        )
        for kind in ("UserMessage", "SystemMessage"):
            self.messages_stored.labels(kind)
        self.registry.register(self)

    def publish(self, events: list[Event]) -> None:
        """Called after each commit with its events (the context's sink)."""
        for event in events:
            if event.type == "message.created":
                message = event.data.get("message") or {}
                self.messages_stored.labels(str(message.get("type", "UserMessage"))).inc()

    def collect(self) -> Iterator[Metric]:
        hub = self.node.hub
        yield GaugeMetricFamily(
            "chinwag_connections",
            "Realtime sockets open on this node.",
            value=sum(len(conns) for conns in hub.users.values()),
        )
        kinds: Tally[str] = Tally()
        for room in list(hub.rooms.values()):
            for watch in list(room.watches.values()):
                kinds[watch.kind] += 1
        subscriptions = GaugeMetricFamily(
            "chinwag_subscriptions",
            "Conversations watched by this node's sockets, by how they watch.",
            labels=["kind"],
        )
        for kind in SUBSCRIPTION_KINDS:  # a "pending" watch is still being set up: not yet one
            subscriptions.add_metric([kind], kinds[kind])
        yield subscriptions
        refused = CounterMetricFamily(
            "chinwag_rate_limited",
            "Requests refused by a rate limit: REST per app, realtime per connection.",
            labels=["scope"],
        )
        refused.add_metric(["rest"], self.rest_limiter.refused)
        refused.add_metric(["realtime"], self.node.refused_requests)
        yield refused

    def scrape(self) -> bytes:
        return generate_latest(self.registry)


def install(api: FastAPI, token: str, metrics: Metrics) -> None:
    """Add ``GET /metrics``, answered only to a scrape that sends ``token``."""
    expected = f"Bearer {token}".encode()

    @api.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        # Async, so it runs on the loop, where the hub's connections change.
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise Unauthorized("send the metrics token: Authorization: Bearer <token>")
        return Response(metrics.scrape(), media_type=CONTENT_TYPE_LATEST)
