"""Request dependencies: the service context and the authenticated app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request

from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.storage.records import App


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(context)]


def backend_app(
    request: Request,
    ctx: Ctx,
    appId: Annotated[str, Path(max_length=128, pattern=r"^[^\x00]+$")],  # PostgreSQL: no NUL
    authorization: Annotated[str | None, Header()] = None,
) -> App:
    """The authenticated app; its requests are rate limited per app on this node."""
    app = apps.authenticate_backend(ctx, appId, authorization)
    request.app.state.rest_limiter.take(app.id, ctx.clock.now_ms(), "REST requests for this app")
    return app


AuthedApp = Annotated[App, Depends(backend_app)]
PathId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:~+=|-]+$")]
#: ``startingAfter``: the id of the last item of the previous page.
Cursor = Annotated[str | None, Query(min_length=1, max_length=128, pattern=r"^[^\x00]+$")]
