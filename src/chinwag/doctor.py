"""``chinwag doctor``: check a configuration before going live, one line per check.

Rules kept:

- It reads, never writes: no migration, no app, no database file made (a probe file in the data
  directory is made and removed at once). What a check needs to be fixed is in its line.
- Each check is ``ok``, ``FAIL`` or ``skip`` (not configured, with what that means); the exit
  code is 1 when one failed, else 0.
- Credentials are tried where trying costs nothing: the database and Redis are connected to,
  the SMTP server is greeted (EHLO, STARTTLS, AUTH) and left without sending. The SMS API is a
  paid one: its configuration is checked for shape only, never called.
- No password, token or secret key is printed: URLs are shown with the password hidden.
"""

from __future__ import annotations

import os
import re
import smtplib
import sqlite3
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlparse

from chinwag.config import Config
from chinwag.notifications.smtp import SmtpSettings
from chinwag.storage.db import redact
from chinwag.storage.migrations import LATEST

#: The largest difference, in seconds, between this machine's clock and the database server's
#: that passes: message times, leases and notification delays are taken from node clocks.
MAX_CLOCK_SKEW = 2.0
TIMEOUT = 10.0
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ALPHANUMERIC_SENDER = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok" | "FAIL" | "skip"
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def _sqlite_path(url: str) -> str:
    return url[len("sqlite:///") :] if url.startswith("sqlite:///") else url[len("sqlite://") :]


def _schema_verdict(version: int) -> tuple[str, str]:
    if version == LATEST:
        return "ok", f"schema version {version} (current)"
    if version < LATEST:
        return "FAIL", f"schema version {version}, Chinwag needs {LATEST}: run `chinwag migrate`"
    return "FAIL", f"schema version {version} is newer than this Chinwag ({LATEST}): upgrade it"


def _migrations_version(rows: list[tuple[object, ...]]) -> int:
    value = rows[0][0] if rows else None
    return int(str(value)) if value is not None else 0


def check_database(config: Config, clock: Callable[[], float] = time.time) -> list[Check]:
    """Reachable and migrated; on PostgreSQL also the clock skew against the server."""
    url = config.database_url
    shown = redact(url)
    if urlparse(url).scheme == "sqlite":
        path = _sqlite_path(url)
        if not os.path.exists(path):
            return [Check("database", "FAIL", f"{shown}: no database yet: run `chinwag migrate`")]
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=TIMEOUT)
            try:
                tables = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"
                ).fetchall()
                rows = (
                    conn.execute("SELECT MAX(version) FROM schema_migrations").fetchall()
                    if tables
                    else []
                )
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return [Check("database", "FAIL", f"{shown}: cannot read it: {exc}")]
        status, detail = _schema_verdict(_migrations_version(rows))
        return [
            Check("database", status, f"{shown}: {detail}"),
            Check("clock", "skip", "SQLite is on this machine: no clock to compare with"),
        ]
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=int(TIMEOUT), autocommit=True) as pg:
            exists = pg.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
            rows = (
                pg.execute("SELECT MAX(version) FROM schema_migrations").fetchall()
                if exists and exists[0]
                else []
            )
            before = clock()
            row = pg.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8").fetchone()
            after = clock()
    except psycopg.Error as exc:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [Check("database", "FAIL", f"{shown}: unreachable: {why}")]
    status, detail = _schema_verdict(_migrations_version(rows))
    checks = [Check("database", status, f"{shown}: {detail}")]
    assert row is not None
    skew = float(row[0]) - (before + after) / 2
    verdict = "ok" if abs(skew) <= MAX_CLOCK_SKEW else "FAIL"
    hint = "" if verdict == "ok" else ": synchronise the clocks (NTP) of the nodes and the database"
    checks.append(
        Check(
            "clock",
            verdict,
            f"this machine is {abs(skew):.3f} s {'behind' if skew > 0 else 'ahead of'} the "
            f"database server (at most {MAX_CLOCK_SKEW:g} s passes){hint}",
        )
    )
    return checks


