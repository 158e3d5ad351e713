"""Email over SMTP (smtplib): ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URLs."""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from chinwag.notifications import render
from chinwag.notifications.delivery import (
    Handoff,
    LeaseLost,
    PermanentFailure,
    TemporaryFailure,
    UncertainDelivery,
)

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "plain" | "starttls" | "tls"
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parsed = urlparse(url)
        if parsed.scheme not in SCHEMES or not parsed.hostname:
            raise ValueError(
                "SMTP URL must look like smtp://[user:pass@]host[:port] "
                "(or smtp+starttls://, smtps://)"
            )
        security = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}[parsed.scheme]
        return cls(
            host=parsed.hostname,
            port=parsed.port or SCHEMES[parsed.scheme],
            security=security,
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
        )


class SmtpSender:
    channel = "email"

    def __init__(
        self,
        settings: SmtpSettings,
        sender: str,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.timeout = timeout
        self.tls_context = tls_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=self.tls_context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        smtp.ehlo()
        if s.security == "starttls":
            smtp.starttls(context=self.tls_context)
            smtp.ehlo()
        if s.username:
            smtp.login(s.username, s.password or "")
        return smtp

    def send(self, to: str, content: dict[str, Any], delivery_id: str, handoff: Handoff) -> None:
        msg = render.email_message(content, self.sender, to, delivery_id)
        try:
            smtp = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(f"SMTP login refused: {exc.smtp_code}", exc.smtp_code) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"SMTP connection failed: {exc}") from exc
        try:
            try:
                code, reply = smtp.mail(self.sender)
                if code != 250:
                    raise _reply_error("MAIL FROM", code, reply)
                code, reply = smtp.rcpt(to)
                if code not in (250, 251):
                    raise _reply_error("RCPT TO", code, reply)
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                raise TemporaryFailure(f"SMTP connection lost: {exc}") from exc
            if not handoff():
                raise LeaseLost(delivery_id)
            try:
                code, reply = smtp.data(msg.as_bytes(policy=email.policy.SMTP))
            except smtplib.SMTPDataError as exc:  # the DATA command itself was refused
                raise _reply_error("DATA", exc.smtp_code, exc.smtp_error) from exc
            except (OSError, smtplib.SMTPException) as exc:
                raise UncertainDelivery(f"SMTP connection lost during DATA: {exc}") from exc
            if code != 250:
                raise _reply_error("the message", code, reply)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def _reply_error(stage: str, code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    message = f"SMTP {stage} refused: {code} {text}"
    if 400 <= code < 500:
        return TemporaryFailure(message, code)
    return PermanentFailure(message, code)
