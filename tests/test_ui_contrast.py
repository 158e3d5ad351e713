"""The chat UI's fixed colours and limits, read from its source: every sender-name and initials
colour has at least 4.5:1 contrast with white (WCAG 2.1 AA, normal text), both as text on the
white bubble and behind the white initials; the composer's limit is the server's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chinwag.domain import limits

SDK = Path(__file__).resolve().parent.parent / "src" / "chinwag" / "static" / "sdk"


def luminance(colour: str) -> float:
    """Relative luminance (WCAG 2.1) of a ``#rrggbb`` colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def palette() -> list[str]:
    source = (SDK / "ui" / "format.js").read_text(encoding="utf-8")
    found = re.search(r"export const PALETTE = \[([^\]]*)\]", source)
    assert found, "format.js no longer exports PALETTE"
    return re.findall(r'"(#[0-9a-fA-F]{6})"', found.group(1))


def test_the_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#f59e0b", "#ffffff") == pytest.approx(2.15, abs=0.01)  # the old amber


@pytest.mark.parametrize("colour", palette())
def test_every_sender_colour_reads_on_white_and_under_white_initials(colour: str) -> None:
    assert contrast(colour, "#ffffff") >= 4.5


def test_the_palette_has_eight_distinct_colours() -> None:
    assert len(set(palette())) == 8


def test_the_composer_limit_is_the_servers() -> None:
    source = (SDK / "feed.js").read_text(encoding="utf-8")
    found = re.search(r"export const MAX_TEXT = (\d+);", source)
    assert found and int(found.group(1)) == limits.MAX_TEXT
