"""Identifiers: the charset integrators may use, and the ids Chinwag mints itself."""

from __future__ import annotations

import re
import secrets
import string

from chinwag.errors import InvalidRequest

#: Ids chosen by integrators (users, conversations): 1-128 characters of letters, digits and
#: ``_ - . @ : ~ + = |``. No slash, whitespace or control characters, so every id is safe in a
#: URL path segment and in logs.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.@:~+=|-]{1,128}$")
ID_RULE = "1-128 characters of letters, digits and _-.@:~+=|"

_ALPHABET = string.ascii_letters + string.digits


def check_id(value: str, what: str) -> str:
    if not ID_PATTERN.match(value):
        raise InvalidRequest(
            f"{what} {value[:140]!r} is not a valid id ({ID_RULE})", code="INVALID_ID"
        )
    return value


def random_token(length: int) -> str:
    """``length`` random letters and digits (about 5.95 bits each), from the OS's CSPRNG.

    One draw of random bytes with at least 12 bits to spare, written in base 62: the spare bits
    keep every digit's bias negligible, at a fraction of the cost of one choice per letter.
    """
    number = int.from_bytes(secrets.token_bytes(length * 6 // 8 + 2), "big")
    out = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        out.append(_ALPHABET[digit])
    return "".join(out)


def new_message_id() -> str:
    return "msg_" + random_token(22)


def new_app_id() -> str:
    return "t" + random_token(8)


def new_secret_key() -> str:
    return "sk_live_" + random_token(32)


def new_conversation_id() -> str:
    """An unguessable conversation id: 128 random bits as 32 lowercase hex characters."""
    return secrets.token_hex(16)
