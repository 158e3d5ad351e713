"""Guest moderation rules (a Chinwag extension, BRIEF section 6): bans, mutes and invite links.

Pure: times are passed in (milliseconds since the epoch), keys are passed in.

- A **ban** keeps one user out of one conversation as a guest until it expires (or for good).
  It survives reconnects and holds on every node, because it is stored, not remembered.
- A **mute** lets the guest keep watching but makes them read-only until it expires.
- An **invite** is a signed, expiring token that admits guests to one conversation even when its
  guest policy is ``None``. Revoking the invite (a stored fact) stops new joins with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from enum import StrEnum

from chinwag.domain.access import GuestAccess, View
from chinwag.errors import Forbidden


class RestrictionKind(StrEnum):
    BAN = "ban"
    MUTE = "mute"


@dataclass(frozen=True)
class Restriction:
    kind: RestrictionKind
    until: int | None  # None: until lifted

    def active(self, now: int) -> bool:
        return self.until is None or now < self.until


def apply_restrictions(view: View, restrictions: list[Restriction], now: int) -> View:
    """Narrow a guest's view by the restrictions on them; a ban refuses entry outright.

    Only guests are restricted this way: a participant's rights come from their membership.
    """
    if view.kind != "guest":
        return view
    active = [r for r in restrictions if r.active(now)]
    for r in active:
        if r.kind is RestrictionKind.BAN:
            when = "for good" if r.until is None else f"until {r.until}"
            raise Forbidden(
                f"this user is banned from this conversation {when}", code="GUEST_BANNED"
            )
    if any(r.kind is RestrictionKind.MUTE for r in active):
        return replace(view, can_write=False)
    return view


@dataclass(frozen=True)
class InviteClaims:
    app_id: str
    conversation_id: str
    invite_id: str
    access: GuestAccess
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, payload: str) -> str:
    return hmac.new(key.encode(), b"chinwag-invite." + payload.encode(), hashlib.sha256).hexdigest()


def sign_invite(key: str, claims: InviteClaims) -> str:
    body = {
        "a": claims.app_id,
        "c": claims.conversation_id,
        "i": claims.invite_id,
        "g": claims.access.value,
        "x": claims.expires_at,
    }
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_mac(key, payload)}"


def read_invite(
    keys: list[str], token: str, app_id: str, conversation_id: str, now: int
) -> InviteClaims:
    """Check an invite token's signature, app, conversation and expiry; return its claims.

    Whether the invite was revoked is a stored fact the caller checks next.
    """
    refused = Forbidden("the invite link is not valid", code="INVITE_INVALID")
    payload, _, mac = token.partition(".")
    if not payload or not mac or not any(hmac.compare_digest(mac, _mac(k, payload)) for k in keys):
        raise refused
    try:
        body = json.loads(_unb64(payload))
        claims = InviteClaims(
            app_id=str(body["a"]),
            conversation_id=str(body["c"]),
            invite_id=str(body["i"]),
            access=GuestAccess(body["g"]),
            expires_at=int(body["x"]),
        )
    except (ValueError, KeyError, TypeError):
        raise refused from None
    if claims.app_id != app_id or claims.conversation_id != conversation_id:
        raise Forbidden("the invite link is for another conversation", code="INVITE_INVALID")
    if now >= claims.expires_at:
        raise Forbidden("the invite link has expired", code="INVITE_EXPIRED")
    return claims


def invite_id_of(token: str) -> str | None:
    """The invite id a token names, unverified (for a token :func:`read_invite` accepted
    earlier); None if it names none."""
    try:
        body = json.loads(_unb64(token.partition(".")[0]))
        return str(body["i"])
    except (ValueError, KeyError, TypeError):
        return None


def invited_policy(policy: GuestAccess, invite: InviteClaims | None) -> GuestAccess:
    """An invite opens a conversation to guests at the invite's access, whatever its policy."""
    if invite is None:
        return policy
    return invite.access
