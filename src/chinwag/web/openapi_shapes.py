"""What each REST operation answers: its 200 body (a JSON Schema and an example), the error
statuses it may answer beyond the ones every operation shares, and an example request body.

Rules kept:

- One row per operation of ``/v1``; :func:`chinwag.web.openapi.install` refuses to build the
  document when an operation has no row, so a new endpoint cannot go undocumented.
- The schemas say what the server promises (required fields and their types); they allow
  fields added later, so a client written against them keeps working.
- The examples are answers the server really gave, trimmed; ``tests/test_openapi.py`` checks
  each against its schema.
"""

from __future__ import annotations

from typing import Any

from chinwag.domain import limits as L

_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_NSTR = {"type": ["string", "null"]}
_NINT = {"type": ["integer", "null"]}
_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_NOTIFY = {"anyOf": [_BOOL, {"const": "MentionsOnly"}]}


def _obj(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **optional},
    }


def _page(item: dict[str, Any]) -> dict[str, Any]:
    return _obj({"data": {"type": "array", "items": item, "maxItems": L.MAX_PAGE}})


EMPTY: dict[str, Any] = {"type": "object", "maxProperties": 0}
USER = _obj(
    {"id": _STR, "name": _NSTR, "custom": _MAP, "createdAt": _INT},
    role=_NSTR,
    photoUrl=_NSTR,
    welcomeMessage=_NSTR,
    locale=_NSTR,
    email={"type": ["array", "null"], "items": _STR},
    phone={"type": ["array", "null"], "items": _STR},
)
MESSAGE = _obj(
    {
        "id": _STR,
        "conversationId": _STR,
        "type": {"enum": ["UserMessage", "SystemMessage"]},
        "senderId": _NSTR,
        "text": _NSTR,
        "custom": _MAP,
        "createdAt": _INT,
        "position": _INT,
    },
    editedAt=_NINT,
    referencedMessageId=_NSTR,
    readBy={"type": "array", "items": _STR},
)
CONVERSATION = _obj(
    {
        "id": _STR,
        "subject": _NSTR,
        "custom": _MAP,
        "participants": {
            "type": "object",
            "additionalProperties": _obj({"access": _STR, "notify": _NOTIFY}),
        },
        "createdAt": _INT,
    },
    guestAccess={"enum": ["ReadWrite", "Read", "None"]},
    lastMessage={"anyOf": [MESSAGE, {"type": "null"}]},
)
SETTINGS = _obj(
    {
        "allowUserSyncViaBrowser": _BOOL,
        "allowConversationSyncViaBrowser": _BOOL,
        "identityVerification": _BOOL,
        "participantLimit": _INT,
        "notificationDelaySeconds": _INT,
    },
    moderatorRoles={"type": "array", "items": _STR},
)
WEBHOOK = _obj(
    {"id": _STR, "url": _STR, "events": {"type": "array", "items": _STR}, "enabled": _BOOL}
)
CHANNELS = _obj({"email": _BOOL, "sms": _BOOL, "roles": {"type": "object"}})
INVITE = _obj(
    {"id": _STR, "conversationId": _STR, "access": _STR, "expiresAt": _INT},
    revokedAt=_NINT,
)
RESTRICTION = _obj({"userId": _STR, "kind": {"enum": ["ban", "mute"]}}, until=_NINT)

