"""The dashboard's admin credential in its file, ``DATA_DIR/admin.json``, as the operator runs it:
``chinwag admin show`` and ``chinwag admin reset-password``, and a server that follows the file.

The file's format and the password rules belong to :mod:`chinwag.services.admin`; this module
only decides when to write it and when to read it again. Rules kept:

- The password is never stored, and printed once only, by the command that made it.
  :func:`status` says whether one is set and where, never the password or its hash.
- A reset signs everyone out: the new credential comes with a new cookie-signing key.
- A running server takes a reset at once, without a restart: :class:`FollowedAdmin` checks the
  file's stamp (one ``stat``) before each sign-in and each signed-in request, and reads the file
  again when it changed. A file it cannot read (half written, removed) leaves it with the
  credential it has.
- With ``CHINWAG_ADMIN_PASSWORD`` set, the variable is the password: the next start would put it
  back over a reset, so :func:`reset` refuses (the operator changes the variable instead).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chinwag.services import admin as admin_service
from chinwag.services.admin import Admin

FILE_NAME = "admin.json"


class ResetRefused(Exception):
    """The password is not the file's to change; the message says what to do instead."""


def path_in(data_dir: str) -> str:
    return os.path.join(data_dir, FILE_NAME)


@dataclass(frozen=True)
class Status:
    path: str
    is_set: bool
    changed: datetime | None
    from_environment: bool

    def lines(self) -> list[str]:
        out = [f"Dashboard admin credential (file): {os.path.abspath(self.path)}"]
        if self.is_set and self.changed is not None:
            when = self.changed.strftime("%Y-%m-%d %H:%M:%S UTC")
            out.append(f"  Password: set (stored as a hash; last changed {when})")
        else:
            out.append("  Password: not set (`chinwag serve` will make one and print it once)")
        if self.from_environment:
            out.append(
                "  CHINWAG_ADMIN_PASSWORD is set: `chinwag serve` makes it the password on start"
            )
        return out


def status(path: str, env_password: str | None) -> Status:
    """Where the credential is and whether one is set; reads nothing secret out."""
    try:
        with open(path, encoding="utf-8") as fh:
            stored = json.load(fh)
        is_set = bool(stored.get("passwordHash"))
        changed: datetime | None = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except (OSError, ValueError, AttributeError):
        is_set, changed = False, None
    return Status(path, is_set, changed, bool(env_password))


def reset(path: str, env_password: str | None) -> str:
    """A new random password, stored hashed with a new cookie key; returned to print once."""
    if env_password:
        raise ResetRefused(
            "the admin password comes from CHINWAG_ADMIN_PASSWORD: change that variable and "
            "restart the server instead"
        )
    password = secrets.token_urlsafe(12)
    admin_service.prepare(path, password)
    return password


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass
class FollowedAdmin(Admin):
    """The admin credential of a running server, read again from ``path`` when it changes."""

    path: str = ""
    _seen: tuple[int, int, int] | None = field(default=None, repr=False)

    @classmethod
    def follow(cls, admin: Admin, path: str) -> FollowedAdmin:
        seen = _stamp(path)
        return cls(admin.password_hash, admin.session_key, admin.clock, path=path, _seen=seen)

    def refresh(self) -> None:
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._seen:
            return
        try:
            with open(self.path, encoding="utf-8") as fh:
                stored = json.load(fh)
            password_hash, session_key = stored["passwordHash"], stored["sessionKey"]
            bytes.fromhex(session_key)
        except (OSError, ValueError, KeyError, TypeError):
            return  # being written, or broken: keep what we have, look again next time
        self.password_hash, self.session_key, self._seen = password_hash, session_key, stamp

    def login(self, password: str, client: str = "") -> str | None:
        self.refresh()
        return super().login(password, client)

    def valid(self, cookie: str | None) -> bool:
        self.refresh()
        return super().valid(cookie)

    def csrf_token(self, cookie: str) -> str:
        self.refresh()
        return super().csrf_token(cookie)
