"""Who may learn about a conversation's guests (realtime/roster.py keeps the live roster).

- The backend (REST) and dashboard supervisors get the list: user ids and since when.
- A participant (``Read`` or ``ReadWrite``) gets the count only, never the ids.
- A guest, a former participant or an outsider gets nothing: a guest learns nothing about other
  guests (BRIEF section 8), and the count would tell a guest how many others watch.
"""

from __future__ import annotations

from chinwag.errors import Forbidden
from chinwag.services.context import Context
from chinwag.services.sessions import Session, load_app, load_conversation, view_in


def check_conversation(ctx: Context, app_id: str, conversation_id: str) -> None:
    """CONVERSATION_NOT_FOUND unless the conversation exists (for the backend and supervisors)."""
    with ctx.read() as tx:
        load_conversation(tx, app_id, conversation_id)


def check_may_count(ctx: Context, session: Session, conversation_id: str) -> None:
    """A session may read the guest count only as a live participant of the conversation."""
    with ctx.read() as tx:
        app = load_app(tx, session.app_id)
        conv = load_conversation(tx, session.app_id, conversation_id)
        view = view_in(tx, app, conv, session.user_id, None, ctx.clock.now_ms())
    if view.kind != "participant" or not view.live:
        raise Forbidden("only the conversation's participants see its guest count")
