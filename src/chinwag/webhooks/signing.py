"""Webhook signatures: hex HMAC-SHA256 of ``timestamp + "." + raw body``, keyed by the secret key.

Chinwag sends the signature twice: ``X-Chinwag-Signature`` (lowercase hex) and, for receivers
written for the hosted product, ``X-TalkJS-Signature`` (uppercase hex), each with its timestamp
header (milliseconds since the Unix epoch, as a decimal string).
"""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    """Constant-time check; either letter case is accepted."""
    return hmac.compare_digest(signature(secret, timestamp, body), given.lower())


def headers(secret: str, timestamp: str, body: bytes, event_id: str) -> dict[str, str]:
    sig = signature(secret, timestamp, body)
    return {
        "Content-Type": "application/json",
        "X-Chinwag-Timestamp": timestamp,
        "X-Chinwag-Signature": sig,
        "X-Chinwag-Event-Id": event_id,
        "X-TalkJS-Timestamp": timestamp,
        "X-TalkJS-Signature": sig.upper(),
    }
