"""REST: app settings (an extension) and the batch endpoint."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from chinwag.errors import InvalidRequest
from chinwag.schemas import BatchIn, SettingsPatch
from chinwag.services import apps
from chinwag.web.deps import AuthedApp, Ctx

router = APIRouter(prefix="/v1/{appId}", tags=["app"])

_METHODS = {"GET", "PUT", "POST", "PATCH", "DELETE"}


@router.get("/settings", summary="The app's settings")
def get_settings(app: AuthedApp) -> dict[str, Any]:
    return app.settings.to_json()


@router.patch("/settings", summary="Change some of the app's settings")
def patch_settings(ctx: Ctx, app: AuthedApp, body: SettingsPatch) -> dict[str, Any]:
    return apps.patch_settings(ctx, app.id, body.given()).to_json()


def _check_op(op: list[Any]) -> tuple[Any, str, str, Any]:
    seq, method, path = op[0], op[1], op[2]
    payload = op[3] if len(op) > 3 else None
    if not isinstance(seq, (int, str)) or isinstance(seq, bool):
        raise InvalidRequest(f"operation {op!r}: the sequence number must be a number or string")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise InvalidRequest(f"operation {seq}: method must be one of {sorted(_METHODS)}")
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("/batch"):
        raise InvalidRequest(f"operation {seq}: path must start with / and not be /batch")
    if len(op) > 4 and not isinstance(op[4], dict):
        raise InvalidRequest(f"operation {seq}: options must be an object")
    return seq, method.upper(), path, payload


@router.post("/batch", summary="Up to 10 operations, each answered as [seq, status, body]")
async def batch(request: Request, body: BatchIn, app: AuthedApp) -> list[Any]:
    ops = [_check_op(op) for op in body]
    results = []
    for seq, method, path, payload in ops:
        status, answer = await _call(request, app.id, method, path, payload)
        results.append([seq, status, answer])
    return results


async def _call(
    request: Request, app_id: str, method: str, path: str, payload: Any
) -> tuple[int, Any]:
    """Run one operation through the same routes, checks and services as a direct request."""
    query = b""
    body = b""
    if method == "GET" and payload is not None:
        if not isinstance(payload, dict) or not all(isinstance(v, str) for v in payload.values()):
            return 400, {
                "errorCode": "INVALID_REQUEST",
                "reasons": ["GET parameters must be a string map"],
            }
        query = urlencode(payload).encode()
    elif payload is not None:
        body = json.dumps(payload).encode()
    raw_path, _, raw_query = path.partition("?")
    headers = [(k, v) for k, v in request.scope["headers"] if k in (b"authorization",)] + [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": f"/v1/{app_id}{raw_path}",
        "raw_path": f"/v1/{app_id}{raw_path}".encode(),
        "query_string": query or raw_query.encode(),
        "headers": headers,
        "client": request.scope.get("client"),
        "server": request.scope.get("server"),
        "root_path": "",
        "app": request.app,
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 500
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await request.app(scope, receive, send)
    raw = b"".join(chunks)
    return status, json.loads(raw) if raw else {}
