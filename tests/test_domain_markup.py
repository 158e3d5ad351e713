"""The message markup parser (domain/markup.py) as a table of texts and trees, hostile ones
included."""

from __future__ import annotations

from typing import Any

import pytest

from chinwag.domain.markup import content, mentions


def children(text: str) -> list[Any]:
    [block] = content(text)
    assert block["type"] == "text"
    result: list[Any] = block["children"]
    return result


def b(*c: Any) -> dict[str, Any]:
    return {"type": "bold", "children": list(c)}


def i(*c: Any) -> dict[str, Any]:
    return {"type": "italic", "children": list(c)}


def s(*c: Any) -> dict[str, Any]:
    return {"type": "strikethrough", "children": list(c)}


def auto(url: str) -> dict[str, Any]:
    return {"type": "autoLink", "url": url, "text": url}


CASES: list[tuple[str, list[Any]]] = [
    ("", []),
    ("just text", ["just text"]),
    ("*bold*", [b("bold")]),
    ("a *bold* word", ["a ", b("bold"), " word"]),
    ("_it_ and ~gone~", [i("it"), " and ", s("gone")]),
    ("*bold _and italic_*", [b("bold ", i("and italic"))]),
    ("`*not bold*`", [{"type": "codeSpan", "text": "*not bold*"}]),
    ("snake_case_name", ["snake_case_name"]),
    ("2*3*4", ["2*3*4"]),
    ("* not bold*", ["* not bold*"]),
    ("*unclosed", ["*unclosed"]),
    ("**", ["**"]),
    ("*line\nbreak*", ["*line\nbreak*"]),
    ("see https://example.com/a_b_c.", ["see ", auto("https://example.com/a_b_c"), "."]),
    ("(https://x.example/p)", ["(", auto("https://x.example/p"), ")"]),
    (
        "<https://example.com|the *site*>",
        [{"type": "link", "url": "https://example.com", "children": ["the ", b("site")]}],
    ),
    ("<mailto:a@example.com>", [auto("mailto:a@example.com")]),
    ("<javascript:alert(1)|click>", ["<javascript:alert(1)|click>"]),
    ("<JavaScript:alert(1)>", ["<JavaScript:alert(1)>"]),
    ("<data:text/html,x|x>", ["<data:text/html,x|x>"]),
    ("javascript:alert(1)", ["javascript:alert(1)"]),
    ("<b>not html</b>", ["<b>not html</b>"]),
    (
        "<https://a.example|<https://b.example|x>>",
        [
            "<",
            auto("https://a.example"),
            "|",
            {"type": "link", "url": "https://b.example", "children": ["x"]},
            ">",
        ],
    ),
    ("hi <@sebastian>!", ["hi ", {"type": "mention", "id": "sebastian", "text": "sebastian"}, "!"]),
    ("<@has space>", ["<@has space>"]),
    (
        "list:\n- one\n- *two*\nafter",
        [
            "list:\n",
            {
                "type": "bulletList",
                "children": [
                    {"type": "bulletPoint", "children": ["one"]},
                    {"type": "bulletPoint", "children": [b("two")]},
                ],
            },
            "after",
        ],
    ),
]


@pytest.mark.parametrize(("text", "tree"), CASES)
def test_markup(text: str, tree: list[Any]) -> None:
    assert children(text) == tree


def test_the_tree_is_made_of_strings_and_known_nodes_only() -> None:
    kinds = {
        "bold",
        "italic",
        "strikethrough",
        "codeSpan",
        "link",
        "autoLink",
        "mention",
        "bulletList",
        "bulletPoint",
    }

    def walk(nodes: list[Any]) -> None:
        for node in nodes:
            if isinstance(node, str):
                continue
            assert node["type"] in kinds
            if node["type"] in ("link", "autoLink"):
                assert node["url"].startswith(("http://", "https://", "mailto:"))
            walk(node.get("children", []))

    for text, _ in CASES:
        walk(children(text))


def test_a_long_hostile_line_stays_cheap() -> None:
    # Thousands of openers that never close, and deep nesting attempts.
    hostile = ("*a _b ~c `d <e " * 700)[:10_000]
    tree = children(hostile)  # (a quadratic blow-up would run into the suite's timeout)
    assert "".join(n for n in tree if isinstance(n, str)).startswith("*a _b ~c ")
    nested = "*_~" * 1000 + "x" + "~_*" * 1000
    assert children(nested)


def test_mentions() -> None:
    assert mentions("<@a> and <@b> and <@a> but not <@has space> or <@>") == ["a", "b"]
