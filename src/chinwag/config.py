"""The server's one settings module: every option, its flag, its environment variable, its default.

Read once at start (:func:`load`), validated, then passed down. ``docs/settings.md`` lists every
entry of :data:`OPTIONS`; a test keeps the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

#: name -> (environment variable, default, help). The CLI flag is ``--name-with-dashes``.
OPTIONS: dict[str, tuple[str, str | None, str]] = {
    "host": ("CHINWAG_HOST", "127.0.0.1", "Address to listen on."),
    "port": ("CHINWAG_PORT", "8000", "Port to listen on."),
    "data_dir": ("CHINWAG_DATA_DIR", "./var", "Directory for the SQLite database and other state."),
    "database_url": (
        "CHINWAG_DATABASE_URL",
        None,
        "sqlite:///path or postgresql://...; default: SQLite at DATA_DIR/chinwag.db.",
    ),
    "broker_url": ("CHINWAG_BROKER_URL", "memory://", "memory:// (one process) or redis://..."),
    "app_id": (
        "CHINWAG_APP_ID",
        None,
        "With CHINWAG_SECRET_KEY: make sure this app exists at start.",
    ),
    "secret_key": ("CHINWAG_SECRET_KEY", None, "The secret key of CHINWAG_APP_ID."),
    "public_url": (
        "CHINWAG_PUBLIC_URL",
        None,
        "The URL clients reach this server at (for printed links); default http://HOST:PORT.",
    ),
    "log_level": ("CHINWAG_LOG_LEVEL", "info", "debug, info, warning or error."),
}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "./var"
    database_url: str = ""
    broker_url: str = "memory://"
    app_id: str | None = None
    secret_key: str | None = None
    public_url: str = ""
    log_level: str = "info"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def load(
    overrides: Mapping[str, str | None] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Flags (``overrides``) win over environment variables, which win over defaults."""
    env = os.environ if environ is None else environ
    raw: dict[str, str | None] = {}
    for name, (var, default, _help) in OPTIONS.items():
        value = (overrides or {}).get(name)
        raw[name] = value if value is not None else env.get(var, default)
    reasons = []
    try:
        port = int(raw["port"] or "")
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        reasons.append(f"port must be a number from 0 to 65535, not {raw['port']!r}")
        port = 0
    data_dir = raw["data_dir"] or "./var"
    database_url = raw["database_url"] or f"sqlite:///{os.path.join(data_dir, 'chinwag.db')}"
    if urlparse(database_url).scheme not in ("sqlite", "postgresql", "postgres"):
        reasons.append("database URL must start with sqlite:/// or postgresql://")
    broker_url = raw["broker_url"] or "memory://"
    if urlparse(broker_url).scheme not in ("memory", "redis", "rediss"):
        reasons.append("broker URL must be memory:// or redis://...")
    if bool(raw["app_id"]) != bool(raw["secret_key"]):
        reasons.append("set CHINWAG_APP_ID and CHINWAG_SECRET_KEY together")
    level = (raw["log_level"] or "info").lower()
    if level not in ("debug", "info", "warning", "error"):
        reasons.append(f"log level must be debug, info, warning or error, not {level!r}")
    if reasons:
        raise ConfigError("; ".join(reasons))
    return Config(
        host=raw["host"] or "127.0.0.1",
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        broker_url=broker_url,
        app_id=raw["app_id"],
        secret_key=raw["secret_key"],
        public_url=(raw["public_url"] or "").rstrip("/"),
        log_level=level,
    )
