"""The server's one settings module: every option, its flag, its environment variable, its default.

Read once at start (:func:`load`), validated, then passed down. ``docs/settings.md`` lists every
entry of :data:`OPTIONS`; a test keeps the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from chinwag import proxies

#: name -> (environment variable, default, help). The CLI flag is ``--name-with-dashes``.
OPTIONS: dict[str, tuple[str, str | None, str]] = {
    "host": ("CHINWAG_HOST", "127.0.0.1", "Address to listen on."),
    "port": ("CHINWAG_PORT", "8000", "Port to listen on; 0 takes a free one (printed at start)."),
    "data_dir": ("CHINWAG_DATA_DIR", "./var", "Directory for the SQLite database and other state."),
    "database_url": (
        "CHINWAG_DATABASE_URL",
        None,
        "sqlite:///path or postgresql://...; default: SQLite at DATA_DIR/chinwag.db.",
    ),
    "broker_url": ("CHINWAG_BROKER_URL", "memory://", "memory:// (one process) or redis://..."),
    "app_id": (
        "CHINWAG_APP_ID",
        None,
        "With CHINWAG_SECRET_KEY: make sure this app exists at start.",
    ),
    "secret_key": ("CHINWAG_SECRET_KEY", None, "The secret key of CHINWAG_APP_ID."),
    "public_url": (
        "CHINWAG_PUBLIC_URL",
        None,
        "The URL clients reach this server at (for printed links); default http://HOST:PORT.",
    ),
    "log_level": ("CHINWAG_LOG_LEVEL", "info", "debug, info, warning or error."),
    "log_format": (
        "CHINWAG_LOG_FORMAT",
        "text",
        "text (for a terminal) or json (one JSON object a line, for a log pipeline).",
    ),
    "trusted_proxies": (
        "CHINWAG_TRUSTED_PROXIES",
        None,
        "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (e.g. 127.0.0.1,10.0.0.0/8); unset: none.",
    ),
    "http_pending_per_address": (
        "CHINWAG_HTTP_PENDING_PER_ADDRESS",
        "64",
        "HTTP requests one client address may have whose head has not arrived yet (slow "
        "clients); 0: no cap. Trusted proxies are never capped.",
    ),
    "admin_password": (
        "CHINWAG_ADMIN_PASSWORD",
        None,
        "The dashboard's admin password; default: made on first start, printed once, kept hashed.",
    ),
    "metrics_token": (
        "CHINWAG_METRICS_TOKEN",
        None,
        "Bearer token a scrape of /metrics must send; unset: /metrics is off.",
    ),
    # Notifications and webhooks (docs/notifications.md, docs/webhooks.md).
    "smtp_url": (
        "CHINWAG_SMTP_URL",
        None,
        "smtp://[user:pass@]host[:port], smtp+starttls://... or smtps://...; unset: emails are "
        "recorded, not sent.",
    ),
    "email_from": ("CHINWAG_EMAIL_FROM", None, "Sender address of notification emails."),
    "sms_url": (
        "CHINWAG_SMS_URL",
        None,
        "Base URL of a Twilio-compatible SMS API; unset: SMS are recorded, not sent.",
    ),
    "sms_account": ("CHINWAG_SMS_ACCOUNT", None, "SMS API account id (basic auth user)."),
    "sms_token": ("CHINWAG_SMS_TOKEN", None, "SMS API token (basic auth password)."),
    "sms_from": ("CHINWAG_SMS_FROM", None, "Sender number of notification SMS."),
    "notification_url": (
        "CHINWAG_NOTIFICATION_URL",
        None,
        "Link in notifications, with {appId}, {conversationId}, {userId} filled in; "
        "default PUBLIC_URL/demo?conversationId={conversationId}.",
    ),
    "worker": (
        "CHINWAG_WORKER",
        "on",
        "on: run the notification and webhook worker inside `chinwag serve`; off: leave it to "
        "`chinwag worker` processes.",
    ),
    "worker_lease_seconds": (
        "CHINWAG_WORKER_LEASE_SECONDS",
        "300",
        "How long a worker holds claimed outbox rows; after a crash they are taken over then.",
    ),
    "worker_threads": (
        "CHINWAG_WORKER_THREADS",
        "4",
        "How many emails, SMS and webhooks one worker sends at once.",
    ),
    "worker_app_threads": (
        "CHINWAG_WORKER_APP_THREADS",
        None,
        "How many of those one app may use at once (so one app's slow receivers never delay "
        "another's deliveries); default half of CHINWAG_WORKER_THREADS, at least 1.",
    ),
    "webhook_allow_private": (
        "CHINWAG_WEBHOOK_ALLOW_PRIVATE",
        "off",
        "on: webhooks may go to loopback, private, link-local, multicast and unspecified "
        "addresses (closed networks, tests); off: public addresses only.",
    ),
}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    """The settings as read by :func:`load`; their defaults are in :data:`OPTIONS` only."""

    host: str
    port: int
    data_dir: str
    database_url: str
    broker_url: str
    app_id: str | None
    secret_key: str | None
    public_url: str
    log_level: str
    log_format: str
    trusted_proxies: str | None
    http_pending_per_address: int
    admin_password: str | None
    metrics_token: str | None
    smtp_url: str | None
    email_from: str | None
    sms_url: str | None
    sms_account: str | None
    sms_token: str | None
    sms_from: str | None
    notification_url: str | None
    worker: str
    worker_lease_seconds: int
    worker_threads: int
    worker_app_threads: int | None
    webhook_allow_private: bool

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def load(
    overrides: Mapping[str, str | None] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Flags (``overrides``) win over environment variables, which win over the defaults of
    :data:`OPTIONS`; an empty value counts as unset."""
    env = os.environ if environ is None else environ
    raw: dict[str, str | None] = {}
    for name, (var, default, _help) in OPTIONS.items():
        raw[name] = (overrides or {}).get(name) or env.get(var) or default
    reasons: list[str] = []
    port = _number(raw, "port", 0, 65535, reasons, "port must be a number from 0 to 65535")
    data_dir = str(raw["data_dir"])
    database_url = raw["database_url"] or f"sqlite:///{os.path.join(data_dir, 'chinwag.db')}"
    if urlparse(database_url).scheme not in ("sqlite", "postgresql", "postgres"):
        reasons.append("database URL must start with sqlite:/// or postgresql://")
    broker_url = str(raw["broker_url"])
    if urlparse(broker_url).scheme not in ("memory", "redis", "rediss"):
        reasons.append("broker URL must be memory:// or redis://...")
    if bool(raw["app_id"]) != bool(raw["secret_key"]):
        reasons.append("set CHINWAG_APP_ID and CHINWAG_SECRET_KEY together")
    level = str(raw["log_level"]).lower()
    if level not in ("debug", "info", "warning", "error"):
        reasons.append(f"log level must be debug, info, warning or error, not {level!r}")
    log_format = str(raw["log_format"]).lower()
    if log_format not in ("text", "json"):
        reasons.append(f"log format must be text or json, not {log_format!r}")
    try:
        proxies.parse(raw["trusted_proxies"])
    except ValueError as exc:
        reasons.append(f"trusted proxies must be addresses or networks: {exc}")
    pending = _number(
        raw,
        "http_pending_per_address",
        0,
        1_000_000,
        reasons,
        "http pending per address must be a number (0: no cap)",
    )
    for switch in ("worker", "webhook_allow_private"):
        if str(raw[switch]).lower() not in ("on", "off"):
            reasons.append(f"{switch.replace('_', ' ')} must be on or off")
    lease = _number(
        raw,
        "worker_lease_seconds",
        1,
        86400,
        reasons,
        "worker lease must be a number of seconds from 1 to 86400",
    )
    threads = _number(
        raw, "worker_threads", 1, 64, reasons, "worker threads must be a number from 1 to 64"
    )
    per_app = None
    if raw["worker_app_threads"]:
        per_app = _number(
            raw,
            "worker_app_threads",
            1,
            64,
            reasons,
            "worker app threads must be a number from 1 to 64",
        )
    reasons += _notification_reasons(raw)
    if reasons:
        raise ConfigError("; ".join(reasons))
    return Config(
        host=str(raw["host"]),
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        broker_url=broker_url,
        app_id=raw["app_id"],
        secret_key=raw["secret_key"],
        public_url=(raw["public_url"] or "").rstrip("/"),
        log_level=level,
        log_format=log_format,
        trusted_proxies=raw["trusted_proxies"],
        http_pending_per_address=pending,
        admin_password=raw["admin_password"],
        metrics_token=raw["metrics_token"],
        smtp_url=raw["smtp_url"],
        email_from=raw["email_from"],
        sms_url=(raw["sms_url"] or "").rstrip("/") or None,
        sms_account=raw["sms_account"],
        sms_token=raw["sms_token"],
        sms_from=raw["sms_from"],
        notification_url=raw["notification_url"],
        worker=str(raw["worker"]).lower(),
        worker_lease_seconds=lease,
        worker_threads=threads,
        worker_app_threads=per_app,
        webhook_allow_private=str(raw["webhook_allow_private"]).lower() == "on",
    )


def _number(
    raw: Mapping[str, str | None], name: str, low: int, high: int, reasons: list[str], why: str
) -> int:
    """``raw[name]`` as a number from ``low`` to ``high``; else a reason (and ``low``)."""
    text = str(raw[name])
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    reasons.append(f"{why}, not {text!r}")
    return low


def _notification_reasons(raw: Mapping[str, str | None]) -> list[str]:
    reasons = []
    smtp = raw["smtp_url"]
    if smtp and urlparse(smtp).scheme not in ("smtp", "smtp+starttls", "smtps"):
        reasons.append("SMTP URL must start with smtp://, smtp+starttls:// or smtps://")
    if smtp and not raw["email_from"]:
        reasons.append("set CHINWAG_EMAIL_FROM with CHINWAG_SMTP_URL")
    sms = [raw[k] for k in ("sms_url", "sms_account", "sms_token", "sms_from")]
    if any(sms) and not all(sms):
        reasons.append(
            "set CHINWAG_SMS_URL, CHINWAG_SMS_ACCOUNT, CHINWAG_SMS_TOKEN and CHINWAG_SMS_FROM "
            "together"
        )
    return reasons
