"""The server's log: plain text for a terminal, or one JSON object a line for a log pipeline.

``CHINWAG_LOG_FORMAT=json`` (docs/settings.md) selects JSON. Rules kept:

- One line per record, always: a JSON record is ``json.dumps`` of a flat object (``ts`` in UTC
  ISO 8601 with milliseconds, ``level``, ``logger``, ``msg``, then the record's fields), so a
  message or traceback with newlines stays on its line; a text record indents its traceback.
- Fields, not sentences: code logs ``log.info("http request", extra=fields(...))`` and the
  fields (``requestId``, ``sessionId``, ``status``...) become keys of the object.
- Nothing secret reaches the log. Callers never pass secret keys, tokens, signatures, passwords
  or message text; as a second line of defence every rendered line has bearer tokens and the
  values of ``signature``, ``token``, ``password``, ``secret`` and ``key`` parameters masked.
- uvicorn's own loggers go through the same handler; its access log is off, because
  :mod:`chinwag.web.access_log` logs each request once, with its id and without its query.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any, TextIO

FORMATS = ("text", "json")
#: The attributes every LogRecord has; anything else on a record is a field.
#: (uvicorn's ``color_message`` is its message with terminal colours: not a field.)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_SECRETS = re.compile(
    r"(?i)(bearer\s+)[^\s\"',;]+"
    r"|((?:signature|token|password|secret|secret_key|key)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;}]+"
)


def mask(text: str) -> str:
    """``text`` with bearer tokens and secret-looking parameter values replaced."""
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "[masked]", text)


def fields(**values: Any) -> dict[str, Any]:
    """``extra=`` for a log call: the fields, without the ones that are None."""
    return {k: v for k, v in values.items() if v is not None}


def _fields_of(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        out: dict[str, Any] = {
            "ts": f"{ts}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _fields_of(record).items():
            out.setdefault(key, value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return mask(json.dumps(out, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = _fields_of(record)
        if extra:
            first, sep, rest = line.partition("\n")
            pairs = " ".join(f"{k}={v}" for k, v in extra.items())
            line = f"{first} {pairs}{sep}{rest}"
        return mask(line)


def configure(level: str = "info", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Send every log record (Chinwag's and uvicorn's) to ``stream`` (stderr) in ``fmt``.

    As :func:`logging.basicConfig` does, it leaves a process whose logging someone else set up
    (a test runner, an application embedding Chinwag) as it is; it replaces only a handler it
    installed itself."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "chinwag", False)]:
        root.removeHandler(old)
    if root.handlers:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.chinwag = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        uv = logging.getLogger(name)
        uv.handlers.clear()
        uv.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
