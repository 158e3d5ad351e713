"""Running the outbox worker: inside ``chinwag serve`` (a background thread), or alone as
``chinwag worker`` (as many processes as wanted on PostgreSQL)."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from typing import Any

from chinwag.config import Config
from chinwag.notifications import worker_from_config
from chinwag.notifications.presence import Presence
from chinwag.notifications.worker import Worker, start_in_thread
from chinwag.services.context import Context
from chinwag.storage.db import open_database, redact
from chinwag.webhooks import addresses

log = logging.getLogger(__name__)

#: The settings ``chinwag worker`` takes.
WORKER_OPTIONS = [
    "data_dir",
    "database_url",
    "public_url",
    "log_level",
    "smtp_url",
    "email_from",
    "sms_url",
    "sms_account",
    "sms_token",
    "sms_from",
    "notification_url",
    "worker_lease_seconds",
    "worker_threads",
    "worker_app_threads",
    "webhook_allow_private",
]


@dataclass
class Running:
    worker: Worker
    thread: threading.Thread
    stop_event: threading.Event


def describe(config: Config, worker: Worker) -> str:
    email = "SMTP" if worker.email else "recorded only (no CHINWAG_SMTP_URL)"
    sms = "SMS API" if worker.sms else "recorded only (no CHINWAG_SMS_URL)"
    return f"Notifications: email {email}, SMS {sms}; webhooks on; worker {worker.owner}"


def start_in_server(
    config: Config, ctx: Context, presence: Presence | None = None
) -> Running | None:
    """Start the worker in a thread of the server process, unless ``CHINWAG_WORKER=off``.

    Also applies the operator's webhook address policy to the process, which the REST
    registration of webhooks follows whether or not the worker runs here."""
    addresses.set_allow_private(config.webhook_allow_private)
    if config.worker != "on":
        log.info("outbox worker off in this process (CHINWAG_WORKER=off)")
        return None
    worker = worker_from_config(ctx.db, config, ctx.clock, presence, ctx.outcomes)
    print(describe(config, worker), flush=True)
    thread, stop_event = start_in_thread(worker)
    return Running(worker, thread, stop_event)


def stop(running: Running | None) -> None:
    if running is None:
        return
    running.stop_event.set()
    running.thread.join(timeout=30)
    running.worker.close()


def cmd_worker(config: Config, once: bool = False) -> int:
    addresses.set_allow_private(config.webhook_allow_private)
    db = open_database(config.database_url)
    worker = worker_from_config(db, config)
    print(f"chinwag worker on {redact(config.database_url)}", flush=True)
    print(describe(config, worker), flush=True)
    try:
        if once:
            worker.drain()
            return 0
        stop_event = threading.Event()

        def on_signal(signum: int, frame: Any) -> None:
            stop_event.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        worker.run(stop_event, idle_seconds=0.5)
        return 0
    finally:
        worker.close()
        db.close()
