"""Notifications (email, SMS) and the outbox worker that also delivers webhooks.

:func:`install` makes a :class:`~chinwag.services.context.Context` write outbox rows inside every
write transaction; :func:`worker_from_config` builds the worker the server or ``chinwag worker``
runs. See docs/notifications.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chinwag.notifications.enqueue import write_outbox

if TYPE_CHECKING:
    from chinwag.clock import Clock
    from chinwag.config import Config
    from chinwag.notifications.presence import Presence
    from chinwag.notifications.worker import Worker
    from chinwag.services.context import Context
    from chinwag.stats import Tally
    from chinwag.storage.db import Database


def install(ctx: Context) -> Context:
    """Add the outbox writer to the context's in-transaction hooks (once)."""
    if write_outbox not in ctx.in_transaction:
        ctx.in_transaction.append(write_outbox)
    return ctx


def worker_from_config(
    db: Database,
    config: Config,
    clock: Clock | None = None,
    presence: Presence | None = None,
    outcomes: Tally | None = None,
) -> Worker:
    from chinwag.notifications.sms import TwilioSender
    from chinwag.notifications.smtp import SmtpSender, SmtpSettings
    from chinwag.notifications.worker import Worker, WorkerSettings

    email = None
    if config.smtp_url and config.email_from:
        email = SmtpSender(SmtpSettings.from_url(config.smtp_url), config.email_from)
    sms = None
    if config.sms_url and config.sms_account and config.sms_token and config.sms_from:
        sms = TwilioSender(config.sms_url, config.sms_account, config.sms_token, config.sms_from)
    link = config.notification_url or (config.base_url + "/demo?conversationId={conversationId}")
    settings = WorkerSettings(
        lease_ms=config.worker_lease_seconds * 1000,
        concurrency=config.worker_threads,
        per_app_concurrency=config.worker_app_threads,
        batch_size=2 * config.worker_threads,
        link_template=link,
        allow_private_webhooks=config.webhook_allow_private,
    )
    return Worker(
        db,
        clock=clock,
        email=email,
        sms=sms,
        presence=presence,
        settings=settings,
        outcomes=outcomes,
    )
