"""What the operator's dashboard and the demo page need: an app's overview, browsing its users and
conversations, and the demo's users and group (seeded through the ordinary use cases)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chinwag.errors import NotFound
from chinwag.schemas import ConversationPut, MessagesIn, UserPut, parse
from chinwag.serialize import participant_detail_json, user_json
from chinwag.services import apps, conversations, messages, participants, users
from chinwag.services.context import Context
from chinwag.services.participants import conversation_state
from chinwag.storage import conversations as conv_store
from chinwag.storage import users as user_store
from chinwag.storage.records import User

#: The demo's cast: the seeds' three users and a supervisor who watches as a guest.
DEMO_USERS = (
    {"id": "123456", "name": "Alice", "email": ["alice@example.com"], "role": "default"},
    {"id": "654321", "name": "Sebastian", "email": ["sebastian@example.com"], "role": "default"},
    {"id": "456789", "name": "Steve", "email": ["steve@example.com"], "role": "default"},
    {"id": "supervisor", "name": "Sam (supervisor)", "role": "supervisor"},
)
DEMO_CONVERSATION = "demo-steel-preserve"
DEMO_SUBJECT = "Beautiful steel preserve for rent!"
DEMO_GROUP = ["123456", "654321", "456789"]
DEMO_WELCOME = "Welcome to the demo group. Open it as a guest in another tab to watch it."


@dataclass(frozen=True)
class Overview:
    app: apps.AppWithKeys
    users: list[dict[str, Any]]
    conversations: list[dict[str, Any]]


def pick_app(ctx: Context, app_id: str | None) -> apps.AppWithKeys:
    """The app asked for, or the first one (the dashboard and demo default to it)."""
    listed = apps.list_apps(ctx)
    for a in listed:
        if app_id is None or a.app.id == app_id:
            return a
    raise NotFound(f"no app {app_id!r}" if app_id else "no app yet", code="APP_NOT_FOUND")


def overview(
    ctx: Context,
    app_id: str | None,
    limit: int = 100,
    users_after: str | None = None,
    conversations_after: str | None = None,
) -> Overview:
    app = pick_app(ctx, app_id)
    return Overview(
        app=app,
        users=[user_json(u) for u in users.list_users(ctx, app.app.id, limit, users_after)],
        conversations=conversations.list_conversations(ctx, app.app.id, limit, conversations_after),
    )


def transcript(ctx: Context, app_id: str, conversation_id: str, limit: int = 200) -> dict[str, Any]:
    """A conversation and its newest messages, oldest first (the backend's view: everything),
    with the names of the users in it (``names``: id -> name)."""
    conv = conversations.get_conversation(ctx, app_id, conversation_id)
    page = messages.history(ctx, app_id, conversation_id, limit, None)
    ids = {m["senderId"] for m in page if m["senderId"]} | set(conv["participants"])
    known = names(ctx, app_id, ids)
    return {"conversation": conv, "messages": list(reversed(page)), "names": known}


def names(ctx: Context, app_id: str, user_ids: set[str]) -> dict[str, str]:
    """The names of these users (guests who were never synced have none)."""
    with ctx.read() as tx:
        found = user_store.get_users(tx, app_id, sorted(user_ids))
    return {uid: u.name for uid, u in found.items()}


def find_users(ctx: Context, app_id: str, text: str, limit: int = 100) -> list[User]:
    with ctx.read() as tx:
        return user_store.search_users(tx, app_id, text, limit)


def find_conversations(
    ctx: Context, app_id: str, text: str, limit: int = 100
) -> list[dict[str, Any]]:
    with ctx.read() as tx:
        found = conv_store.search_conversations(tx, app_id, text, limit)
        return [conversation_state(tx, app_id, c.id) for c in found]


def memberships(ctx: Context, app_id: str, conversation_id: str) -> list[dict[str, Any]]:
    """Every membership of the conversation, current and past, with the user's name."""
    rows = participants.list_participants(ctx, app_id, conversation_id)
    known = names(ctx, app_id, {p.user_id for p in rows})
    return [{**participant_detail_json(p), "name": known.get(p.user_id)} for p in rows]


def prepare_demo(ctx: Context, app_id: str | None) -> dict[str, Any]:
    """Make sure the demo users and their group exist in the app, when the app's settings already
    let any browser do as much (identity verification off, both browser syncs allowed: a new
    app's defaults). Otherwise the demo is off for that app and says why: it never signs
    sessions or writes what an anonymous browser could not."""
    app = pick_app(ctx, app_id)
    aid, settings = app.app.id, app.app.settings
    info: dict[str, Any] = {
        "appId": aid,
        "conversationId": DEMO_CONVERSATION,
        "users": [{"id": u["id"], "name": u["name"]} for u in DEMO_USERS],
    }
    if settings.identityVerification or not (
        settings.allowUserSyncViaBrowser and settings.allowConversationSyncViaBrowser
    ):
        info["disabled"] = (
            "The demo is off for this app: it needs identity verification off and both "
            "synchronizations via the browser allowed (dashboard, Security settings)."
        )
        return info
    missing = [u for u in DEMO_USERS if not _user_exists(ctx, aid, str(u["id"]))]
    if missing:
        users.put_users(
            ctx,
            aid,
            {
                str(u["id"]): parse(UserPut, {k: v for k, v in u.items() if k != "id"})
                for u in missing
            },
        )
    try:
        conversations.get_conversation(ctx, aid, DEMO_CONVERSATION)
    except NotFound:
        conversations.put_conversation(
            ctx,
            aid,
            DEMO_CONVERSATION,
            parse(ConversationPut, {"subject": DEMO_SUBJECT, "participants": DEMO_GROUP}),
        )
        messages.send_messages(
            ctx,
            aid,
            DEMO_CONVERSATION,
            parse(MessagesIn, [{"type": "SystemMessage", "text": DEMO_WELCOME}]),
        )
    return info


def _user_exists(ctx: Context, app_id: str, user_id: str) -> bool:
    try:
        users.get_user(ctx, app_id, user_id)
    except NotFound:
        return False
    return True