_USER_EX: dict[str, Any] = {
    "id": "alice",
    "name": "Alice",
    "welcomeMessage": None,
    "photoUrl": None,
    "headerPhotoUrl": None,
    "role": "default",
    "email": ["alice@example.com"],
    "phone": None,
    "custom": {"team": "blue"},
    "availabilityText": None,
    "locale": None,
    "createdAt": 1796357392853,
    "pushTokens": {},
}
_MESSAGE_EX: dict[str, Any] = {
    "id": "msg_JQmml6rh2U3GQvIT2ZtjGi",
    "conversationId": "order-1234",
    "type": "UserMessage",
    "senderId": "alice",
    "text": "Hi Bob!",
    "custom": {},
    "readBy": [],
    "attachment": None,
    "location": None,
    "origin": "rest",
    "referencedMessageId": None,
    "createdAt": 1796357393301,
    "editedAt": None,
    "position": 7,
}
_CONVERSATION_EX: dict[str, Any] = {
    "id": "order-1234",
    "subject": "Order #1234",
    "photoUrl": None,
    "welcomeMessages": None,
    "custom": {"orderId": "1234"},
    "guestAccess": "ReadWrite",
    "lastMessage": _MESSAGE_EX,
    "participants": {
        "alice": {"access": "ReadWrite", "notify": True},
        "bob": {"access": "ReadWrite", "notify": True},
    },
    "createdAt": 1796357393086,
    "topicId": None,
}
_SETTINGS_EX = {
    "allowUserSyncViaBrowser": True,
    "allowConversationSyncViaBrowser": True,
    "identityVerification": False,
    "participantLimit": 50,
    "notificationDelaySeconds": 60,
    "moderatorRoles": [],
}
_WEBHOOK_EX = {
    "id": "wh_52ZTCa5VsYO0h8JA",
    "url": "https://backend.example.com/chinwag",
    "events": ["message.sent"],
    "enabled": True,
    "createdAt": 1796357393366,
    "updatedAt": 1796357393366,
}
_INVITE_EX = {
    "id": "inv_xzOiJiqEE908zmpI",
    "conversationId": "order-1234",
    "access": "Read",
    "expiresAt": 1796443793672,
    "revokedAt": None,
    "createdBy": "backend",
    "createdAt": 1796357393672,
}
_RESTRICTION_EX = {"userId": "mallory", "kind": "ban", "until": 1796360993641, "reason": "spam"}
_AUDIT_EX = {
    "id": "1796357393086-000000000000-3pI4",
    "at": 1796357393086,
    "actor": "backend",
    "action": "participant.joined",
    "conversationId": "order-1234",
    "userId": "alice",
    "data": {"access": "ReadWrite", "notify": True, "isMember": True},
}
_USER_PUT_EX = {
    "name": "Alice",
    "email": ["alice@example.com"],
    "role": "default",
    "custom": {"team": "blue"},
}


class Shape:
    """One operation: its 200 body, the extra error statuses, an example request body."""

    def __init__(
        self,
        schema: dict[str, Any],
        example: Any,
        errors: tuple[int, ...] = (),
        request: Any = None,
        media_type: str = "application/json",
    ) -> None:
        self.schema = schema
        self.example = example
        self.errors = errors
        self.request = request
        self.media_type = media_type


_C = "/v1/{appId}/conversations/{conversationId}"

