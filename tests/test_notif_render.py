"""Messages in notification emails and SMS (notifications/render.py): the same content blocks
as every other path, as plain text and as escaped HTML (pure, no I/O)."""

from __future__ import annotations

import pytest

from chinwag.domain import markup
from chinwag.notifications.render import message_html, message_text

NAMES = {"rita": "Rita <R>"}


def message(text: str) -> dict[str, object]:
    return {"text": text, "content": markup.content(text)}


@pytest.mark.parametrize(
    ("text", "plain", "sms", "html"),
    [
        ("plain words", "plain words", "plain words", "plain words"),
        ("*b* _i_ ~s~", "b i s", "b i s", "<strong>b</strong> <em>i</em> <s>s</s>"),
        ("`<b>code</b>`", "<b>code</b>", "<b>code</b>", "<code>&lt;b&gt;code&lt;/b&gt;</code>"),
        (
            "hi <@rita>",
            "hi @Rita <R>",
            "hi @Rita <R>",
            "hi <strong>@Rita &lt;R&gt;</strong>",
        ),
        ("<@nobody>", "@nobody", "@nobody", "<strong>@nobody</strong>"),
        (
            "<https://e.com/a|docs>",
            "docs (https://e.com/a)",
            "docs",
            '<a href="https://e.com/a" rel="noopener noreferrer">docs</a>',
        ),
        (
            "see https://e.com/?a=1&b=2",
            "see https://e.com/?a=1&b=2",
            "see https://e.com/?a=1&b=2",
            'see <a href="https://e.com/?a=1&amp;b=2" rel="noopener noreferrer">'
            "https://e.com/?a=1&amp;b=2</a>",
        ),
        ("- one\n- two", "• one\n• two", "• one\n• two", "<ul><li>one</li><li>two</li></ul>"),
        (
            '"quoted" & <tag>',
            '"quoted" & <tag>',
            '"quoted" & <tag>',
            "&quot;quoted&quot; &amp; &lt;tag&gt;",
        ),
    ],
)
def test_a_message_as_text_sms_and_html(text: str, plain: str, sms: str, html: str) -> None:
    m = message(text)
    assert message_text(m, NAMES) == plain
    assert message_text(m, NAMES, links=False) == sms
    assert message_html(m, NAMES) == html


def test_a_delivery_stored_before_content_shows_its_text() -> None:
    old = {"text": "*as typed* <b>"}
    assert message_text(old, {}) == "*as typed* <b>"
    assert message_html(old, {}) == "*as typed* &lt;b&gt;"
