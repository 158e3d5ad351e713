"""Identifiers Chinwag mints: shape, charset, and no repeats."""

from __future__ import annotations

import collections
import re

import pytest

from chinwag import ids


@pytest.mark.parametrize("length", [1, 4, 8, 22, 32])
def test_random_token_shape(length):
    tokens = {ids.random_token(length) for _ in range(2000)}
    assert all(re.fullmatch(rf"[A-Za-z0-9]{{{length}}}", t) for t in tokens)
    if length >= 8:
        assert len(tokens) == 2000


def test_random_token_uses_every_character_evenly():
    counts = collections.Counter(ch for _ in range(5000) for ch in ids.random_token(22))
    expected = 5000 * 22 / 62
    assert len(counts) == 62
    assert all(abs(n - expected) < expected * 0.2 for n in counts.values())


def test_minted_ids():
    assert re.fullmatch(r"msg_[A-Za-z0-9]{22}", ids.new_message_id())
    assert re.fullmatch(r"sk_live_[A-Za-z0-9]{32}", ids.new_secret_key())
    assert re.fullmatch(r"[0-9a-f]{32}", ids.new_conversation_id())
    assert ids.ID_PATTERN.match(ids.new_app_id())
