"""The one access check: who may read what, who may write, who may watch as a guest.

Every path (REST, realtime, history, inbox, notifications, webhooks, exports) asks these
functions; none of them repeats the rules.

Positions: every conversation has a counter that grows by one for each change (a message
stored, edited or deleted, a membership changed). A message's ``position`` is the counter value
at which it was stored. A membership whose access is withdrawn (``None``) or which was removed
keeps a ``horizon``: the counter value at that moment. Its user may read messages whose position
is at most the horizon and nothing after. Giving access back clears the horizon, so the user reads
the whole history again, including what was sent meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from chinwag.errors import ChinwagError, Conflict, Forbidden


class Access(StrEnum):
    READ_WRITE = "ReadWrite"
    READ = "Read"
    NONE = "None"


class GuestAccess(StrEnum):
    """A conversation's guest policy (a Chinwag extension)."""

    READ_WRITE = "ReadWrite"
    READ = "Read"
    NONE = "None"


@dataclass(frozen=True)
class Membership:
    """A user's membership row in one conversation, as the rules see it.

    ``member`` is False once the participant was removed (REST ``DELETE``); the row stays so the
    user keeps what they could read and so the lifetime participant limit still counts them.
    """

    access: Access
    member: bool = True
    horizon: int | None = None


@dataclass(frozen=True)
class View:
    """What one user may do in one conversation right now."""

    kind: str  # "participant", "former" (None or removed), "guest", "outsider"
    can_read: bool
    horizon: int | None  # None: everything; else only positions <= horizon
    can_write: bool
    live: bool  # receives new messages as they arrive

    def sees(self, position: int) -> bool:
        return self.can_read and (self.horizon is None or position <= self.horizon)


OUTSIDER = View(kind="outsider", can_read=False, horizon=None, can_write=False, live=False)


def participant_view(m: Membership | None) -> View:
    """The view of a user through their membership (or lack of one)."""
    if m is None:
        return OUTSIDER
    if m.member and m.access is not Access.NONE:
        return View(
            kind="participant",
            can_read=True,
            horizon=None,
            can_write=m.access is Access.READ_WRITE,
            live=True,
        )
    # Withdrawn (None) or removed: frozen history up to the horizon.
    return View(kind="former", can_read=True, horizon=m.horizon, can_write=False, live=False)


def withdraw(m: Membership, position: int) -> Membership:
    """Access set to ``None`` at ``position``; an earlier horizon is kept."""
    horizon = m.horizon if _frozen(m) else position
    return replace(m, access=Access.NONE, horizon=horizon)


def remove(m: Membership, position: int) -> Membership:
    """Membership deleted at ``position``: no longer a member, history kept to the horizon."""
    horizon = m.horizon if _frozen(m) else position
    return Membership(access=Access.NONE, member=False, horizon=horizon)


def grant(m: Membership | None, access: Access, position: int) -> Membership:
    """Set access (joining, re-joining, or changing). ``None`` withdraws; others restore all."""
    if access is Access.NONE:
        base = m if m is not None else Membership(access=Access.NONE, horizon=position)
        return withdraw(base, position)
    return Membership(access=access, member=True, horizon=None)


def _frozen(m: Membership) -> bool:
    return (not m.member or m.access is Access.NONE) and m.horizon is not None


def check_can_write(view: View) -> None:
    if view.can_write:
        return
    if view.kind == "outsider":
        raise Forbidden("the sender is not a participant of this conversation")
    raise Forbidden(
        f"the user's access ({'Read' if view.live else 'None'}) does not allow writing",
        code="NOT_ALLOWED_TO_WRITE",
    )


def check_can_read(view: View) -> None:
    if not view.can_read:
        raise Forbidden("the user is not a participant of this conversation")


def check_participant_limit(lifetime_count: int, already_counted: bool, limit: int) -> None:
    """Every user who was ever a participant takes a slot; guests never do."""
    if already_counted or lifetime_count < limit:
        return
    raise Conflict(
        f"this conversation has had {lifetime_count} participants and the app's "
        f"participantLimit is {limit}",
    )


@dataclass(frozen=True)
class BrowserSync:
    allow_user_sync: bool
    allow_conversation_sync: bool


def guest_view(sync: BrowserSync, policy: GuestAccess, membership: Membership | None) -> View:
    """The view of a user selecting a conversation with ``asGuest: true``.

    A user with any membership (``None`` included) gets their participant view: ``asGuest`` has
    no effect. A removed user may watch as a guest. Guests need both browser syncs allowed and a
    guest policy other than ``None``.
    """
    if membership is not None and membership.member:
        return participant_view(membership)
    if not (sync.allow_user_sync and sync.allow_conversation_sync):
        raise Forbidden(
            "guest access needs both user and conversation synchronization via the browser "
            "allowed in the app's settings",
            code="GUEST_ACCESS_NOT_ALLOWED",
        )
    if policy is GuestAccess.NONE:
        raise Forbidden("this conversation does not admit guests", code="GUEST_ACCESS_NOT_ALLOWED")
    return View(
        kind="guest",
        can_read=True,
        horizon=None,
        can_write=policy is GuestAccess.READ_WRITE,
        live=True,
    )


def check_browser_sync(allowed: bool, what: str) -> None:
    if not allowed:
        raise Forbidden(
            f"{what} synchronization via the browser is disallowed in this app's settings",
            code="SYNC_NOT_ALLOWED",
        )


def unread_range(read_position: int, view: View, last_position: int) -> tuple[int, int]:
    """The positions ``(after, upto]`` that count as unread for a member."""
    upto = last_position if view.horizon is None else min(view.horizon, last_position)
    return read_position, upto


def read_upto(view: View, last_position: int) -> int:
    """Marking read moves the read position to what the user can see, never past the horizon."""
    return last_position if view.horizon is None else min(view.horizon, last_position)


__all__ = [
    "Access",
    "BrowserSync",
    "ChinwagError",
    "GuestAccess",
    "Membership",
    "OUTSIDER",
    "View",
    "check_browser_sync",
    "check_can_read",
    "check_can_write",
    "check_participant_limit",
    "grant",
    "guest_view",
    "participant_view",
    "read_upto",
    "remove",
    "unread_range",
    "withdraw",
]
