"""Posting one webhook over HTTP."""

from __future__ import annotations

from typing import Protocol

import httpx

#: Seconds a receiver has to answer, as in the hosted product.
TIMEOUT = 5.0


class WebhookPoster(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST the body; return the HTTP status. Raises OSError-like errors as ``httpx`` does."""
        ...


class HttpPoster:
    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        headers = {**headers, "User-Agent": "Chinwag-Webhooks/1"}
        response = httpx.post(
            url, content=body, headers=headers, timeout=self.timeout, follow_redirects=False
        )
        return response.status_code
