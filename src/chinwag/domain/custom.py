"""Custom maps (string to string) on users and conversations: how a PUT merges them."""

from __future__ import annotations

from chinwag.domain import limits as L
from chinwag.errors import InvalidRequest


def merge_custom(old: dict[str, str], patch: dict[str, str | None] | None) -> dict[str, str]:
    """Each key sent is set, a key sent as null is removed; ``None`` as a whole clears the map."""
    if patch is None:
        return {}
    merged = dict(old)
    for k, v in patch.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    if len(merged) > L.MAX_CUSTOM_KEYS:
        raise InvalidRequest(f"custom may hold at most {L.MAX_CUSTOM_KEYS} keys")
    return merged
