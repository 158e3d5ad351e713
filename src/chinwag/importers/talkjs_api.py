"""A reader of the hosted product's REST API: the listings an import needs, politely.

Rules kept, stated first:

- **Read only.** Only ``GET`` requests are made; the source app is never changed.
- **Polite under rate limits.** A ``429`` waits what ``Retry-After`` says (seconds, or an HTTP
  date; :data:`DEFAULT_WAIT` when absent) and tries again, as often as the server asks, up to
  :data:`MAX_RATE_LIMITED` times in a row for one request. A ``5xx`` or a dropped connection
  backs off exponentially (1, 2, 4, ... :data:`MAX_BACKOFF` seconds) up to :data:`MAX_FAILURES`
  times. Any other status is an error that names the request.
- **Paging as documented.** Listings take ``limit`` and ``startingAfter`` (the id of the last
  item of the previous page) and answer ``{"data": [...]}``; a short page is the last.
- **Time is injected.** ``sleep`` is a parameter, so tests run a 429 storm without waiting.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_API_URL = "https://api.talkjs.com"
PAGE = 100
DEFAULT_WAIT = 1.0
MAX_WAIT = 300.0
MAX_RATE_LIMITED = 1000
MAX_FAILURES = 6
MAX_BACKOFF = 30.0


class SourceError(Exception):
    """The source API answered something an import cannot go on with."""


def retry_after(value: str | None, now: float) -> float:
    """Seconds to wait for a ``Retry-After`` header value (delta-seconds or an HTTP date)."""
    if not value:
        return DEFAULT_WAIT
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return DEFAULT_WAIT
    return min(max(0.0, when - now), MAX_WAIT)


class TalkJSApi:
    """``GET``s against ``{api_url}/v1/{app_id}/...`` with the secret key."""

    def __init__(
        self,
        app_id: str,
        secret_key: str,
        api_url: str = DEFAULT_API_URL,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.app_id = app_id
        self.sleep = sleep
        self.rate_limited = 0  # 429s waited out, for the summary
        self.requests = 0
        self._http = httpx.Client(
            base_url=f"{api_url.rstrip('/')}/v1/{quote(app_id, safe='')}",
            headers={"Authorization": f"Bearer {secret_key}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        limited = failures = 0
        while True:
            self.requests += 1
            try:
                r = self._http.get(path, params=params)
            except httpx.TransportError as exc:
                failures += 1
                if failures >= MAX_FAILURES:
                    raise SourceError(f"GET {path}: {exc}") from exc
                self.sleep(min(MAX_BACKOFF, 2.0 ** (failures - 1)))
                continue
            if r.status_code == 429:
                limited += 1
                self.rate_limited += 1
                if limited >= MAX_RATE_LIMITED:
                    raise SourceError(f"GET {path}: still rate limited after {limited} tries")
                self.sleep(retry_after(r.headers.get("Retry-After"), time.time()))
                continue
            if r.status_code >= 500:
                failures += 1
                if failures >= MAX_FAILURES:
                    raise SourceError(f"GET {path}: {r.status_code} after {failures} tries")
                self.sleep(min(MAX_BACKOFF, 2.0 ** (failures - 1)))
                continue
            if r.status_code == 401:
                raise SourceError("the source rejected the app id or secret key (401)")
            if r.status_code != 200:
                raise SourceError(f"GET {path}: {r.status_code} {r.text[:200]}")
            try:
                return r.json()
            except ValueError as exc:
                raise SourceError(f"GET {path}: the answer is not JSON") from exc

    def pages(self, path: str, after: str | None = None) -> Iterator[list[dict[str, Any]]]:
        """Pages of a listing, from just after the item ``after`` (None: from the start)."""
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if after is not None:
                params["startingAfter"] = after
            body = self.get(path, params)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise SourceError(f"GET {path}: no data list in the answer")
            items = [d for d in data if isinstance(d, dict) and isinstance(d.get("id"), str)]
            if items:
                yield items
            if len(data) < PAGE or not items:
                return
            after = items[-1]["id"]

    def users(self, after: str | None = None) -> Iterator[list[dict[str, Any]]]:
        return self.pages("/users", after)

    def conversations(self, after: str | None = None) -> Iterator[list[dict[str, Any]]]:
        return self.pages("/conversations", after)

    def messages(self, conversation_id: str) -> Iterator[list[dict[str, Any]]]:
        """A conversation's messages, newest first, as the API lists them."""
        return self.pages(f"/conversations/{quote(conversation_id, safe='')}/messages")
