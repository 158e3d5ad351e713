"""docs/protocol.md stays true: every path, pushed event type and close code is listed."""

from __future__ import annotations

from pathlib import Path

from chinwag.realtime import protocol, routes, wire
from chinwag.services.events import EVENT_TYPES

TEXT = (Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text()
NOT_PUSHED = {"settings.updated", *wire.NOT_FOR_SESSIONS, *wire.FOR_HUBS_ONLY}
REALTIME_ONLY = {"resync", "subscription.ended"}


def test_every_path_is_documented() -> None:
    missing = [(m, p) for m, p in routes.paths() if f"| {m} | `{p}` |" not in TEXT]
    assert not missing, f"add these paths to docs/protocol.md: {missing}"


def test_every_event_type_is_documented() -> None:
    missing = [t for t in (*EVENT_TYPES, *REALTIME_ONLY) if f"`{t}`" not in TEXT]
    assert not missing, f"add these event types to docs/protocol.md: {missing}"
    pushed = [t for t in EVENT_TYPES if t not in NOT_PUSHED]
    missing_rows = [t for t in pushed if f"| `{t}` |" not in TEXT]
    assert not missing_rows, f"add rows to the events table: {missing_rows}"


def test_every_close_code_is_documented() -> None:
    missing = [c for c in protocol.CLOSE_CODES if f"| {c} |" not in TEXT]
    assert not missing, f"add these close codes to docs/protocol.md: {missing}"
