"""REST: conversations, participants, messages, read state."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from chinwag import ids
from chinwag.domain import limits as L
from chinwag.schemas import (
    ConversationPut,
    MessageEdit,
    MessagesIn,
    ParticipantPatch,
    ParticipantPut,
)
from chinwag.serialize import participant_detail_json
from chinwag.services import conversations, messages, participants
from chinwag.web.deps import AuthedApp, Ctx, Cursor, PathId

router = APIRouter(prefix="/v1/{appId}", tags=["conversations"])
Limit = Annotated[int, Query(ge=1, le=L.MAX_PAGE)]


@router.put("/conversations/{conversationId}", summary="Create or merge a conversation")
def put_conversation(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, body: ConversationPut
) -> dict[str, Any]:
    conversations.put_conversation(ctx, app.id, conversationId, body)
    return {}


@router.get("/conversations/{conversationId}", summary="Get a conversation")
def get_conversation(ctx: Ctx, app: AuthedApp, conversationId: PathId) -> dict[str, Any]:
    return conversations.get_conversation(ctx, app.id, conversationId)


@router.get("/conversations", summary="List conversations by id")
def list_conversations(
    ctx: Ctx, app: AuthedApp, limit: Limit = L.DEFAULT_PAGE, startingAfter: Cursor = None
) -> dict[str, Any]:
    return {"data": conversations.list_conversations(ctx, app.id, limit, startingAfter)}


@router.delete("/conversations/{conversationId}", summary="Delete a conversation and its messages")
def delete_conversation(ctx: Ctx, app: AuthedApp, conversationId: PathId) -> dict[str, Any]:
    conversations.delete_conversation(ctx, app.id, conversationId)
    return {}


@router.get("/conversationIds/random", summary="A fresh unguessable conversation id (128 bits)")
def random_conversation_id(app: AuthedApp) -> dict[str, Any]:
    return {"id": ids.new_conversation_id()}


@router.put(
    "/conversations/{conversationId}/participants/{userId}",
    summary="Join: add or re-add a participant (access ReadWrite or Read)",
)
def put_participant(
    ctx: Ctx,
    app: AuthedApp,
    conversationId: PathId,
    userId: PathId,
    body: ParticipantPut | None = None,
) -> dict[str, Any]:
    participants.put_participant(ctx, app.id, conversationId, userId, body or ParticipantPut())
    return {}


@router.patch(
    "/conversations/{conversationId}/participants/{userId}",
    summary="Change a participant's access (None included) or notify",
)
def patch_participant(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, userId: PathId, body: ParticipantPatch
) -> dict[str, Any]:
    participants.patch_participant(ctx, app.id, conversationId, userId, body)
    return {}


@router.delete(
    "/conversations/{conversationId}/participants/{userId}", summary="Remove a participant"
)
def delete_participant(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, userId: PathId
) -> dict[str, Any]:
    participants.delete_participant(ctx, app.id, conversationId, userId)
    return {}


@router.get(
    "/conversations/{conversationId}/participants",
    summary="Every membership, current and past (an extension)",
)
def list_participants(ctx: Ctx, app: AuthedApp, conversationId: PathId) -> dict[str, Any]:
    return {
        "data": [
            participant_detail_json(p)
            for p in participants.list_participants(ctx, app.id, conversationId)
        ]
    }


@router.post(
    "/conversations/{conversationId}/messages",
    summary="Send up to 10 UserMessages and SystemMessages, all or none",
)
def post_messages(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, body: MessagesIn
) -> list[dict[str, Any]]:
    stored = messages.send_messages(ctx, app.id, conversationId, body)
    return [{"id": m.id} for m in stored]


@router.get("/conversations/{conversationId}/messages", summary="Messages, newest first")
def list_messages(
    ctx: Ctx,
    app: AuthedApp,
    conversationId: PathId,
    limit: Limit = L.DEFAULT_PAGE,
    startingAfter: Cursor = None,
) -> dict[str, Any]:
    return {"data": messages.history(ctx, app.id, conversationId, limit, startingAfter)}


@router.get("/conversations/{conversationId}/messages/{messageId}", summary="Get a message")
def get_message(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, messageId: PathId
) -> dict[str, Any]:
    return messages.get_message(ctx, app.id, conversationId, messageId)


@router.put("/conversations/{conversationId}/messages/{messageId}", summary="Edit a message")
def edit_message(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, messageId: PathId, body: MessageEdit
) -> dict[str, Any]:
    return messages.edit_message(ctx, app.id, conversationId, messageId, body)


@router.patch(
    "/conversations/{conversationId}/messages/{messageId}", summary="Edit a message (same as PUT)"
)
def patch_message(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, messageId: PathId, body: MessageEdit
) -> dict[str, Any]:
    return messages.edit_message(ctx, app.id, conversationId, messageId, body)


@router.delete("/conversations/{conversationId}/messages/{messageId}", summary="Delete a message")
def delete_message(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, messageId: PathId
) -> dict[str, Any]:
    messages.delete_message(ctx, app.id, conversationId, messageId)
    return {}


@router.post(
    "/conversations/{conversationId}/readBy/{userId}",
    summary="Mark the conversation read for a participant",
)
def mark_read(ctx: Ctx, app: AuthedApp, conversationId: PathId, userId: PathId) -> dict[str, Any]:
    return {"readUntil": messages.mark_read(ctx, app.id, conversationId, userId)}
