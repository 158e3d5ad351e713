"""The one place where errors become HTTP responses of the shape
``{"errorCode": "...", "reasons": [...]}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from chinwag.errors import ChinwagError, NotFound, RetryLater
from chinwag.schemas import reasons_of

log = logging.getLogger(__name__)


def error_response(exc: ChinwagError) -> JSONResponse:
    headers = {}
    if isinstance(exc, RetryLater):
        headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
    return JSONResponse(exc.to_body(), status_code=exc.status, headers=headers)


def _validation_reasons(exc: RequestValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if not str(p).startswith("function-")]
        msg = "unknown field" if err.get("type") == "extra_forbidden" else err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        out.append(f"{'.'.join(loc)}: {msg}" if loc else str(msg))
    return out or ["invalid request"]


def install(app: FastAPI) -> None:
    @app.exception_handler(ChinwagError)
    async def _chinwag(_: Request, exc: ChinwagError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        body: dict[str, Any] = {"errorCode": "INVALID_REQUEST", "reasons": _validation_reasons(exc)}
        return JSONResponse(body, status_code=400)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            return error_response(NotFound(f"no such endpoint or method ({exc.detail})"))
        return JSONResponse(
            {"errorCode": "INVALID_REQUEST", "reasons": [str(exc.detail)]}, status_code=400
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"errorCode": "INTERNAL_ERROR", "reasons": ["an unexpected error; see the server log"]},
            status_code=500,
        )


__all__ = ["error_response", "install", "reasons_of"]
