"""The SMTP sender against a real aiosmtpd server: STARTTLS with AUTH, implicit TLS, refusals.

The server's certificate is made for the test with the ``openssl`` command and trusted by the
sender's TLS context, so the whole TLS handshake (hostname check included) really happens.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from chinwag.notifications.delivery import PermanentFailure, TemporaryFailure
from chinwag.notifications.smtp import SmtpSender, SmtpSettings
from tests.test_notif_support import SmtpServer, _Handler, free_port

CONTENT: dict[str, Any] = {
    "conversation": {"id": "c1", "subject": "Plans"},
    "recipient": {"id": "bob", "name": "Bob"},
    "messages": [{"id": "m1", "senderId": "al", "senderName": "Al", "text": "hi", "createdAt": 1}],
    "link": "https://chat.example.test/c1",
}


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(crt),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


def server_context(cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return ctx


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"p@ss")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_server(cert: tuple[Path, Path], request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    mode = request.param
    server = SmtpServer()
    kwargs: dict[str, Any] = {"authenticator": authenticate, "auth_required": True}
    if mode == "starttls":
        kwargs |= {"tls_context": server_context(cert), "require_starttls": True}
    else:
        # Implicit TLS: aiosmtpd does not count it as TLS for AUTH, though the socket is TLS.
        kwargs |= {
            "ssl_context": server_context(cert),
            "server_hostname": "localhost",
            "auth_require_tls": False,
            "auth_required": False,
        }
    server.controller = Controller(
        _Handler(server), hostname="127.0.0.1", port=server.port, **kwargs
    )
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


def sender(url: str, cert: tuple[Path, Path]) -> SmtpSender:
    return SmtpSender(
        SmtpSettings.from_url(url),
        "Chat <chat@example.test>",
        timeout=10,
        tls_context=ssl.create_default_context(cafile=str(cert[0])),
    )


def test_url_parsing() -> None:
    s = SmtpSettings.from_url("smtp+starttls://us%40er:p%3Ass@mail.example.com")
    assert (s.host, s.port, s.security, s.username, s.password) == (
        "mail.example.com",
        587,
        "starttls",
        "us@er",
        "p:ss",
    )
    assert SmtpSettings.from_url("smtps://m.example.com").port == 465
    assert SmtpSettings.from_url("smtp://m.example.com:2525").security == "plain"
    with pytest.raises(ValueError):
        SmtpSettings.from_url("http://m.example.com")


@pytest.mark.parametrize(
    ("tls_server", "scheme"),
    [("starttls", "smtp+starttls"), ("tls", "smtps")],
    indirect=["tls_server"],
)
def test_tls_and_auth(tls_server: SmtpServer, scheme: str, cert: tuple[Path, Path]) -> None:
    url = f"{scheme}://mailer:p%40ss@127.0.0.1:{tls_server.port}"
    handed: list[bool] = []
    sender(url, cert).send("bob@example.com", CONTENT, "eml_1", lambda: handed.append(True) or True)
    (mail,) = tls_server.mails
    assert handed == [True] and mail.rcpt_tos == ["bob@example.com"]
    assert mail.message["Message-ID"] == "<eml_1@example.test>"
    with pytest.raises(PermanentFailure):  # a wrong password will not get better
        sender(f"{scheme}://mailer:wrong@127.0.0.1:{tls_server.port}", cert).send(
            "bob@example.com", CONTENT, "eml_2", lambda: True
        )
    assert len(tls_server.mails) == 1


@pytest.mark.parametrize(("tls_server",), [("starttls",)], indirect=True)
def test_untrusted_certificate_is_not_sent_to(tls_server: SmtpServer) -> None:
    strict = SmtpSender(
        SmtpSettings.from_url(f"smtp+starttls://mailer:p%40ss@127.0.0.1:{tls_server.port}"),
        "chat@example.test",
        timeout=10,
    )
    with pytest.raises(TemporaryFailure):
        strict.send("bob@example.com", CONTENT, "eml_3", lambda: True)
    assert tls_server.mails == []


def test_unreachable_server_is_temporary() -> None:
    s = SmtpSender(SmtpSettings.from_url(f"smtp://127.0.0.1:{free_port()}"), "c@example.test")
    with pytest.raises(TemporaryFailure):
        s.send("bob@example.com", CONTENT, "eml_4", lambda: True)
