"""A stand-in for the hosted product's REST API (a paid third party), on 127.0.0.1.

It answers the documented shapes only (reference section 1): ``GET /v1/{appId}/users``,
``/conversations`` and ``/conversations/{id}/messages`` as ``{"data": [...]}`` with ``limit`` and
``startingAfter`` (messages newest first), ``Authorization: Bearer <secret key>``, ``401`` for a
wrong key, and, when told to, ``429`` with ``Retry-After`` (a storm) or ``503`` (an outage).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

T0 = 1_600_000_000_000


class StandIn:
    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id = app_id
        self.secret = secret
        self.users: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # oldest first
        self.storm = 0  # the next this many requests are answered 429
        self.retry_after = "2"
        self.down = False  # every request is answered 503
        self.requests = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    # Data ------------------------------------------------------------------------------------

    def user(self, uid: str, **fields: Any) -> None:
        self.users[uid] = {
            "id": uid,
            "name": uid.title(),
            "email": None,
            "phone": None,
            "photoUrl": None,
            "headerPhotoUrl": None,
            "role": "default",
            "locale": None,
            "welcomeMessage": None,
            "custom": {},
            "availabilityText": None,
            "createdAt": T0,
            "pushTokens": None,
            **fields,
        }

    def conversation(
        self, cid: str, participants: dict[str, dict[str, Any]], **fields: Any
    ) -> None:
        self.conversations[cid] = {
            "id": cid,
            "subject": None,
            "photoUrl": None,
            "welcomeMessages": None,
            "custom": {},
            "lastMessage": None,
            "participants": participants,
            "createdAt": T0,
            "topicId": None,
            **fields,
        }
        self.messages.setdefault(cid, [])

    def message(self, cid: str, sender: str | None, text: str, at: int, **fields: Any) -> str:
        mid = f"msg_{cid[:8]}{len(self.messages[cid]):014d}"
        self.messages[cid].append(
            {
                "id": mid,
                "conversationId": cid,
                "type": "UserMessage" if sender else "SystemMessage",
                "senderId": sender,
                "readBy": [],
                "text": text,
                "attachment": None,
                "location": None,
                "origin": "rest",
                "createdAt": at,
                "editedAt": None,
                "referencedMessageId": None,
                "custom": {},
                **fields,
            }
        )
        return mid

    # HTTP ------------------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, list[str]], auth: str | None) -> tuple[int, Any]:
        with self.lock:
            self.requests += 1
            if self.down:
                return 503, {"errorCode": "UNAVAILABLE"}
            if self.storm > 0:
                self.storm -= 1
                return 429, {"errorCode": "RATE_LIMITED"}
        if auth != f"Bearer {self.secret}":
            return 401, {"errorCode": "UNAUTHORIZED", "reasons": ["bad key"]}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] != ["v1", self.app_id]:
            return 404, {"errorCode": "NOT_FOUND"}
        rest = parts[2:]
        if rest == ["users"]:
            items = [self.users[k] for k in sorted(self.users)]
        elif rest == ["conversations"]:
            items = [self.conversations[k] for k in sorted(self.conversations)]
        elif len(rest) == 3 and rest[0] == "conversations" and rest[2] == "messages":
            if rest[1] not in self.messages:
                return 404, {"errorCode": "CONVERSATION_NOT_FOUND"}
            items = list(reversed(self.messages[rest[1]]))  # newest first
        else:
            return 404, {"errorCode": "NOT_FOUND"}
        limit = int(query.get("limit", ["10"])[0])
        if not 1 <= limit <= 100:
            return 400, {"errorCode": "INVALID_REQUEST"}
        after = query.get("startingAfter", [None])[0]
        if after is not None:
            ids = [i["id"] for i in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        return 200, {"data": items[:limit]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                url = urlparse(self.path)
                status, body = standin.answer(
                    url.path, parse_qs(url.query), self.headers.get("Authorization")
                )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", standin.retry_after)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