#: Every operation of ``/v1`` by (method, path template).
SHAPES: dict[tuple[str, str], Shape] = {
    ("PUT", "/v1/{appId}/users/{userId}"): Shape(EMPTY, {}, request=_USER_PUT_EX),
    ("PUT", "/v1/{appId}/users"): Shape(
        EMPTY, {}, request={"alice": _USER_PUT_EX, "bob": {"name": "Bob"}}
    ),
    ("GET", "/v1/{appId}/users/{userId}"): Shape(USER, _USER_EX),
    ("GET", "/v1/{appId}/users"): Shape(_page(USER), {"data": [_USER_EX]}),
    ("GET", "/v1/{appId}/users/{userId}/conversations"): Shape(
        _page(CONVERSATION),
        {
            "data": [
                {
                    **_CONVERSATION_EX,
                    "access": "ReadWrite",
                    "isMember": True,
                    "notify": True,
                    "joinedAt": 1796357393086,
                    "lastActivityAt": 1796357393301,
                    "unreadMessageCount": 1,
                }
            ]
        },
    ),
    ("PUT", _C): Shape(
        EMPTY,
        {},
        errors=(409,),
        request={
            "participants": ["alice", "bob"],
            "subject": "Order #1234",
            "custom": {"orderId": "1234"},
            "guestAccess": "Read",
        },
    ),
    ("GET", _C): Shape(CONVERSATION, _CONVERSATION_EX),
    ("DELETE", _C): Shape(EMPTY, {}),
    ("GET", "/v1/{appId}/conversations"): Shape(_page(CONVERSATION), {"data": [_CONVERSATION_EX]}),
    ("GET", "/v1/{appId}/conversationIds/random"): Shape(
        _obj({"id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}),
        {"id": "64e11578b0d86dcc5e71e309bfb232c9"},
    ),
    ("PUT", _C + "/participants/{userId}"): Shape(
        EMPTY, {}, errors=(403, 409), request={"access": "Read", "notify": "MentionsOnly"}
    ),
    ("PATCH", _C + "/participants/{userId}"): Shape(
        EMPTY, {}, errors=(403, 409), request={"access": "None"}
    ),
    ("DELETE", _C + "/participants/{userId}"): Shape(EMPTY, {}),
    ("GET", _C + "/participants"): Shape(
        _page(_obj({"userId": _STR, "access": _STR, "notify": _NOTIFY, "isMember": _BOOL})),
        {
            "data": [
                {
                    "userId": "carol",
                    "access": "None",
                    "notify": "MentionsOnly",
                    "isMember": True,
                    "joinedAt": 1796357393278,
                    "readUntil": 0,
                    "historyUntil": 5,
                }
            ]
        },
    ),
    ("POST", _C + "/messages"): Shape(
        {
            "type": "array",
            "items": _obj({"id": _STR}),
            "minItems": 1,
            "maxItems": L.MAX_MESSAGES_PER_POST,
        },
        [{"id": "msg_JQmml6rh2U3GQvIT2ZtjGi"}, {"id": "msg_gv03PTZ1w0tyLlOi1B8wkt"}],
        errors=(403, 409),
        request=[
            {"type": "UserMessage", "sender": "alice", "text": "Hi Bob!", "idempotencyKey": "k1"},
            {"type": "SystemMessage", "text": "Order shipped"},
        ],
    ),
    ("GET", _C + "/messages"): Shape(_page(MESSAGE), {"data": [_MESSAGE_EX]}),
    ("GET", _C + "/messages/{messageId}"): Shape(MESSAGE, _MESSAGE_EX),
    ("PUT", _C + "/messages/{messageId}"): Shape(
        MESSAGE, {**_MESSAGE_EX, "text": "Hi Bob, edited"}, errors=(403,), request={"text": "Hi"}
    ),
    ("PATCH", _C + "/messages/{messageId}"): Shape(
        MESSAGE,
        {**_MESSAGE_EX, "custom": {"pinned": "yes"}},
        errors=(403,),
        request={"custom": {"pinned": "yes"}},
    ),
    ("DELETE", _C + "/messages/{messageId}"): Shape(EMPTY, {}, errors=(403,)),
    ("PUT", _C + "/messages/{messageId}/reactions/{emoji}/{userId}"): Shape(
        EMPTY, {}, errors=(403,)
    ),
    ("DELETE", _C + "/messages/{messageId}/reactions/{emoji}/{userId}"): Shape(
        EMPTY, {}, errors=(403,)
    ),
    ("POST", "/v1/{appId}/import/conversations/{conversationId}/messages"): Shape(
        {"type": "array", "items": _obj({"id": _STR})},
        [{"id": "msg_JQmml6rh2U3GQvIT2ZtjGi"}],
        errors=(409,),
        request=[
            {
                "type": "UserMessage",
                "sender": "alice",
                "text": "Imported hello",
                "timestamp": 1700000000000,
                "readBy": ["bob"],
            }
        ],
    ),
    ("POST", _C + "/readBy/{userId}"): Shape(
        _obj({"readUntil": _INT}), {"readUntil": 9}, errors=(403,)
    ),
    ("GET", "/v1/{appId}/settings"): Shape(SETTINGS, _SETTINGS_EX),
    ("PATCH", "/v1/{appId}/settings"): Shape(
        SETTINGS,
        {**_SETTINGS_EX, "participantLimit": 20},
        request={"participantLimit": 20, "identityVerification": True},
    ),
    ("POST", "/v1/{appId}/batch"): Shape(
        {
            "type": "array",
            "items": {"type": "array", "minItems": 3, "maxItems": 3},
            "maxItems": L.MAX_BATCH_OPERATIONS,
        },
        [[1, 200, _USER_EX], [2, 200, {}]],
        request=[[1, "GET", "/users/alice"], [2, "PUT", "/users/dave", {"name": "Dave"}]],
    ),
    ("GET", "/v1/{appId}/webhooks"): Shape(_page(WEBHOOK), {"data": [_WEBHOOK_EX]}),
    ("POST", "/v1/{appId}/webhooks"): Shape(
        WEBHOOK,
        _WEBHOOK_EX,
        request={"url": "https://backend.example.com/chinwag", "events": ["message.sent"]},
    ),
    ("GET", "/v1/{appId}/webhooks/{webhookId}"): Shape(WEBHOOK, _WEBHOOK_EX),
    ("PATCH", "/v1/{appId}/webhooks/{webhookId}"): Shape(
        WEBHOOK, {**_WEBHOOK_EX, "enabled": False}, request={"enabled": False}
    ),
    ("DELETE", "/v1/{appId}/webhooks/{webhookId}"): Shape(EMPTY, {}),
    ("GET", "/v1/{appId}/webhooks/{webhookId}/deliveries"): Shape(
        _page({"type": "object"}), {"data": []}
    ),
    ("GET", "/v1/{appId}/notifications"): Shape(_page({"type": "object"}), {"data": []}),
    ("GET", "/v1/{appId}/notifications/settings"): Shape(
        CHANNELS, {"email": True, "sms": True, "roles": {}}
    ),
    ("PUT", "/v1/{appId}/notifications/settings"): Shape(
        CHANNELS,
        {"email": True, "sms": False, "roles": {"support": {"sms": True}}},
        request={"email": True, "sms": False, "roles": {"support": {"sms": True}}},
    ),
    ("PUT", _C + "/guests/{userId}/{kind}"): Shape(
        RESTRICTION, _RESTRICTION_EX, request={"durationSeconds": 3600, "reason": "spam"}
    ),
    ("DELETE", _C + "/guests/{userId}/{kind}"): Shape(EMPTY, {}),
    ("POST", _C + "/guests/{userId}/kick"): Shape(EMPTY, {}, request={"reason": "spam"}),
    ("GET", _C + "/guests"): Shape(
        _obj({"data": {"type": "array", "items": {"type": "object"}}, "count": _INT}),
        {"data": [], "count": 0},
        errors=(403,),
    ),
    ("GET", _C + "/guestRestrictions"): Shape(
        _page(RESTRICTION),
        {"data": [{**_RESTRICTION_EX, "createdBy": "backend", "createdAt": 1796357393641}]},
    ),
    ("POST", _C + "/invites"): Shape(
        {**INVITE, "required": [*INVITE["required"], "token"]},
        {**_INVITE_EX, "token": "eyJhIjoidDhu...In0.4c684200df81607a67ce..."},
        request={"access": "Read", "expiresInSeconds": 86400},
    ),
    ("GET", _C + "/invites"): Shape(_page(INVITE), {"data": [_INVITE_EX]}),
    ("DELETE", _C + "/invites/{inviteId}"): Shape(EMPTY, {}),
    ("GET", "/v1/{appId}/audit"): Shape(
        _page(_obj({"id": _STR, "at": _INT, "actor": _STR, "action": _STR})),
        {"data": [_AUDIT_EX]},
    ),
    ("GET", "/v1/{appId}/audit/export"): Shape(
        {"type": "string", "description": "One audit entry (a JSON object) per line."},
        '{"id":"1796357393086-000000000000-3pI4","at":1796357393086,"actor":"backend",...}\n',
        media_type="application/x-ndjson",
    ),
}
