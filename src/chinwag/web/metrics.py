"""``GET /metrics``: this node's counters in the Prometheus text format, by ``prometheus-client``.

Rules kept:

- Off unless ``CHINWAG_METRICS_TOKEN`` is set: then the route exists and a scrape must send
  ``Authorization: Bearer <token>`` (401 ``UNAUTHORIZED`` otherwise). Off, ``/metrics`` is a 404
  like any unknown path, and no registry or sink exists.
- One registry per app made by ``create_app``, never the library's global one, so two servers in
  one process count apart. Each node is scraped on its own: the numbers are this node's.
- Counting never fails or slows what it counts: the parts that do the work count into plain
  tallies and histograms they own (chinwag/stats.py), in the thread that already does the work;
  this collector reads them, and what the realtime hub holds (connections, watches), at scrape
  time, on the event loop that owns it. The outbox backlog is one indexed query per scrape, in a
  worker thread; if the database does not answer, the scrape leaves those two out.

What is exposed (docs/settings.md lists it too):

- ``chinwag_connections``: realtime sockets open on this node.
- ``chinwag_subscriptions{kind}``: conversations watched, by how (``participant``, ``former``
  for a member whose access is ``None``, ``guest``).
- ``chinwag_messages_stored_total{type}``: messages committed (``UserMessage``,
  ``SystemMessage``), counted from the events published after commit.
- ``chinwag_rate_limited_total{scope}``: requests refused by a rate limit (``rest`` per app,
  ``realtime`` per connection).
- ``chinwag_deliveries_total``: events written (or queued) to this node's sockets.
- ``chinwag_publish_to_socket_seconds`` (histogram): from an event's publish after its commit,
  on whichever node, to the end of the fan-out pass that wrote it to this node's sockets.
- ``chinwag_resyncs_total{reason}``: resync events sent; ``SLOW_CONSUMER`` is a send queue that
  overflowed, ``CATCH_UP_TOO_LARGE`` a gap too long to replay.
- ``chinwag_bus_reconnects_total``: the bus came back after losing messages (rooms caught up).
- ``chinwag_group_commit_batch_size`` and ``chinwag_group_commit_seconds`` (histograms): writes
  per group commit, and the time from a batch's start to its commit.
- ``chinwag_outbox_depth{kind}`` and ``chinwag_outbox_oldest_age_seconds{kind}``: outbox rows
  due and not finished (the shared outbox, as this node reads it), and how long the oldest has
  been due.
- ``chinwag_outbox_outcomes_total{kind,outcome}``: rows this process's worker finished
  (``sent``, ``recorded``, ``cancelled``, ``failed``, ``unknown``) or will try again
  (``retried``), by kind (``notification``, ``email``, ``sms``, ``webhook``).
- The process's own CPU, memory and file descriptors (``process_*``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
from collections import Counter as Tally
from collections.abc import Iterator

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.responses import Response

from chinwag.domain.ratelimit import RateLimiter
from chinwag.errors import RateLimited, Unauthorized
from chinwag.realtime.node import RealtimeNode
from chinwag.services.context import Context
from chinwag.services.events import Event
from chinwag.stats import Histogram
from chinwag.storage import outbox

log = logging.getLogger(__name__)

SUBSCRIPTION_KINDS = ("participant", "former", "guest")
RESYNC_REASONS = ("SLOW_CONSUMER", "CATCH_UP_TOO_LARGE")
OUTCOMES = ("sent", "recorded", "cancelled", "failed", "unknown", "retried")


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

    def __init__(
        self, node: RealtimeNode, rest_limiter: CountingRateLimiter, ctx: Context
    ) -> None:
        self.node = node
        self.rest_limiter = rest_limiter
        self.ctx = ctx
        #: The outbox backlog read for the scrape under way (None: the database did not answer).
        self.backlog: dict[str, tuple[int, int]] | None = None
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
        yield CounterMetricFamily(
            "chinwag_deliveries",
            "Events written (or queued) to this node's sockets.",
            value=hub.deliveries,
        )
        yield _histogram(
            "chinwag_publish_to_socket_seconds",
            "From an event's publish after commit to the end of the fan-out pass that wrote it "
            "to this node's sockets.",
            hub.publish_latency,
        )
        resyncs = CounterMetricFamily(
            "chinwag_resyncs",
            "Resync events sent: SLOW_CONSUMER is a send queue that overflowed.",
            labels=["reason"],
        )
        for reason in RESYNC_REASONS:
            resyncs.add_metric([reason], hub.resyncs.get(reason))
        yield resyncs
        yield CounterMetricFamily(
            "chinwag_bus_reconnects",
            "Times the bus came back after losing messages (the rooms then caught up).",
            value=hub.bus_reconnects,
        )
        yield _histogram(
            "chinwag_group_commit_batch_size",
            "Writes per group commit.",
            self.ctx.commits.batch_sizes,
        )
        yield _histogram(
            "chinwag_group_commit_seconds",
            "From a group commit batch's start to its commit.",
            self.ctx.commits.commit_seconds,
        )
        yield from self._outbox()

    def _outbox(self) -> Iterator[Metric]:
        outcomes = CounterMetricFamily(
            "chinwag_outbox_outcomes",
            "Outbox rows this process's worker finished, or will try again (retried).",
            labels=["kind", "outcome"],
        )
        seen = dict(self.ctx.outcomes.items())
        for kind in outbox.KINDS:
            for outcome in OUTCOMES:
                outcomes.add_metric([kind, outcome], seen.pop((kind, outcome), 0))
        for labels, n in seen.items():  # anything new, rather than nothing
            outcomes.add_metric(list(labels), n)
        yield outcomes
        if self.backlog is None:
            return
        now = self.ctx.clock.now_ms()
        depth = GaugeMetricFamily(
            "chinwag_outbox_depth", "Outbox rows due and not finished.", labels=["kind"]
        )
        age = GaugeMetricFamily(
            "chinwag_outbox_oldest_age_seconds",
            "How long the oldest unfinished outbox row has been due.",
            labels=["kind"],
        )
        for kind in outbox.KINDS:
            n, oldest = self.backlog.get(kind, (0, now))
            depth.add_metric([kind], n)
            age.add_metric([kind], max(0, now - oldest) / 1000)
        yield depth
        yield age

    def read_backlog(self) -> None:
        """Read the outbox backlog for the next scrape (blocking: call off the loop)."""
        try:
            with self.ctx.read() as tx:
                self.backlog = outbox.backlog(tx, self.ctx.clock.now_ms())
        except Exception as exc:
            log.warning("metrics: could not read the outbox backlog: %s", exc)
            self.backlog = None

    def scrape(self) -> bytes:
        return generate_latest(self.registry)


def _histogram(name: str, documentation: str, histogram: Histogram) -> HistogramMetricFamily:
    buckets, total = histogram.cumulative()
    return HistogramMetricFamily(
        name,
        documentation,
        buckets=[(_bound(bound), n) for bound, n in buckets],
        sum_value=total,
    )


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def install(api: FastAPI, token: str, metrics: Metrics) -> None:
    """Add ``GET /metrics``, answered only to a scrape that sends ``token``."""
    expected = f"Bearer {token}".encode()

    @api.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        # Async, so it runs on the loop, where the hub's connections change.
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise Unauthorized("send the metrics token: Authorization: Bearer <token>")
        await asyncio.to_thread(metrics.read_backlog)
        return Response(metrics.scrape(), media_type=CONTENT_TYPE_LATEST)
