"""The operator's dashboard login: one admin password, hashed with scrypt, signed session
cookies, and the sessions they name, kept in the database so that signing out ends one (a
copied cookie stops working too) on every node.

The hash and the cookie-signing key live in ``DATA_DIR/admin.json`` (mode 0600). On first start a
random password is made and printed once; ``CHINWAG_ADMIN_PASSWORD`` sets it instead (and, when
it changes, replaces the stored one and signs everyone out).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field

from chinwag.clock import Clock, SystemClock
from chinwag.domain.ratelimit import RateLimiter
from chinwag.services.context import Context
from chinwag.storage import admin_sessions as store

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_SECONDS = 12 * 3600
COOKIE = "chinwag_admin"


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


@dataclass(frozen=True)
class Session:
    """A dashboard sign-in: its id (named by the cookie) and when it ends (ms)."""

    id: str
    expires_at: int


@dataclass
class Admin:
    """The admin credential of one server: checks passwords, issues and checks session cookies."""

    password_hash: str
    session_key: str
    clock: Clock
    #: Sign-in attempts per client address: 10 at once, then one every 6 seconds.
    attempts: RateLimiter = field(default_factory=lambda: RateLimiter(1 / 6, 10))

    def login(self, password: str, client: str = "") -> str | None:
        """A session cookie value if the password is right, else None; RATE_LIMITED when this
        client tried too often. The cookie names a new session id, signed with its expiry;
        the caller records the session server-side (:func:`open_session`)."""
        self.attempts.take(client, self.clock.now_ms(), "sign-in attempts")
        if not check_password(password, self.password_hash):
            return None
        session_id = secrets.token_urlsafe(18)
        expires = int(self.clock.now_ms() / 1000) + SESSION_SECONDS
        signed = f"{session_id}.{expires}"
        return f"{signed}.{self._sign(signed)}"

    def session_of(self, cookie: str | None) -> Session | None:
        """The session a cookie names, if this credential signed it and it has not expired
        (whether it was revoked is the database's to say: :func:`session_open`)."""
        parts = (cookie or "").split(".")
        if len(parts) != 3:
            return None
        session_id, expires, mac = parts
        if not expires.isdigit() or not hmac.compare_digest(
            mac, self._sign(f"{session_id}.{expires}")
        ):
            return None
        if int(expires) <= self.clock.now_ms() / 1000:
            return None
        return Session(session_id, int(expires) * 1000)

    def valid(self, cookie: str | None) -> bool:
        return self.session_of(cookie) is not None

    def csrf_token(self, cookie: str) -> str:
        return self._sign("csrf:" + cookie)

    def _sign(self, text: str) -> str:
        return hmac.new(bytes.fromhex(self.session_key), text.encode(), hashlib.sha256).hexdigest()


def prepare(
    path: str | None, password: str | None, clock: Clock | None = None
) -> tuple[Admin, str | None]:
    """Load (or create) the admin credential; return it and a new password to print, if made.

    ``path`` None keeps everything in memory (tests, embedded use).
    """
    clock = clock or SystemClock()
    stored: dict[str, str] = {}
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            stored = json.load(fh)
    new_password = None
    if password:
        if not stored or not check_password(password, stored.get("passwordHash", "")):
            stored = {"passwordHash": hash_password(password), "sessionKey": secrets.token_hex(32)}
    elif not stored:
        new_password = secrets.token_urlsafe(12)
        stored = {"passwordHash": hash_password(new_password), "sessionKey": secrets.token_hex(32)}
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(stored, fh)
    return Admin(stored["passwordHash"], stored["sessionKey"], clock), new_password


def open_session(ctx: Context, session: Session) -> None:
    """Record a sign-in, so that signing out (or a password reset) can end it on every node."""
    with ctx.write() as unit:
        store.forget_expired(unit.tx, unit.now)
        store.insert(unit.tx, session.id, unit.now, session.expires_at)


def session_open(ctx: Context, session: Session) -> bool:
    with ctx.read() as tx:
        return store.is_open(tx, session.id, ctx.clock.now_ms())


def close_session(ctx: Context, session: Session) -> None:
    """Sign out: the session's cookie is refused from now on, wherever it was copied."""
    with ctx.write() as unit:
        store.revoke(unit.tx, session.id, unit.now)
