"""Real servers on loopback for the notification and webhook tests, and their fixtures.

- :class:`SmtpServer`: aiosmtpd, keeping every mail it accepts.
- :class:`HttpRecorder`: a threaded HTTP server standing in for the SMS provider and for webhook
  receivers; it keeps every request and answers with a status the test chooses.
- ``allow_private_webhooks``: the operator's setting that lets webhooks reach loopback.
- ``notif_db``: a database of its own per test (SQLite file or a fresh PostgreSQL database), so
  a worker, which takes work from every app, sees only this test's rows.

Imported by the other ``test_notif*`` and ``test_webhook*`` modules.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller

from chinwag.clock import FakeClock
from chinwag.notifications import install
from chinwag.notifications.sms import TwilioSender
from chinwag.notifications.smtp import SmtpSender, SmtpSettings
from chinwag.notifications.worker import Worker, WorkerSettings
from chinwag.services.context import Context
from chinwag.services.events import RecordingSink
from chinwag.storage.db import Database, open_database
from chinwag.webhooks import addresses
from tests.conftest import make_pg_database

LINK = "https://chat.example.test/c/{conversationId}?app={appId}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        for p in self.message.walk():
            if p.get_content_type() == f"text/{subtype}":
                return str(p.get_content())
        raise AssertionError(f"no text/{subtype} part")


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.server.on_rcpt is not None:
            answer = self.server.on_rcpt(address)
            if answer:
                return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.server.on_data is not None:
            answer = self.server.on_data(envelope.rcpt_tos)
            if answer:
                return answer
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.server.lock:
            self.server.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1; ``on_rcpt`` / ``on_data`` may block or answer an error."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self.lock = threading.Lock()
        self.on_rcpt: Callable[[str], str | None] | None = None
        self.on_data: Callable[[list[str]], str | None] | None = None
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.mails if address in m.rcpt_tos]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body)

    def basic_auth(self) -> tuple[str, str]:
        kind, _, value = self.headers.get("authorization", "").partition(" ")
        assert kind == "Basic"
        user, _, password = base64.b64decode(value).decode().partition(":")
        return user, password


@dataclass
class HttpRecorder:
    """Keeps every request; ``answer(request) -> status`` decides the reply (default 200)."""

    requests: list[Request] = field(default_factory=list)
    answer: Callable[[Request], int] = lambda request: 200
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> HttpRecorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                status = recorder.answer(request)
                with recorder.lock:
                    recorder.requests.append(request)
                body = b'{"sid": "SM1"}' if status < 300 else b'{"message": "no"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def received(self) -> list[Request]:
        with self.lock:
            return list(self.requests)


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def allow_private_webhooks() -> Iterator[None]:
    """``CHINWAG_WEBHOOK_ALLOW_PRIVATE=on`` for this test: receivers here live on loopback."""
    before = addresses.allow_private()
    addresses.set_allow_private(True)
    try:
        yield
    finally:
        addresses.set_allow_private(before)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def sms_server() -> Iterator[HttpRecorder]:
    recorder = HttpRecorder().start()
    try:
        yield recorder
    finally:
        recorder.stop()


@pytest.fixture
def hook_server() -> Iterator[HttpRecorder]:
    recorder = HttpRecorder().start()
    try:
        yield recorder
    finally:
        recorder.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def notif_db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chinwag.db'}"
        return
    url, drop = make_pg_database("chinwag_notif")
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def notif_db(notif_db_url: str) -> Iterator[Database]:
    database = open_database(notif_db_url)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def nctx(notif_db: Database, clock: FakeClock) -> Context:
    """A context whose writes fill the outbox."""
    return install(Context(db=notif_db, clock=clock, sink=RecordingSink()))


def make_worker(
    db: Database,
    clock: FakeClock,
    smtp: SmtpServer | None = None,
    sms: HttpRecorder | None = None,
    **settings: Any,
) -> Worker:
    email_sender = None
    if smtp is not None:
        email_sender = SmtpSender(
            SmtpSettings.from_url(smtp.url), "Chinwag <chat@example.test>", timeout=10
        )
    sms_sender = None
    if sms is not None:
        sms_sender = TwilioSender(sms.url, "AC123", "tok3n", "+15550000000", timeout=10)
    return Worker(
        db,
        clock=clock,
        email=email_sender,
        sms=sms_sender,
        settings=WorkerSettings(link_template=LINK, **settings),
    )
