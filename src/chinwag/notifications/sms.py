"""SMS through a Twilio-compatible HTTP API.

``POST {base}/2010-04-01/Accounts/{account}/Messages.json`` with form fields ``To``, ``From`` and
``Body`` and basic auth ``account:token``; a 2xx answer means the provider accepted it.
"""

from __future__ import annotations

from typing import Any

import httpx

from chinwag.notifications import render
from chinwag.notifications.delivery import (
    Handoff,
    LeaseLost,
    PermanentFailure,
    TemporaryFailure,
    UncertainDelivery,
)


class TwilioSender:
    channel = "sms"

    def __init__(
        self, base_url: str, account: str, token: str, sender: str, timeout: float = 10.0
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account}/Messages.json"
        self.auth = (account, token)
        self.sender = sender
        self.timeout = timeout

    def send(self, to: str, content: dict[str, Any], delivery_id: str, handoff: Handoff) -> None:
        form = {"To": to, "From": self.sender, "Body": render.sms_body(content)}
        if not handoff():
            raise LeaseLost(delivery_id)
        try:
            response = httpx.post(self.url, data=form, auth=self.auth, timeout=self.timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TemporaryFailure(f"SMS provider unreachable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise UncertainDelivery(f"SMS provider did not answer: {exc}") from exc
        if response.is_success:
            return
        status = response.status_code
        message = f"SMS provider answered {status}: {response.text[:300]}"
        if status == 429 or status >= 500:
            raise TemporaryFailure(message, status)
        raise PermanentFailure(message, status)
