"""REST: importing history (``/v1/{appId}/import/...``), as the hosted product has it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from chinwag.schemas import ImportMessagesIn
from chinwag.services import imports
from chinwag.web.deps import AuthedApp, Ctx, PathId

router = APIRouter(prefix="/v1/{appId}", tags=["import"])


@router.post(
    "/import/conversations/{conversationId}/messages",
    summary="Import up to 10 messages with their own timestamps (no notifications, no push)",
)
def import_messages(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, body: ImportMessagesIn
) -> list[dict[str, Any]]:
    items = [
        imports.ImportedMessage(
            sender=m.sender,
            text=m.text,
            timestamp=m.timestamp,
            read_by=m.readBy,
            custom=m.custom,
            idempotency_key=m.idempotencyKey,
            attachment_token=m.attachmentToken,
        )
        for m in body
    ]
    return [
        {"id": m.id} for m in imports.import_messages(ctx, app.id, conversationId, items).messages
    ]
