"""The ASGI application: routes, error mapping, body limit, health."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from chinwag import __version__
from chinwag.domain import limits as L
from chinwag.domain.ratelimit import RateLimiter
from chinwag.notifications import install as install_outbox
from chinwag.services.context import Context
from chinwag.web import errors, realtime, rest_app, rest_conversations, rest_users, rest_webhooks
from chinwag.web.limits import BodyLimit


def create_app(ctx: Context, broker_url: str = "memory://") -> Any:
    api = FastAPI(
        title="Chinwag",
        version=__version__,
        summary="Self-hosted chat: REST API v1 for the integrator's backend.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    api.state.ctx = install_outbox(ctx)  # changes also write webhooks and notifications
    api.state.rest_limiter = RateLimiter(L.REST_RATE_PER_SECOND, L.REST_BURST)
    errors.install(api)

    @api.get("/healthz", tags=["server"], summary="Liveness and database check")
    def healthz() -> dict[str, Any]:
        with ctx.read() as tx:
            tx.one("SELECT 1 AS ok")
        return {"status": "ok", "version": __version__, "database": ctx.db.dialect}

    api.include_router(rest_users.router)
    api.include_router(rest_conversations.router)
    api.include_router(rest_app.router)
    api.include_router(rest_webhooks.router)
    realtime.install(api, ctx, broker_url)
    return BodyLimit(api)
