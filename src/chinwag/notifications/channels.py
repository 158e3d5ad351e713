"""Use cases: an app's notification channel switches, app-wide and per user role."""

from __future__ import annotations

from chinwag.domain.notify import Channels
from chinwag.services.context import Context
from chinwag.storage import notification_settings as store


def get_channels(ctx: Context, app_id: str) -> Channels:
    with ctx.read() as tx:
        return store.get(tx, app_id)


def set_channels(
    ctx: Context,
    app_id: str,
    email: bool,
    sms: bool,
    roles: dict[str, tuple[bool | None, bool | None]],
) -> Channels:
    """Replace the switches. They apply to batches evaluated from now on."""
    channels = Channels(
        email=email,
        sms=sms,
        roles=tuple((name, e, s) for name, (e, s) in sorted(roles.items())),
    )
    with ctx.write() as unit:
        store.put(unit.tx, app_id, channels, unit.now)
    return channels
