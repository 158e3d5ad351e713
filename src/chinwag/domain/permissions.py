"""Who may change what from a browser session: one pure rule for every membership, conversation
and user field a browser can reach (the socket, the SDK, ``POST /batch`` under a user session).

The threat model (docs/security.md): the browser is hostile. A session proves who it is (with
identity verification on) and nothing else; every other thing it sends is a claim. The backend
(REST with a secret key or app token) and the dashboard may do anything, and these rules never
apply to them. For browser sessions they are, in the order they are checked:

- **Settings first.** With conversation sync disallowed, a session may only change its own
  ``notify`` (as in the hosted product).
- **Nobody raises their own rights.** A session may lower its own access, leave, or change its
  own ``notify``; it never raises its own access, rejoins after a removal or ``None``, or joins an
  existing conversation it was not admitted to. It may join by itself only a conversation it
  created from the browser, or the one-on-one conversation (``Talk.oneOnOneId``) of itself and a
  user who is in it.
- **Others are managed by ReadWrite participants** (and by the creator of a conversation before
  they join it): they add users and change others' access and ``notify``. Removing someone, or
  setting their access to ``None``, is for moderators (``moderatorRoles``) only.
- **Nobody undoes a decision from above.** Each membership field remembers who set it last
  (:class:`Authority`): a session never overrides what the backend or the dashboard decided, and
  a plain participant never overrides a moderator.
- **Bans and one-on-ones hold.** A user banned or muted as a guest here is not added as a
  participant from the browser; the one-on-one conversation of two users never gets a third.

Pure: no I/O; the services gather the facts and call :func:`decide` for each field that changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from chinwag.domain.access import Access, BrowserSync, GuestAccess
from chinwag.errors import Forbidden


class Authority(IntEnum):
    """Who set a field last, and how much a change from each may override."""

    BROWSER = 1  # a browser session acting as its own user
    MODERATOR = 2  # a browser session whose user moderates the conversation (moderatorRoles)
    BACKEND = 3  # REST with a secret key or app token, the dashboard

    @property
    def label(self) -> str:
        return {1: "a browser session", 2: "a moderator", 3: "the backend"}[self.value]

    @classmethod
    def of(cls, text: str | None) -> Authority | None:
        return None if text is None else cls[text.upper()]

    def stored(self) -> str:
        return self.name.lower()


class Standing(StrEnum):
    """The acting user's own place in the conversation."""

    MANAGER = "manager"  # a live ReadWrite participant
    CREATOR = "creator"  # created the conversation from the browser, has no membership yet
    READER = "reader"  # a live Read participant
    FORMER = "former"  # access None, or removed
    OUTSIDER = "outsider"  # no membership (a guest, or nobody)


@dataclass(frozen=True)
class Actor:
    """A browser session acting in one conversation."""

    user_id: str
    authority: Authority  # BROWSER or MODERATOR, never BACKEND
    standing: Standing


class Field(StrEnum):
    MEMBERSHIP = "membership"  # values: None (no row), False (removed), True (a member)
    ACCESS = "access"  # values: None (no row), Access
    NOTIFY = "notify"  # values: None (no row), False, "MentionsOnly", True


class Pair(StrEnum):
    """Where a user stands toward a one-on-one conversation (see :func:`pair_of`)."""

    NONE = "none"  # the conversation is not anyone's one-on-one
    INSIDE = "inside"  # the user is one of its two users
    OUTSIDE = "outside"  # it is the one-on-one of two other users


@dataclass(frozen=True)
class Change:
    """One field of one membership, from ``old`` to ``new``; ``set_by`` set ``old`` (None when
    there is no row yet)."""

    field: Field
    old: Any
    new: Any
    set_by: Authority | None = None


@dataclass(frozen=True)
class Target:
    """What the rules need to know about the user whose membership changes."""

    user_id: str
    restricted: bool = False  # banned or muted as a guest of this conversation now
    pair: Pair = Pair.NONE


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str

    def error(self) -> Forbidden:
        return Forbidden(self.reason, code=self.code)


