"""How Chinwag is served: uvicorn for HTTP, with the native realtime transport for WebSockets.

One place builds the uvicorn configuration, so ``chinwag serve`` and the tests' live servers run
the same stack."""

from __future__ import annotations

from typing import Any

import uvicorn

from chinwag.realtime.transport import RealtimeProtocol


def uvicorn_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """A uvicorn configuration for an app made by ``create_app``: WebSocket upgrades go to
    :class:`RealtimeProtocol` (the realtime URL natively, any other URL to the ASGI app)."""
    options.setdefault("proxy_headers", False)
    return uvicorn.Config(app, host=host, port=port, ws=RealtimeProtocol, **options)
