"""Who hears about a message by email or SMS, and when (pure rules).

A message starts or extends a *batch* for each recipient: one pending notification per
(conversation, user) that lists the unread messages. The batch is due after the app's
``notificationDelaySeconds`` of quiet in the conversation (every new message there pushes the
due time back). When it is due, the rules are asked again with what is true then (the user may
have read the messages, opened the conversation, lost access or changed ``notify``).

Rules, as the brief states them:

- Only members with live access (``ReadWrite`` or ``Read``) are notified; ``None`` and removed
  participants never are, and guests have no membership at all.
- ``notify`` ``true`` notifies for every message, ``"MentionsOnly"`` only for messages that
  mention the user, ``false`` never.
- The sender is never notified of their own message; system messages and guests' messages
  notify nobody.
- A user needs a usable channel: a well-formed email address or phone number. Malformed ones
  (the seeds sync placeholders such as ``"[email protected]"``) are never used.
- A user who is viewing the conversation when the batch is due is not notified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chinwag.domain.access import Membership, participant_view

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


def valid_email(address: str) -> bool:
    """A plain ``local@domain.tld`` address, nothing a mail header could be injected through."""
    return len(address) <= 254 and bool(_EMAIL.match(address)) and ".." not in address


def valid_phone(number: str) -> bool:
    """An E.164 number (``+`` and 7 to 15 digits); spaces, dashes and dots are ignored."""
    return bool(_PHONE.match(normalize_phone(number)))


def normalize_phone(number: str) -> str:
    return re.sub(r"[\s().-]", "", number)


def email_channels(emails: Iterable[str] | None) -> list[str]:
    """The addresses that may be mailed, in order, without duplicates."""
    return list(dict.fromkeys(e.strip() for e in emails or () if valid_email(e.strip())))


def sms_channels(phones: Iterable[str] | None) -> list[str]:
    return list(dict.fromkeys(normalize_phone(p) for p in phones or () if valid_phone(p)))


def mentions(text: str, user_id: str) -> bool:
    """Whether a message text mentions the user: ``<@userId>`` (the SDK's mention markup)."""
    return f"<@{user_id}>" in text


@dataclass(frozen=True)
class Candidate:
    """One member of a conversation as the notification rules see them."""

    user_id: str
    membership: Membership
    notify: bool | str
    has_channel: bool


@dataclass(frozen=True)
class Incoming:
    """A newly stored message as the notification rules see it."""

    type: str  # "UserMessage" | "SystemMessage"
    sender_id: str | None
    text: str
    by_guest: bool


def wants(notify: bool | str, mentioned: bool) -> bool:
    if notify is True:
        return True
    if notify == "MentionsOnly":
        return mentioned
    return False


def may_be_notified(c: Candidate) -> bool:
    """A live member (``ReadWrite`` or ``Read``) with a usable email address or phone number."""
    return participant_view(c.membership).live and c.has_channel


def may_notify(message: Incoming) -> bool:
    """Only users' messages notify; system messages and guests' messages never do."""
    return message.type == "UserMessage" and not message.by_guest


def recipients(message: Incoming, candidates: Sequence[Candidate]) -> list[str]:
    """The users whose batch this message joins."""
    if not may_notify(message):
        return []
    return [
        c.user_id
        for c in candidates
        if c.user_id != message.sender_id
        and may_be_notified(c)
        and wants(c.notify, mentions(message.text, c.user_id))
    ]


@dataclass(frozen=True)
class Pending:
    """A message listed in a batch, as it is when the batch is due."""

    position: int
    sender_id: str | None
    text: str
    deleted: bool


def still_unread(
    c: Candidate,
    read_position: int,
    listed: Sequence[Pending],
    viewing: bool,
) -> list[Pending]:
    """The batch's messages to send when it is due; empty means send nothing.

    Messages the user has read since, deleted ones, ones beyond what they may see now, and
    (for ``"MentionsOnly"``) ones that no longer mention them drop out.
    """
    if viewing or not may_be_notified(c):
        return []
    view = participant_view(c.membership)
    return [
        m
        for m in listed
        if not m.deleted
        and m.position > read_position
        and view.sees(m.position)
        and m.sender_id != c.user_id
        and wants(c.notify, mentions(m.text, c.user_id))
    ]


def backoff_ms(attempts: int, base_ms: int = 10_000, cap_ms: int = 3_600_000) -> int:
    """Wait before retry number ``attempts`` (1-based): base, 2x, 4x ... up to the cap."""
    return int(min(cap_ms, base_ms * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Channels:
    """Which channels an app uses: app-wide switches, overridden per user role.

    ``roles`` maps a role name (``"default"`` for users without one) to ``{"email"?, "sms"?}``;
    a switch a role does not name falls back to the app-wide one.
    """

    email: bool = True
    sms: bool = True
    roles: tuple[tuple[str, bool | None, bool | None], ...] = ()

    def for_role(self, role: str | None) -> tuple[bool, bool]:
        for name, email, sms in self.roles:
            if name == (role or "default"):
                return (self.email if email is None else email, self.sms if sms is None else sms)
        return self.email, self.sms

    def to_json(self) -> dict[str, object]:
        roles: dict[str, dict[str, bool]] = {}
        for name, email, sms in self.roles:
            entry = roles.setdefault(name, {})
            if email is not None:
                entry["email"] = email
            if sms is not None:
                entry["sms"] = sms
        return {"email": self.email, "sms": self.sms, "roles": roles}

    @classmethod
    def from_json(cls, data: dict[str, object] | None) -> Channels:
        if not data:
            return cls()
        roles = data.get("roles") or {}
        assert isinstance(roles, dict)
        return cls(
            email=bool(data.get("email", True)),
            sms=bool(data.get("sms", True)),
            roles=tuple(
                (str(name), sw.get("email"), sw.get("sms")) for name, sw in sorted(roles.items())
            ),
        )


def usable_channels(
    channels: Channels, role: str | None, emails: Iterable[str] | None, phones: Iterable[str] | None
) -> tuple[list[str], list[str]]:
    """The addresses and numbers to notify a user with this role at."""
    email_on, sms_on = channels.for_role(role)
    return (email_channels(emails) if email_on else [], sms_channels(phones) if sms_on else [])
