"""Request dependencies: the service context and the authenticated app."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request

from chinwag.domain import limits as L
from chinwag.domain.ratelimit import RateLimiter
from chinwag.errors import Unauthorized
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.storage.records import App


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(context)]


_FAILURES_LOCK = threading.Lock()


def auth_failures(request: Request) -> RateLimiter:
    """This ASGI app's bucket per source address of failed authentications (made on first use,
    so each app made by ``create_app`` has its own)."""
    state = request.app.state
    with _FAILURES_LOCK:
        limiter: RateLimiter | None = getattr(state, "auth_failures", None)
        if limiter is None:
            limiter = state.auth_failures = RateLimiter(
                L.AUTH_FAILURE_RATE_PER_SECOND, L.AUTH_FAILURE_BURST
            )
    return limiter


def backend_app(
    request: Request,
    ctx: Ctx,
    appId: Annotated[str, Path(max_length=128, pattern=r"^[^\x00]+$")],  # PostgreSQL: no NUL
    authorization: Annotated[str | None, Header()] = None,
) -> App:
    """The authenticated app; its requests are rate limited per app on this node.

    Failed authentications are limited per source address (the TCP peer): once an address has
    used up its failures, its requests are refused with 429 before any key is checked, so
    guessing keys gets no answer at all, right or wrong."""
    source = request.client.host if request.client else ""
    failures = auth_failures(request)
    now = ctx.clock.now_ms()
    failures.check(source, now, "failed authentications from this address")
    try:
        app = apps.authenticate_backend(ctx, appId, authorization)
    except Unauthorized:
        failures.take(source, now, "failed authentications from this address")
        raise
    request.app.state.rest_limiter.take(app.id, now, "REST requests for this app")
    return app


AuthedApp = Annotated[App, Depends(backend_app)]
PathId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:~+=|-]+$")]
#: ``startingAfter``: the id of the last item of the previous page.
Cursor = Annotated[str | None, Query(min_length=1, max_length=128, pattern=r"^[^\x00]+$")]