_RANKS: dict[Field, dict[Any, int]] = {
    Field.MEMBERSHIP: {None: 0, False: 0, True: 1},
    Field.ACCESS: {None: 0, Access.NONE: 0, Access.READ: 1, Access.READ_WRITE: 2},
    Field.NOTIFY: {None: 0, False: 0, "MentionsOnly": 1, True: 2},
}


def rank(field: Field, value: Any) -> int:
    """How much a value allows: higher is more (a member over none, ReadWrite over Read)."""
    return _RANKS[field][value]


def decide(actor: Actor, target: Target, change: Change, sync: BrowserSync) -> Refusal | None:
    """None if the browser ``actor`` may make ``change`` to ``target``'s membership, else why
    not. An unchanged value is allowed for the session's own membership only (anyone else's
    would tell an outsider what it holds)."""
    own = target.user_id == actor.user_id
    if not sync.allow_conversation_sync and not (own and change.field is Field.NOTIFY):
        return Refusal(
            "SYNC_NOT_ALLOWED",
            "conversation synchronization via the browser is disallowed in this app's settings: "
            "a session may only change its own notify",
        )
    raising = rank(change.field, change.new) > rank(change.field, change.old)
    if own:
        return _own(actor, target, change, raising)
    return _other(actor, target, change)


def _own(actor: Actor, target: Target, change: Change, raising: bool) -> Refusal | None:
    if not raising:
        return None  # lowering one's own access or notify, leaving, or no change at all
    if change.field is Field.NOTIFY:
        return _above(actor, change, "notify")
    if change.old is not None:
        what = "rejoin after being removed" if change.field is Field.MEMBERSHIP else "raise"
        return Refusal(
            "CANNOT_RAISE_OWN_RIGHTS",
            f"a browser session cannot {what} its own "
            f"{'membership' if change.field is Field.MEMBERSHIP else 'access'}: "
            "ask a ReadWrite participant or the backend",
        )
    if change.field is Field.ACCESS:
        return None  # the access of a new membership: its MEMBERSHIP change decides the join
    admitted = actor.standing is Standing.CREATOR or target.pair is Pair.INSIDE
    if not admitted or target.pair is Pair.OUTSIDE:
        return Refusal(
            "NOT_ADMITTED",
            "a browser session joins an existing conversation only when a ReadWrite participant "
            "or the backend adds it (or when it created the conversation itself)",
        )
    if target.restricted:
        return _restricted(target)
    return None


def _other(actor: Actor, target: Target, change: Change) -> Refusal | None:
    if actor.standing not in (Standing.MANAGER, Standing.CREATOR):
        return Refusal(
            "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
            "only ReadWrite participants add or change other participants from the browser",
        )
    if change.old == change.new and change.old is not None:
        return None  # no change (the standing above still decided who may even ask)
    takes_away = (change.field is Field.MEMBERSHIP and change.old is True and not change.new) or (
        change.field is Field.ACCESS and change.new is Access.NONE and change.old is not None
    )
    if takes_away and actor.authority < Authority.MODERATOR:
        return Refusal(
            "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
            "only the backend and moderators remove other participants or withdraw their access",
        )
    refused = _above(actor, change, change.field.value)
    if refused is not None:
        return refused
    joining = change.field is Field.MEMBERSHIP and change.new is True and change.old is not True
    if joining and target.restricted:
        return _restricted(target)
    if joining and target.pair is Pair.OUTSIDE:
        return Refusal(
            "NOT_ADMITTED",
            "this is the one-on-one conversation of two other users: nobody else joins it",
        )
    return None


def _above(actor: Actor, change: Change, what: str) -> Refusal | None:
    if change.set_by is not None and change.set_by > actor.authority:
        return Refusal(
            "DECIDED_BY_BACKEND",
            f"this participant's {what} was set by {change.set_by.label}: "
            f"{actor.authority.label} cannot change it",
        )
    return None


def _restricted(target: Target) -> Refusal:
    return Refusal(
        "USER_RESTRICTED",
        f"{target.user_id!r} is banned or muted as a guest of this conversation: a moderator or "
        "the backend must lift that first",
    )


