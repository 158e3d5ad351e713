"""Posting one webhook over HTTP, to a checked address only.

Rules kept:

- The receiver's name is resolved once per connection, every answer is checked
  (:func:`chinwag.webhooks.addresses.is_refused`) before any connection is made, and the socket
  connects to one of the addresses just checked: a second lookup that answers differently (DNS
  rebinding) never happens. One refused answer refuses the delivery.
- Redirects are not followed; environment proxies are not used (they would connect for us).
- Failures say only what the delivery log may show: :class:`Refused` (where it goes is not
  allowed) or :class:`ConnectionFailed` (no answer: refused, reset, timed out, bad TLS, DNS),
  never which, so the log cannot be used to scan ports.
- The answer's body is never read: the status is all that counts.
- One deadline for the whole attempt (:data:`TIMEOUT`): name lookup aside, connecting, TLS,
  sending and reading the answer's head together take at most that long, however slowly a
  receiver trickles bytes, so a worker slot is never held longer.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any, Protocol

import httpcore
import httpx

from chinwag.webhooks import addresses

#: Seconds a receiver has to answer, as in the hosted product: one deadline per attempt.
TIMEOUT = 5.0


class Refused(Exception):
    """The receiver's address is loopback, private, link-local, multicast or unspecified."""


class ConnectionFailed(Exception):
    """No HTTP answer came back (the reason is deliberately not kept)."""


class WebhookPoster(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST the body; return the HTTP status. Raises :class:`Refused` or
        :class:`ConnectionFailed`."""
        ...


class _Deadline:
    def __init__(self, at: float | None) -> None:
        self.at = at

    def bound(self, timeout: float | None) -> float | None:
        """``timeout``, cut to what is left; raises once nothing is."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the attempt's deadline passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read and write ends by the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self.inner = inner
        self.deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.deadline.bound(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.deadline.bound(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self.inner.start_tls(ssl_context, server_hostname, self.deadline.bound(timeout))
        return _DeadlineStream(stream, self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class CheckedBackend(httpcore.NetworkBackend):
    """httpcore's sockets, opened only to addresses the policy allows, and ending by
    ``deadline`` (a :func:`time.monotonic` time) when one is given."""

    def __init__(
        self,
        allow_private: bool,
        inner: httpcore.NetworkBackend | None = None,
        deadline: float | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.inner = inner or httpcore.SyncBackend()
        self.deadline = _Deadline(deadline)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise ConnectionFailed from exc
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self.allow_private:
            for text in found:
                address = addresses.parse_numeric(text)
                if address is None or addresses.is_refused(address):
                    raise Refused
        for text in found:  # numeric now: create_connection does no second lookup
            try:
                stream = self.inner.connect_tcp(
                    text, port, self.deadline.bound(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue
            return _DeadlineStream(stream, self.deadline)
        raise ConnectionFailed

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise Refused

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class HttpPoster:
    def __init__(self, timeout: float = TIMEOUT, allow_private: bool = False) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self._ssl: ssl.SSLContext = httpx.create_ssl_context(trust_env=False)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        sent = [*headers.items(), ("User-Agent", "Chinwag-Webhooks/1")]
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout)
        try:
            parsed = httpx.URL(url)
            target = httpcore.URL(
                scheme=parsed.raw_scheme,
                host=parsed.raw_host,
                port=parsed.port,
                target=parsed.raw_path,
            )
            backend = CheckedBackend(
                self.allow_private, deadline=time.monotonic() + self.timeout
            )
            pool = httpcore.ConnectionPool(ssl_context=self._ssl, network_backend=backend)
            with (
                pool,
                pool.stream(
                    "POST", target, headers=sent, content=body, extensions={"timeout": timeouts}
                ) as response,
            ):
                return response.status
        except (Refused, ConnectionFailed):
            raise
        except (httpcore.NetworkError, httpcore.TimeoutException, httpcore.ProtocolError) as exc:
            raise ConnectionFailed from exc
        except (httpcore.UnsupportedProtocol, httpx.InvalidURL, OSError, ValueError) as exc:
            raise ConnectionFailed from exc
