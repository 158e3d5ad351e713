"""REST: users."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from chinwag.domain import limits as L
from chinwag.schemas import UserPut, UsersBatchPut
from chinwag.serialize import user_json
from chinwag.services import users
from chinwag.services.inbox import user_conversations
from chinwag.web.deps import AuthedApp, Ctx, Cursor, PathId

router = APIRouter(prefix="/v1/{appId}", tags=["users"])
Limit = Annotated[int, Query(ge=1, le=L.MAX_PAGE)]


@router.put("/users/{userId}", summary="Create or merge a user")
def put_user(ctx: Ctx, app: AuthedApp, userId: PathId, body: UserPut) -> dict[str, Any]:
    users.put_user(ctx, app.id, userId, body)
    return {}


@router.put("/users", summary="Create or merge up to 100 users, all or nothing")
def put_users(ctx: Ctx, app: AuthedApp, body: UsersBatchPut) -> dict[str, Any]:
    users.put_users(ctx, app.id, body)
    return {}


@router.get("/users/{userId}", summary="Get a user")
def get_user(ctx: Ctx, app: AuthedApp, userId: PathId) -> dict[str, Any]:
    return user_json(users.get_user(ctx, app.id, userId))


@router.get("/users", summary="List users by id")
def list_users(
    ctx: Ctx, app: AuthedApp, limit: Limit = L.DEFAULT_PAGE, startingAfter: Cursor = None
) -> dict[str, Any]:
    return {"data": [user_json(u) for u in users.list_users(ctx, app.id, limit, startingAfter)]}


@router.get(
    "/users/{userId}/conversations",
    summary="The user's conversations (memberships only), newest activity first",
)
def list_user_conversations(
    ctx: Ctx,
    app: AuthedApp,
    userId: PathId,
    limit: Limit = L.DEFAULT_PAGE,
    startingAfter: Cursor = None,
    unreadsOnly: bool = False,
) -> dict[str, Any]:
    return {"data": user_conversations(ctx, app.id, userId, limit, startingAfter, unreadsOnly)}