def check(actor: Actor, target: Target, changes: list[Change], sync: BrowserSync) -> None:
    """Raise the first refusal among ``changes`` (all of them are checked before any is made)."""
    for change in changes:
        refused = decide(actor, target, change, sync)
        if refused is not None:
            raise refused.error()


# -- conversations --------------------------------------------------------------------------


def decide_attributes(
    actor: Actor, fields: set[str], exists: bool, guest_access_set_by: Authority | None
) -> Refusal | None:
    """Whether a browser session may set these conversation attributes (subject, photoUrl,
    custom, welcomeMessages, guestAccess). Creating a conversation is allowed (the settings
    permitting); an existing one is changed by its ReadWrite participants (or its creator
    before they join), and a guest policy set by the backend stays."""
    if not exists or not fields:
        return None
    if actor.standing not in (Standing.MANAGER, Standing.CREATOR):
        return Refusal(
            "UNAUTHORIZED_TO_EDIT",
            "only ReadWrite participants change a conversation's attributes from the browser",
        )
    if (
        "guestAccess" in fields
        and guest_access_set_by is not None
        and guest_access_set_by > actor.authority
    ):
        return Refusal(
            "DECIDED_BY_BACKEND",
            f"this conversation's guestAccess was set by {guest_access_set_by.label}: "
            f"{actor.authority.label} cannot change it",
        )
    return None


def default_guest_access(lifetime_participants: int) -> GuestAccess:
    """The guest policy of a conversation whose ``guestAccess`` was never set explicitly.

    A conversation with exactly two participants over its lifetime is a one-on-one: closed to
    guests, so nobody watches two other users' private chat because its id can be computed
    (``Talk.oneOnOneId``) or guessed. Any other conversation admits guests, as in the hosted
    product (group chats, super group chats with only guests)."""
    return GuestAccess.NONE if lifetime_participants == 2 else GuestAccess.READ_WRITE


_ONE_ON_ONE_ID = re.compile(r"^[0-9a-f]{20}$")


def one_on_one_id(a: str, b: str) -> str:
    """``Talk.oneOnOneId``: the first 20 hex digits of SHA-1 of the JSON of the sorted pair."""
    pair = json.dumps(sorted([a, b]), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(pair.encode()).hexdigest()[:20]


def pair_of(conversation_id: str, newcomer: str, members: list[str]) -> Pair:
    """Where ``newcomer`` stands toward the one-on-one conversation ``conversation_id`` (a
    ``Talk.oneOnOneId``), given everyone who has been a member of it.

    INSIDE: the id is the one-on-one of ``newcomer`` and a member, and nobody else is in it.
    OUTSIDE: the id is the one-on-one of a member and ``newcomer`` while a third user is in it,
    or of the only two members there are. NONE: the id is nobody's one-on-one here (or not a
    one-on-one id at all). Each join hashes one pair per member, never every pair.
    """
    if not _ONE_ON_ONE_ID.match(conversation_id):
        return Pair.NONE
    others = [m for m in members if m != newcomer]
    for m in others:
        if one_on_one_id(newcomer, m) == conversation_id:
            return Pair.INSIDE if len(set(others)) == 1 else Pair.OUTSIDE
    if len(others) == 2 and one_on_one_id(*others) == conversation_id:
        return Pair.OUTSIDE
    return Pair.NONE


# -- users ----------------------------------------------------------------------------------

#: Fields a browser session never sets on any user: the role decides moderator status and
#: per-role notification channels, which are the backend's to give.
BACKEND_ONLY_USER_FIELDS = frozenset({"role", "configuration"})


def user_fields(actor_id: str, target_id: str, exists: bool, given: set[str]) -> set[str]:
    """Which of the ``given`` user fields a browser session may write; the rest are ignored
    (and the reply says which). A user who does not exist yet may be created with any field but
    the role; an existing user's record is changed only by that user's own session."""
    if exists and target_id != actor_id:
        return set()
    return given - BACKEND_ONLY_USER_FIELDS
