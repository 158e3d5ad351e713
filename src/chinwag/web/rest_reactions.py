"""REST: emoji reactions on behalf of a user (the hosted product's path)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from chinwag.services import reactions
from chinwag.web.deps import AuthedApp, Ctx, PathId

router = APIRouter(prefix="/v1/{appId}", tags=["conversations"])
PATH = "/conversations/{conversationId}/messages/{messageId}/reactions/{emoji}/{userId}"
Emoji = Annotated[str, Path(min_length=1, max_length=reactions.MAX_EMOJI)]


@router.put(PATH, summary="Add a user's emoji reaction to a message")
def add_reaction(
    ctx: Ctx,
    app: AuthedApp,
    conversationId: PathId,
    messageId: PathId,
    emoji: Emoji,
    userId: PathId,
) -> dict[str, Any]:
    reactions.react(ctx, app.id, conversationId, messageId, emoji, userId, True)
    return {}


@router.delete(PATH, summary="Remove a user's emoji reaction from a message")
def remove_reaction(
    ctx: Ctx,
    app: AuthedApp,
    conversationId: PathId,
    messageId: PathId,
    emoji: Emoji,
    userId: PathId,
) -> dict[str, Any]:
    reactions.react(ctx, app.id, conversationId, messageId, emoji, userId, False)
    return {}
