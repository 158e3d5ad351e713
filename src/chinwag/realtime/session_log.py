"""The log of one realtime socket: opened, authenticated as whom or refused, closed and why.

Rules kept:

- Every record (logger ``chinwag.realtime.session``) carries the socket's ``sessionId``, made
  when the upgrade is accepted, and its ``appId``; the close record says the code, the reason,
  who closed (``client``, ``server``, or ``network`` for a socket that just went away) and how
  long the session lasted.
- It logs who the socket claims to be and how it proved it (``signature``, ``token``, or
  ``none`` when identity verification is off), never the signature or the token themselves, and
  never a frame's content.
"""

from __future__ import annotations

import logging
import time

from chinwag import ids
from chinwag.logs import fields
from chinwag.services.sessions import Session

log = logging.getLogger("chinwag.realtime.session")

#: The close code of a socket that went away without a close frame (RFC 6455 section 7.1.5).
CLOSE_ABNORMAL = 1006


class SessionLog:
    __slots__ = ("id", "app_id", "user_id", "proven", "started", "code", "reason", "by", "done")

    def __init__(self, app_id: str, user_id: str, client: str | None, transport: str) -> None:
        self.id = "ws_" + ids.random_token(16)
        self.app_id = app_id[:128]
        self.user_id = user_id[:128]
        self.proven = False
        self.started = time.monotonic()
        self.code: int | None = None
        self.reason = ""
        self.by = "network"
        self.done = False
        log.info(
            "socket opened",
            extra=fields(
                sessionId=self.id,
                appId=self.app_id,
                claimedUserId=self.user_id,
                client=client,
                transport=transport,
            ),
        )

    def authenticated(self, session: Session, signature: str | None, token: str | None) -> None:
        proof = "token" if token else "signature" if signature else "none"
        self.proven = True
        log.info(
            "socket authenticated",
            extra=fields(
                sessionId=self.id,
                appId=session.app_id,
                userId=session.user_id,
                proof=proof,
                identityVerification=session.settings.identityVerification,
            ),
        )

    def refused(self, code: int, error_code: str, reasons: list[str]) -> None:
        log.warning(
            "socket refused",
            extra=fields(
                sessionId=self.id,
                appId=self.app_id,
                claimedUserId=self.user_id,
                closeCode=code,
                errorCode=error_code,
                reasons=reasons,
            ),
        )
        self.closing(code, error_code, "server")

    def closing(self, code: int, reason: str, by: str) -> None:
        """The first close frame, ours or the client's, decides the code and who closed."""
        if self.code is None:
            self.code, self.reason, self.by = code, reason[:123], by

    def closed(self) -> None:
        if self.done:
            return
        self.done = True
        log.info(
            "socket closed",
            extra=fields(
                sessionId=self.id,
                appId=self.app_id,
                **{("userId" if self.proven else "claimedUserId"): self.user_id},
                closeCode=self.code if self.code is not None else CLOSE_ABNORMAL,
                closeReason=self.reason or None,
                closedBy=self.by,
                durationMs=round((time.monotonic() - self.started) * 1000, 1),
            ),
        )