def check_broker(config: Config) -> Check:
    url = config.broker_url
    if urlparse(url).scheme == "memory":
        return Check("redis", "skip", "memory:// broker: one process only, no Redis to check")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        client.ping()
        version = client.info("server").get("redis_version", "?")
    except redis.RedisError as exc:
        return Check("redis", "FAIL", f"{redact(url)}: unreachable: {exc}")
    finally:
        client.close()
    return Check("redis", "ok", f"{redact(url)}: answers PING (Redis {version})")


def check_smtp(config: Config, tls_context: ssl.SSLContext | None = None) -> Check:
    if not config.smtp_url:
        return Check("smtp", "skip", "CHINWAG_SMTP_URL unset: emails are recorded, not sent")
    shown = redact(config.smtp_url)
    if not _ADDRESS.match(parseaddr(config.email_from or "")[1]):
        return Check("smtp", "FAIL", f"CHINWAG_EMAIL_FROM {config.email_from!r} is no address")
    try:
        s = SmtpSettings.from_url(config.smtp_url)
    except ValueError as exc:
        return Check("smtp", "FAIL", str(exc))
    context = tls_context or ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    except smtplib.SMTPAuthenticationError as exc:
        return Check("smtp", "FAIL", f"{shown}: the login was refused ({exc.smtp_code})")
    except (OSError, smtplib.SMTPException) as exc:
        return Check("smtp", "FAIL", f"{shown}: {type(exc).__name__}: {exc}")
    how = {"plain": "EHLO", "starttls": "EHLO, STARTTLS", "tls": "TLS, EHLO"}[s.security]
    if s.username:
        how += ", AUTH accepted"
    return Check("smtp", "ok", f"{shown}: {how}; nothing sent")


def check_sms(config: Config) -> Check:
    if not config.sms_url:
        return Check("sms", "skip", "CHINWAG_SMS_URL unset: SMS are recorded, not sent")
    problems = []
    url = urlparse(config.sms_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        problems.append("CHINWAG_SMS_URL must be an http(s):// base URL")
    elif url.scheme == "http" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
        problems.append("CHINWAG_SMS_URL must use https:// (the token travels in every request)")
    if not _ACCOUNT.match(config.sms_account or ""):
        problems.append("CHINWAG_SMS_ACCOUNT must be 1-128 letters, digits, _ . -")
    if not config.sms_token or len(config.sms_token) < 8:
        problems.append("CHINWAG_SMS_TOKEN looks too short")
    sender = config.sms_from or ""
    if not (_E164.match(sender) or _ALPHANUMERIC_SENDER.match(sender)):
        problems.append("CHINWAG_SMS_FROM must be an E.164 number (+15551234567) or a sender id")
    if problems:
        return Check("sms", "FAIL", "; ".join(problems))
    return Check(
        "sms", "ok", f"{config.sms_url}: configuration well formed (not called: it is a paid API)"
    )


def check_data_dir(config: Config) -> Check:
    path = os.path.abspath(config.data_dir)
    if os.path.exists(path) and not os.path.isdir(path):
        return Check("data dir", "FAIL", f"{path} is not a directory")
    probe_in = path
    while not os.path.exists(probe_in):  # serve makes the missing part; its parent must allow it
        probe_in = os.path.dirname(probe_in)
    try:
        with tempfile.NamedTemporaryFile(dir=probe_in, prefix=".chinwag-doctor-"):
            pass
    except OSError as exc:
        return Check("data dir", "FAIL", f"{path}: cannot write in {probe_in}: {exc.strerror}")
    made = "" if probe_in == path else " (missing: `chinwag serve` creates it)"
    return Check("data dir", "ok", f"{path} is writable{made}")


def run(
    config: Config,
    clock: Callable[[], float] = time.time,
    tls_context: ssl.SSLContext | None = None,
) -> list[Check]:
    return [
        *check_database(config, clock),
        check_broker(config),
        check_smtp(config, tls_context),
        check_sms(config),
        check_data_dir(config),
    ]


def cmd_doctor(config: Config) -> int:
    checks = run(config)
    for check in checks:
        print(check.line(), flush=True)
    failed = [c.name for c in checks if c.status == "FAIL"]
    print(f"{len(failed)} check(s) failed: {', '.join(failed)}" if failed else "all checks passed")
    return 1 if failed else 0
