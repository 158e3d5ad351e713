"""The ASGI application: routes, error mapping, body limit, health, API docs, metrics, the
request log."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from chinwag import __version__
from chinwag.domain import limits as L
from chinwag.notifications import install as install_outbox
from chinwag.proxies import TrustedProxies
from chinwag.realtime.sink import TeeSink
from chinwag.services.admin import Admin
from chinwag.services.audit import install as install_audit
from chinwag.services.context import Context
from chinwag.web import (
    api_docs,
    dashboard,
    dashboard_moderation,
    dashboard_outbox,
    dashboard_people,
    errors,
    metrics,
    openapi,
    realtime,
    rest_app,
    rest_conversations,
    rest_import,
    rest_moderation,
    rest_reactions,
    rest_users,
    rest_webhooks,
    sdk,
)
from chinwag.web.access_log import AccessLog
from chinwag.web.limits import BodyLimit


def create_app(
    ctx: Context,
    broker_url: str = "memory://",
    admin: Admin | None = None,
    metrics_token: str | None = None,
    trusted_proxies: TrustedProxies | None = None,
) -> Any:
    api = FastAPI(
        title="Chinwag",
        version=__version__,
        summary="Self-hosted chat: REST API v1 for the integrator's backend.",
        docs_url=None,  # api_docs serves /docs with Swagger UI's files from the package
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    api.state.ctx = install_outbox(ctx)  # changes also write webhooks and notifications
    install_audit(ctx)  # and the audit log entries of access changes, bans, settings...
    # Counts its refusals for /metrics (a plain integer when metrics are off).
    api.state.rest_limiter = metrics.CountingRateLimiter(L.REST_RATE_PER_SECOND, L.REST_BURST)
    errors.install(api)
    api_docs.install(api)
    openapi.install(api)  # the document declares real statuses, security, limits, examples
    api.state.admin = admin  # the dashboard's login; None: the dashboard refuses every sign-in

    @api.get("/healthz", tags=["server"], summary="Liveness and database check")
    def healthz() -> dict[str, Any]:
        with ctx.read() as tx:
            tx.one("SELECT 1 AS ok")
        return {"status": "ok", "version": __version__, "database": ctx.db.dialect}

    api.include_router(rest_users.router)
    api.include_router(rest_conversations.router)
    api.include_router(rest_reactions.router)
    api.include_router(rest_app.router)
    api.include_router(rest_webhooks.router)
    api.include_router(rest_moderation.router)
    api.include_router(rest_import.router)
    # The browser side: /talk.js, /demo, /dashboard. CORS: the SDK runs on the integrator's origin.
    api.include_router(sdk.router)
    api.include_router(dashboard_outbox.router)
    api.include_router(dashboard_moderation.router)
    api.include_router(dashboard_people.router)
    api.include_router(dashboard.router)
    api.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    node = realtime.install(api, ctx, broker_url)
    proxies = trusted_proxies or TrustedProxies()
    node.proxies = proxies  # realtime sockets take their client address by the same rule
    if metrics_token:  # /metrics is off without a token
        counters = metrics.Metrics(node, api.state.rest_limiter, api.state.ctx)
        ctx.sink = TeeSink(ctx.sink, counters)
        metrics.install(api, metrics_token, counters)
    # Outermost: each request's id and log record, and its client address behind proxies.
    return AccessLog(BodyLimit(api), api, proxies)
