"""Request bodies, validated the same way on every path (REST, batch, realtime).

Strict: no value is coerced (``"yes"`` is not a boolean, ``"1"`` is not a number), unknown fields
are errors, every string and map is bounded. :func:`parse` turns a pydantic failure into one
``INVALID_REQUEST`` error listing every problem.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from chinwag.domain import limits as L
from chinwag.errors import InvalidRequest
from chinwag.ids import ID_PATTERN, ID_RULE

T = TypeVar("T")


def _check_custom(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if len(value) > L.MAX_CUSTOM_KEYS:
        raise ValueError(f"custom may hold at most {L.MAX_CUSTOM_KEYS} keys")
    for key in value:
        if not 1 <= len(key) <= L.MAX_CUSTOM_KEY:
            raise ValueError(f"custom keys must be 1-{L.MAX_CUSTOM_KEY} characters")
        _storable_text(key)
    return value


#: What no string may hold, on every database alike: NUL (PostgreSQL cannot store it in text,
#: and no chat text needs it) and unpaired UTF-16 surrogates (JSON lets ``"\\ud800"`` through,
#: but they have no UTF-8 form, so no database driver can store them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_RULE = (
    "must not contain NUL (\\u0000) or unpaired surrogate (\\ud800-\\udfff) characters"
)


def _storable_text(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError(UNSTORABLE_RULE)
    return value


def _shown(key: str) -> str:
    """A key as it may appear in an error (escaped: a reason must itself be storable JSON)."""
    return key[:64].encode("unicode_escape").decode()


def unstorable_at(data: Any) -> str | None:
    """Where in a parsed JSON value a string (or an object's key) is not storable, if anywhere.

    Iterative, so that a deeply nested value costs no stack."""
    todo: list[tuple[str, Any]] = [("", data)]
    while todo:
        where, value = todo.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return where or "value"
        elif isinstance(value, dict):
            for key, item in value.items():
                here = f"{where}.{_shown(str(key))}" if where else _shown(str(key))
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    return f"{here} (the key)"
                todo.append((here, item))
        elif isinstance(value, (list, tuple)):
            todo.extend((f"{where}.{i}" if where else str(i), v) for i, v in enumerate(value))
    return None


def _all_storable(data: T) -> T:
    found = unstorable_at(data)
    if found:
        raise ValueError(f"{found}: {UNSTORABLE_RULE}")
    return data


def _check_id(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise ValueError(f"{value[:140]!r} is not a valid id ({ID_RULE})")
    return value


Id = Annotated[str, AfterValidator(_check_id)]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=L.MAX_NAME), AfterValidator(_storable_text)
]
Short = Annotated[str, StringConstraints(max_length=L.MAX_SHORT), AfterValidator(_storable_text)]
Url = Annotated[str, StringConstraints(max_length=L.MAX_URL), AfterValidator(_storable_text)]
Text = Annotated[str, StringConstraints(max_length=L.MAX_TEXT), AfterValidator(_storable_text)]
CustomValue = Annotated[
    str, StringConstraints(max_length=L.MAX_CUSTOM_VALUE), AfterValidator(_storable_text)
]
#: A custom map in a merge (PUT): a null value removes that key.
CustomPatch = Annotated[dict[str, CustomValue | None] | None, AfterValidator(_check_custom)]
#: A custom map on a message: strings only.
Custom = Annotated[dict[str, CustomValue], AfterValidator(_check_custom)]
Contacts = Short | Annotated[list[Short], Field(max_length=L.MAX_CONTACTS)] | None
Notify = bool | Literal["MentionsOnly"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        """Every string and key of every body, typed or not (``pushTokens``, role names...)."""
        return _all_storable(data)

    def given(self) -> dict[str, Any]:
        """Only the fields the client sent, so a PUT merges instead of overwriting."""
        return {k: getattr(self, k) for k in self.model_fields_set}


class UserPut(Strict):
    name: Name | None = None
    email: Contacts = None
    phone: Contacts = None
    photoUrl: Url | None = None
    role: Short | None = None
    configuration: Short | None = None  # the old name of role
    locale: Short | None = None
    welcomeMessage: Text | None = None
    availabilityText: Short | None = None
    custom: CustomPatch = None
    pushTokens: dict[str, bool | None] | None = None


class ConversationPut(Strict):
    participants: Annotated[list[Id], Field(max_length=L.MAX_PARTICIPANTS_PER_PUT)] | None = None
    subject: Text | None = None
    photoUrl: Url | None = None
    welcomeMessages: Annotated[list[Text], Field(max_length=L.MAX_WELCOME_MESSAGES)] | None = None
    custom: CustomPatch = None
    guestAccess: Literal["ReadWrite", "Read", "None"] | None = None


class ParticipantPut(Strict):
    access: Literal["ReadWrite", "Read"] = "ReadWrite"
    notify: Notify = True


class ParticipantPatch(Strict):
    access: Literal["ReadWrite", "Read", "None"] | None = None
    notify: Notify | None = None


IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=L.MAX_SHORT), AfterValidator(_storable_text)
]
#: Message text: 1-10,000 characters.
MessageText = Annotated[
    str, StringConstraints(min_length=1, max_length=L.MAX_TEXT), AfterValidator(_storable_text)
]


class UserMessageIn(Strict):
    type: Literal["UserMessage"]
    sender: Id
    text: MessageText
    custom: Custom = Field(default_factory=dict)
    referencedMessageId: Short | None = None
    idempotencyKey: IdempotencyKey | None = None


class SystemMessageIn(Strict):
    type: Literal["SystemMessage"]
    text: MessageText
    custom: Custom = Field(default_factory=dict)
    referencedMessageId: Short | None = None
    idempotencyKey: IdempotencyKey | None = None


MessageIn = Annotated[UserMessageIn | SystemMessageIn, Field(discriminator="type")]
MessagesIn = Annotated[list[MessageIn], Field(min_length=1, max_length=L.MAX_MESSAGES_PER_POST)]


class MessageEdit(Strict):
    text: MessageText | None = None
    custom: Custom | None = None


class SettingsPatch(Strict):
    allowUserSyncViaBrowser: bool | None = None
    allowConversationSyncViaBrowser: bool | None = None
    identityVerification: bool | None = None
    participantLimit: Annotated[int, Field(ge=1, le=L.MAX_PARTICIPANT_LIMIT)] | None = None
    notificationDelaySeconds: Annotated[int, Field(ge=0, le=L.MAX_NOTIFICATION_DELAY)] | None = None
    moderatorRoles: (
        Annotated[
            list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
            Field(max_length=20),
        ]
        | None
    ) = None


UsersBatchPut = Annotated[dict[Id, UserPut], Field(max_length=L.MAX_USERS_PER_BATCH_PUT)]

BatchOp = Annotated[
    list[Any], Field(min_length=3, max_length=5), AfterValidator(_all_storable)
]
BatchIn = Annotated[list[BatchOp], Field(min_length=1, max_length=L.MAX_BATCH_OPERATIONS)]

_adapters: dict[Any, TypeAdapter[Any]] = {}


def reasons_of(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        out.append(f"{where}: {msg}" if where else msg)
    return out


def parse(schema: Any, data: Any) -> Any:
    """Validate ``data`` against ``schema`` or raise one INVALID_REQUEST with every reason."""
    adapter = _adapters.get(schema)
    if adapter is None:
        adapter = _adapters[schema] = TypeAdapter(schema)
    found = unstorable_at(data)
    if found:
        raise InvalidRequest(f"{found}: {UNSTORABLE_RULE}")
    try:
        return adapter.validate_python(data, strict=True)
    except ValidationError as exc:
        raise InvalidRequest(*reasons_of(exc)) from None


class RestrictionPut(Strict):
    """A ban or mute; without ``durationSeconds`` it holds until lifted."""

    durationSeconds: Annotated[int, Field(ge=1, le=365 * 24 * 3600)] | None = None
    reason: Short | None = None


class KickIn(Strict):
    reason: Short | None = None


class InviteIn(Strict):
    access: Literal["ReadWrite", "Read"] = "ReadWrite"
    expiresInSeconds: Annotated[int, Field(ge=1, le=365 * 24 * 3600)] = 24 * 3600
