"""Notification and worker settings are validated at start and build the right worker."""

from __future__ import annotations

import pytest

from chinwag.config import ConfigError, load
from chinwag.notifications import worker_from_config
from chinwag.notifications.sms import TwilioSender
from chinwag.notifications.smtp import SmtpSender
from chinwag.storage.db import open_database

SMS = {
    "CHINWAG_SMS_URL": "https://sms.example.test/",
    "CHINWAG_SMS_ACCOUNT": "AC1",
    "CHINWAG_SMS_TOKEN": "t",
    "CHINWAG_SMS_FROM": "+15550000000",
}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CHINWAG_SMTP_URL": "http://mail.example.test"}, "SMTP URL must start with"),
        ({"CHINWAG_SMTP_URL": "smtp://mail.example.test"}, "set CHINWAG_EMAIL_FROM"),
        ({"CHINWAG_SMS_URL": "https://sms.example.test"}, "together"),
        ({"CHINWAG_WORKER": "maybe"}, "worker must be on or off"),
        ({"CHINWAG_WORKER_LEASE_SECONDS": "0"}, "worker lease"),
        ({"CHINWAG_WORKER_THREADS": "lots"}, "worker threads"),
    ],
)
def test_bad_values_stop_the_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(environ=env)


def test_nothing_configured_records_and_everything_configured_sends() -> None:
    db = open_database("sqlite:///:memory:")
    try:
        bare = worker_from_config(db, load(environ={}))
        assert bare.email is None and bare.sms is None
        assert bare.settings.link_template == (
            "http://127.0.0.1:8000/demo?conversationId={conversationId}"
        )
        bare.close()
        full = worker_from_config(
            db,
            load(
                environ={
                    "CHINWAG_SMTP_URL": "smtp+starttls://u:p@mail.example.test",
                    "CHINWAG_EMAIL_FROM": "chat@example.test",
                    "CHINWAG_PUBLIC_URL": "https://chat.example.test/",
                    "CHINWAG_WORKER_LEASE_SECONDS": "30",
                    "CHINWAG_WORKER_THREADS": "2",
                    **SMS,
                }
            ),
        )
        assert isinstance(full.email, SmtpSender) and isinstance(full.sms, TwilioSender)
        assert full.sms.url == "https://sms.example.test/2010-04-01/Accounts/AC1/Messages.json"
        assert (full.settings.lease_ms, full.settings.concurrency) == (30_000, 2)
        assert full.settings.link_template.startswith("https://chat.example.test/demo?")
        assert full.slots.per_app == 1  # half the threads by default
        full.close()
        assert bare.slots.per_app == 2 and not bare.settings.allow_private_webhooks
        shared = worker_from_config(
            db,
            load(
                environ={
                    "CHINWAG_WORKER_THREADS": "8",
                    "CHINWAG_WORKER_APP_THREADS": "3",
                    "CHINWAG_WEBHOOK_ALLOW_PRIVATE": "on",
                }
            ),
        )
        assert (shared.slots.total, shared.slots.per_app, shared.slots.webhooks) == (8, 3, 7)
        assert shared.settings.allow_private_webhooks
        shared.close()
        with pytest.raises(ConfigError, match="worker app threads"):
            load(environ={"CHINWAG_WORKER_APP_THREADS": "0"})
    finally:
        db.close()
