"""Checking a webhook's signature (docs/webhooks.md): ``X-Chinwag-Signature`` is the lowercase
hex HMAC-SHA256 of ``timestamp + "." + raw body`` keyed by the app's secret key."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

#: How old (or how far in the future) a delivery's timestamp may be, in seconds.
TOLERANCE = 300


def verify_webhook(
    secret: str,
    timestamp: str,
    raw_body: bytes,
    signature: str,
    tolerance: float = TOLERANCE,
    now: Callable[[], float] = time.time,
) -> bool:
    """True when the signature is the app's and the timestamp is recent (a replay is refused)."""
    if not timestamp.isdigit() or abs(now() - int(timestamp) / 1000) > tolerance:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), signature.strip().lower())
