"""REST: guest moderation, invite links and the audit log (Chinwag extensions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from chinwag.domain import limits as L
from chinwag.domain.access import GuestAccess
from chinwag.domain.moderation import RestrictionKind
from chinwag.schemas import InviteIn, KickIn, RestrictionPut
from chinwag.serialize import invite_json
from chinwag.services import audit, moderation, roster
from chinwag.web.deps import AuthedApp, Ctx, Cursor, PathId

router = APIRouter(prefix="/v1/{appId}", tags=["moderation"])
Limit = Annotated[int, Query(ge=1, le=L.MAX_PAGE)]
Kind = Annotated[str, Query(pattern="^(ban|mute)$")]


@router.put(
    "/conversations/{conversationId}/guests/{userId}/{kind}",
    summary="Ban or mute one user as a guest (kind: ban or mute)",
)
def put_restriction(
    ctx: Ctx,
    app: AuthedApp,
    conversationId: PathId,
    userId: PathId,
    kind: RestrictionKind,
    body: RestrictionPut | None = None,
) -> dict[str, Any]:
    body = body or RestrictionPut()
    return moderation.restrict(
        ctx, app.id, conversationId, userId, kind, body.durationSeconds, body.reason
    )


@router.delete(
    "/conversations/{conversationId}/guests/{userId}/{kind}", summary="Lift a ban or a mute"
)
def delete_restriction(
    ctx: Ctx,
    app: AuthedApp,
    conversationId: PathId,
    userId: PathId,
    kind: RestrictionKind,
) -> dict[str, Any]:
    moderation.lift(ctx, app.id, conversationId, userId, kind)
    return {}


@router.post(
    "/conversations/{conversationId}/guests/{userId}/kick",
    summary="Unlink one guest now, on every node",
)
def kick_guest(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, userId: PathId, body: KickIn | None = None
) -> dict[str, Any]:
    moderation.kick(ctx, app.id, conversationId, userId, (body or KickIn()).reason)
    return {}


@router.get(
    "/conversations/{conversationId}/guests",
    summary="The guests watching now, on every node (live roster)",
)
async def list_guests(
    request: Request, ctx: Ctx, app: AuthedApp, conversationId: PathId
) -> dict[str, Any]:
    await run_in_threadpool(roster.check_conversation, ctx, app.id, conversationId)
    guests = await request.app.state.realtime.roster.guests(app.id, conversationId)
    return {"data": [g.to_json() for g in guests], "count": len(guests)}


@router.get("/conversations/{conversationId}/guestRestrictions", summary="Bans and mutes of guests")
def list_restrictions(ctx: Ctx, app: AuthedApp, conversationId: PathId) -> dict[str, Any]:
    return {
        "data": [
            {
                "userId": r.user_id,
                "kind": r.restriction.kind.value,
                "until": r.restriction.until,
                "reason": r.reason,
                "createdBy": r.created_by,
                "createdAt": r.created_at,
            }
            for r in moderation.restrictions(ctx, app.id, conversationId)
        ]
    }


@router.post(
    "/conversations/{conversationId}/invites",
    summary="Mint a signed, expiring invite link that admits guests",
)
def create_invite(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, body: InviteIn | None = None
) -> dict[str, Any]:
    body = body or InviteIn()
    minted = moderation.create_invite(
        ctx, app.id, conversationId, GuestAccess(body.access), body.expiresInSeconds
    )
    return {**invite_json(minted.invite), "token": minted.token}


@router.get("/conversations/{conversationId}/invites", summary="The conversation's invites")
def list_invites(ctx: Ctx, app: AuthedApp, conversationId: PathId) -> dict[str, Any]:
    return {"data": [invite_json(i) for i in moderation.invites(ctx, app.id, conversationId)]}


@router.delete(
    "/conversations/{conversationId}/invites/{inviteId}",
    summary="Revoke an invite: no new guest joins with it",
)
def revoke_invite(
    ctx: Ctx, app: AuthedApp, conversationId: PathId, inviteId: PathId
) -> dict[str, Any]:
    moderation.revoke_invite(ctx, app.id, conversationId, inviteId)
    return {}


@router.get("/audit", summary="The audit log, oldest first")
def audit_log(
    ctx: Ctx,
    app: AuthedApp,
    limit: Limit = L.DEFAULT_PAGE,
    startingAfter: Cursor = None,
    conversationId: Cursor = None,
) -> dict[str, Any]:
    entries = audit.entries(ctx, app.id, limit, startingAfter, conversationId)
    return {"data": [e.to_json() for e in entries]}


@router.get(
    "/audit/export",
    summary="The whole audit log as JSON lines",
    response_class=StreamingResponse,
)
def audit_export(ctx: Ctx, app: AuthedApp) -> StreamingResponse:
    return StreamingResponse(audit.export_lines(ctx, app.id), media_type="application/x-ndjson")
