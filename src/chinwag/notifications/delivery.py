"""What a channel (email, SMS) must do, and how it reports failure.

A :class:`Sender` gets the recipient, the rendered content and a ``handoff`` callback. It calls
``handoff()`` right before the point of no return (SMTP ``DATA``, the provider's POST); that
records in the outbox that the delivery is in flight, so that a worker killed after this point
never sends it again. ``handoff()`` returns False if this worker lost its lease; the sender
then stops without sending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class DeliveryError(Exception):
    """The delivery did not succeed; ``status`` is the provider's code, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TemporaryFailure(DeliveryError):
    """Try again later (connection refused, 4xx SMTP reply, HTTP 429 or 5xx)."""


class PermanentFailure(DeliveryError):
    """Trying again will not help (address refused, HTTP 4xx, bad credentials)."""


class UncertainDelivery(DeliveryError):
    """Handed over, but the answer was lost: it may have arrived. Never retried."""


class LeaseLost(Exception):
    """Another worker took this delivery over; stop without sending."""


Handoff = Callable[[], bool]


class Sender(Protocol):
    channel: str

    def send(
        self, to: str, content: dict[str, Any], delivery_id: str, handoff: Handoff
    ) -> None: ...
