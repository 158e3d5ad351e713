"""The outbox worker: claims due rows, does the work, records the outcome.

One loop (:meth:`Worker.run`): whenever a slot is free, claim due rows under a lease, as many
as the free slots and the per-app limits allow (:mod:`chinwag.notifications.slots`), and start
each in a thread of its own (email, SMS and webhooks wait on the network); a row that finishes
frees its slot at once, without waiting for the others claimed with it:

- ``notification``: evaluated in one transaction into email and SMS deliveries
  (:mod:`chinwag.notifications.batches`);
- ``email`` / ``sms``: handed to the configured :class:`Sender`, or ``recorded`` when none is
  configured; the row is marked in flight just before the point of no return;
- ``webhook``: signed and POSTed; any answer other than 2xx is retried.

Failures that may pass are retried with exponential backoff until ``max_attempts``; then the row
is ``failed``. Runs in the server process (:func:`start_in_thread`) or alone (``chinwag worker``),
as many times as wanted on PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from chinwag import ids
from chinwag.clock import Clock, SystemClock
from chinwag.domain.notify import backoff_ms
from chinwag.notifications import batches
from chinwag.notifications.delivery import (
    LeaseLost,
    PermanentFailure,
    Sender,
    TemporaryFailure,
    UncertainDelivery,
)
from chinwag.notifications.presence import NobodyViewing, Presence
from chinwag.notifications.slots import Slots
from chinwag.stats import Tally
from chinwag.storage import apps as app_store
from chinwag.storage import outbox
from chinwag.storage import webhooks as hook_store
from chinwag.storage.db import Database
from chinwag.storage.outbox import OutboxItem
from chinwag.webhooks import addresses, signing
from chinwag.webhooks.poster import ConnectionFailed, HttpPoster, Refused, WebhookPoster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    lease_ms: int = 300_000
    batch_size: int = 8  # unused since claims follow the free slots; kept for callers
    concurrency: int = 4
    #: Slots one app may hold at once; None: half of ``concurrency`` (at least one).
    per_app_concurrency: int | None = None
    max_attempts: dict[str, int] = field(
        default_factory=lambda: {"notification": 5, "email": 6, "sms": 6, "webhook": 8}
    )
    #: ``{appId}``, ``{conversationId}`` and ``{userId}`` are filled in.
    link_template: str = "http://127.0.0.1:8000/demo?conversationId={conversationId}"
    retention_ms: int = 7 * 24 * 3_600_000
    #: ``CHINWAG_WEBHOOK_ALLOW_PRIVATE``: webhooks may reach loopback and private addresses.
    allow_private_webhooks: bool = False


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{ids.random_token(6)}"


class Worker:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        email: Sender | None = None,
        sms: Sender | None = None,
        presence: Presence | None = None,
        poster: WebhookPoster | None = None,
        settings: WorkerSettings | None = None,
        owner: str | None = None,
        outcomes: Tally | None = None,
    ) -> None:
        self.db = db
        #: Rows handled by this worker, by kind and outcome (``sent``, ``recorded``,
        #: ``cancelled``, ``failed``, ``unknown``, or ``retried`` for an attempt that failed and
        #: will be tried again). The server's /metrics reads the context's tally.
        self.outcomes = outcomes if outcomes is not None else Tally()
        self.clock = clock or SystemClock()
        self.email = email
        self.sms = sms
        self.presence = presence or NobodyViewing()
        self.settings = settings or WorkerSettings()
        self.poster = poster or HttpPoster(allow_private=self.settings.allow_private_webhooks)
        self.owner = owner or worker_id()
        self.slots = Slots(self.settings.concurrency, self.settings.per_app_concurrency)
        self._pool = ThreadPoolExecutor(self.slots.total, "chinwag-outbox")
        self._last_prune = 0

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    # -- the loop -----------------------------------------------------------------------

    def fill(self) -> int:
        """Claim as many due rows as the free slots and the per-app limits allow and start
        each; return how many were claimed (0: no slot free, or nothing due that may start)."""
        plan = self.slots.plan()
        if plan.free <= 0:
            return 0
        now = self.clock.now_ms()
        with self.db.transaction() as tx:
            items = outbox.claim(
                tx,
                self.owner,
                now,
                self.settings.lease_ms,
                plan.free,
                skip_apps=plan.full_apps,
                skip_webhooks=plan.webhook_room <= 0,
                take=plan.take,
            )
        self.slots.hold(items)
        for item in items:
            self._pool.submit(self._run_one, item)
        return len(items)

    def _run_one(self, item: OutboxItem) -> None:
        try:
            self._handle_safely(item)
        finally:
            self.slots.release(item)

    def run_once(self) -> int:
        """Claim what is due and may start, and handle it; return how many rows were claimed."""
        claimed = self.fill()
        self.slots.wait_idle()
        return claimed

    def drain(self, max_rounds: int = 100_000) -> int:
        """Run until nothing is due now and nothing is running (for tests and
        ``chinwag worker --once``)."""
        total = 0
        for _ in range(max_rounds):
            since = self.slots.released
            claimed = self.fill()
            total += claimed
            if not claimed:
                if self.slots.idle_since(since):  # nothing ran while that claim looked
                    break
                self.slots.wait(since, None)  # a row finished: its slot, or its follow-ups
        return total

    def run(self, stop: threading.Event, idle_seconds: float = 1.0) -> None:
        log.info("outbox worker %s started", self.owner)
        while not stop.is_set():
            since = self.slots.released
            try:
                claimed = self.fill()
                self._maybe_prune()
            except Exception:  # a database hiccup must not end the loop
                log.exception("outbox worker round failed")
                claimed = 0
            if not claimed:
                self.slots.wait(since, idle_seconds)
        log.info("outbox worker %s stopped", self.owner)

    def _maybe_prune(self) -> None:
        now = self.clock.now_ms()
        if now - self._last_prune < 3_600_000:
            return
        self._last_prune = now
        with self.db.transaction() as tx:
            removed = outbox.prune(tx, now - self.settings.retention_ms)
        if removed:
            log.info("outbox: forgot %d finished rows", removed)

    # -- one row ------------------------------------------------------------------------

    def _handle_safely(self, item: OutboxItem) -> None:
        try:
            self._handle(item)
        except Exception as exc:
            log.exception("outbox row %s (%s) failed unexpectedly", item.id, item.kind)
            self._failed(item, None, f"internal error: {exc!r}", permanent=False)

    def _handle(self, item: OutboxItem) -> None:
        if item.kind == "notification":
            with self.db.transaction() as tx:
                held = outbox.hold(tx, item.id, self.owner)
                if held is not None:
                    status = batches.evaluate(
                        tx, held, self.clock.now_ms(), self.presence, self.settings.link_template
                    )
                    log.debug("batch %s: %s", item.id, status)
            if held is not None:
                self.outcomes.add(item.kind, status)
        elif item.kind in ("email", "sms"):
            self._deliver(item)
        elif item.kind == "webhook":
            self._post(item)
        else:
            self._failed(item, None, f"unknown kind {item.kind!r}", permanent=True)

    def _deliver(self, item: OutboxItem) -> None:
        sender = self.email if item.kind == "email" else self.sms
        assert item.target is not None
        if sender is None:
            with self.db.transaction() as tx:
                held = outbox.hold(tx, item.id, self.owner)
                if held is not None:
                    outbox.finish(
                        tx,
                        item.id,
                        "recorded",
                        self.clock.now_ms(),
                        error=f"no {item.kind} provider configured",
                    )
            if held is not None:
                self.outcomes.add(item.kind, "recorded")
            return
        handed = False

        def handoff() -> bool:
            nonlocal handed
            with self.db.transaction() as tx:
                handed = outbox.start_attempt(tx, item.id, self.owner, self.clock.now_ms())
            return handed

        try:
            sender.send(item.target, item.payload, item.id, handoff)
        except LeaseLost:
            log.warning("%s %s: lease lost, left to the worker that holds it", item.kind, item.id)
            return
        except UncertainDelivery as exc:
            self._finish(item, "unknown", exc.status, str(exc))
            return
        except PermanentFailure as exc:
            self._failed(item, exc.status, str(exc), permanent=True)
            return
        except TemporaryFailure as exc:
            self._failed(item, exc.status, str(exc), permanent=False)
            return
        except Exception as exc:
            log.exception("%s %s: sender crashed", item.kind, item.id)
            if handed:
                self._finish(item, "unknown", None, f"sender crashed after handoff: {exc!r}")
            else:
                self._failed(item, None, f"sender crashed: {exc!r}", permanent=False)
            return
        now = self.clock.now_ms()
        with self.db.transaction() as tx:
            outbox.finish(tx, item.id, "sent", now)
            batches.sent_webhook(tx, item, now)
        self.outcomes.add(item.kind, "sent")

    def _post(self, item: OutboxItem) -> None:
        assert item.target is not None
        with self.db.read() as tx:
            keys = app_store.secret_keys(tx, item.app_id)
            endpoint = hook_store.get(tx, item.app_id, item.webhook_id or "")
        if endpoint is None or not endpoint.enabled:
            self._finish(item, "cancelled", None, "the webhook was removed or disabled")
            return
        if not keys:
            self._failed(item, None, "the app has no secret key to sign with", permanent=True)
            return
        if endpoint.url != item.target:  # the endpoint moved since: the log shows where it went
            with self.db.transaction() as tx:
                outbox.set_target(tx, item.id, endpoint.url)
        body = item.payload["body"].encode()
        timestamp = str(self.clock.now_ms())
        headers = signing.headers(keys[0], timestamp, body, item.payload["eventId"])
        try:
            status = self.poster.post(endpoint.url, body, headers)  # its URL now
        except Refused:  # retried: fixing the endpoint's URL rescues it
            self._failed(item, None, addresses.REFUSED, permanent=False)
            return
        except ConnectionFailed:  # never more detail: the log must not tell open ports apart
            self._failed(item, None, "connection failed", permanent=False)
            return
        if 200 <= status < 300:
            self._finish(item, "sent", status, None)
        else:
            self._failed(item, status, f"the receiver answered {status}", permanent=False)

    # -- outcomes -----------------------------------------------------------------------

    def _finish(self, item: OutboxItem, status: str, code: int | None, error: str | None) -> None:
        with self.db.transaction() as tx:
            outbox.finish(tx, item.id, status, self.clock.now_ms(), code, error)
        self.outcomes.add(item.kind, status)

    def _failed(self, item: OutboxItem, code: int | None, error: str, permanent: bool) -> None:
        now = self.clock.now_ms()
        attempts_left = item.attempts < self.settings.max_attempts.get(item.kind, 5)
        with self.db.transaction() as tx:
            if outbox.hold(tx, item.id, self.owner) is None:
                return
            if permanent or not attempts_left:
                outbox.finish(tx, item.id, "failed", now, code, error)
                outcome = "failed"
                log.warning("%s %s failed for good: %s", item.kind, item.id, error)
            else:
                outbox.retry(
                    tx,
                    item.id,
                    now + backoff_ms(item.attempts),
                    now,
                    code,
                    error,
                    keep_claimed=item.kind == "notification",
                )
                outcome = "retried"
                log.info(
                    "%s %s: attempt %d failed (%s), will retry",
                    item.kind,
                    item.id,
                    item.attempts,
                    error,
                )
        self.outcomes.add(item.kind, outcome)


def start_in_thread(
    worker: Worker, idle_seconds: float = 1.0
) -> tuple[threading.Thread, threading.Event]:
    """Run the worker in a daemon thread of this process; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run, args=(stop, idle_seconds), name="chinwag-outbox", daemon=True
    )
    thread.start()
    return thread, stop
