"""An app's settings and the rules on their values (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from chinwag.domain.access import BrowserSync
from chinwag.domain.limits import MAX_NOTIFICATION_DELAY, MAX_PARTICIPANT_LIMIT
from chinwag.errors import InvalidRequest


@dataclass(frozen=True)
class AppSettings:
    """Per-app settings; a new app allows both browser syncs so the seeds' samples run."""

    allowUserSyncViaBrowser: bool = True
    allowConversationSyncViaBrowser: bool = True
    identityVerification: bool = False
    participantLimit: int = 50
    notificationDelaySeconds: int = 60
    #: User roles whose holders, as participants, may moderate the conversation's guests from
    #: the browser (kick, mute, ban, lift, invites). Empty: only the backend and the dashboard.
    moderatorRoles: tuple[str, ...] = ()

    @property
    def browser_sync(self) -> BrowserSync:
        return BrowserSync(self.allowUserSyncViaBrowser, self.allowConversationSyncViaBrowser)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["moderatorRoles"] = list(self.moderatorRoles)
        return out

    def may_moderate(self, role: str | None) -> bool:
        """Whether a participant with this user role may moderate guests from the browser."""
        return role is not None and role in self.moderatorRoles

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "moderatorRoles" in known:
            known["moderatorRoles"] = tuple(known["moderatorRoles"])
        return cls(**known)

    def patched(self, changes: dict[str, Any]) -> AppSettings:
        reasons: list[str] = []
        for key, value in changes.items():
            field = self.__dataclass_fields__.get(key)
            if field is None:
                reasons.append(f"unknown setting {key!r}")
            elif field.type == "bool" and not isinstance(value, bool):
                reasons.append(f"{key} must be true or false")
            elif field.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                reasons.append(f"{key} must be an integer")
            elif key == "moderatorRoles" and not _roles_ok(value):
                reasons.append(
                    f"moderatorRoles must be a list of at most {MAX_MODERATOR_ROLES} role names "
                    f"of 1-{MAX_ROLE_LENGTH} characters"
                )
        if not reasons:
            limit = changes.get("participantLimit", self.participantLimit)
            delay = changes.get("notificationDelaySeconds", self.notificationDelaySeconds)
            if not 1 <= limit <= MAX_PARTICIPANT_LIMIT:
                reasons.append(f"participantLimit must be between 1 and {MAX_PARTICIPANT_LIMIT}")
            if not 0 <= delay <= MAX_NOTIFICATION_DELAY:
                reasons.append(
                    f"notificationDelaySeconds must be between 0 and {MAX_NOTIFICATION_DELAY}"
                )
        if reasons:
            raise InvalidRequest(*reasons)
        if "moderatorRoles" in changes:
            changes = {**changes, "moderatorRoles": tuple(dict.fromkeys(changes["moderatorRoles"]))}
        return replace(self, **changes)


MAX_MODERATOR_ROLES = 20
MAX_ROLE_LENGTH = 64


def _roles_ok(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) <= MAX_MODERATOR_ROLES
        and all(isinstance(r, str) and 1 <= len(r) <= MAX_ROLE_LENGTH for r in value)
    )
