"""The realtime WebSocket route, and the node's start and stop with the app's lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket

from chinwag.realtime.bus import open_bus
from chinwag.realtime.hub import Hub
from chinwag.realtime.node import Limits, RealtimeNode
from chinwag.realtime.sink import TeeSink
from chinwag.services.context import Context

router = APIRouter()


@router.websocket("/v1/{appId}/realtime/{userId}")
async def realtime(websocket: WebSocket, appId: str, userId: str) -> None:
    node: RealtimeNode = websocket.app.state.realtime
    q = websocket.query_params
    await node.serve(websocket, appId, userId, q.get("signature"), q.get("token"))


def install(
    api: FastAPI, ctx: Context, broker_url: str, limits: Limits | None = None
) -> RealtimeNode:
    """Add the route; start the node (bus, publisher) with the app and stop it after."""
    node = RealtimeNode(ctx, open_bus(broker_url), limits)
    ctx.sink = TeeSink(ctx.sink, node.sink)
    api.state.realtime = node
    api.include_router(router)
    inner = api.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        await node.start()
        try:
            async with inner(app) as state:
                yield state
        finally:
            await node.stop()

    api.router.lifespan_context = lifespan
    return node


def presence(asgi_app: Any) -> Hub:
    """The realtime hub of an app made by ``create_app`` (it tells who is viewing what on this
    node: notifications ask it before sending)."""
    app = asgi_app
    while not hasattr(app, "state"):
        app = app.app
    hub: Hub = app.state.realtime.hub
    return hub
