"""Whether a user is looking at a conversation right now.

The notification worker asks this when a batch is due: a user who is viewing the conversation
sees the messages already and is not notified. The realtime layer knows who is viewing what
(its WebSocket hub) and provides the real implementation; without it nobody counts as viewing,
and the read position alone decides (the UI marks messages read while they are shown).
"""

from __future__ import annotations

from typing import Protocol


class Presence(Protocol):
    def is_viewing(self, app_id: str, user_id: str, conversation_id: str) -> bool:
        """True if the user has this conversation open and in view now."""
        ...


class NobodyViewing:
    """The default: no realtime information, so nobody is viewing."""

    def is_viewing(self, app_id: str, user_id: str, conversation_id: str) -> bool:
        return False
