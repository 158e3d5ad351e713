"""A typed Python client for Chinwag's REST API, for the integrator's backend (docs/client.md).

    from chinwag.client import Client

    with Client("https://chat.example.com", "myapp", "sk_live_...") as chat:
        chat.put_user("alice", UserPut(name="Alice"))
        for user in chat.iter_users():
            print(user["id"])

:class:`Client` is synchronous, :class:`AsyncClient` the same API with ``await``; both run on
httpx. Request bodies are the server's own models (:mod:`chinwag.schemas`), so a client and a
server of one version agree on every field and limit.
"""

from chinwag.client.asyncio import AsyncClient
from chinwag.client.calls import ApiError
from chinwag.client.sync import Client
from chinwag.client.webhooks import verify_webhook

__all__ = ["ApiError", "AsyncClient", "Client", "verify_webhook"]
