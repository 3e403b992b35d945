"""A model card (README.md) as the model page shows it: its markdown body as sanitised HTML, its tags, its metadata.

Cards are hostile: anybody who can push to a repo writes one, and everybody who opens the model page renders it.
The body is rendered by markdown-it-py with raw HTML allowed (real cards use ``<img>``, ``<br>``, ``<details>``),
then *everything* goes through nh3 (the Ammonia sanitiser) with an explicit allow-list: a few text, list, table and
link tags; no scripts, styles, frames, forms, SVG or MathML (their content is dropped too, not shown as text); no
``style``, ``id`` or event attributes; links and images only to http, https, mailto or relative URLs, and every
link gets ``rel="noopener noreferrer nofollow"``. The pages' Content-Security-Policy is the second line of defence,
not a reason to be lax here.

Rendering is bounded as well, so that one pushed card cannot make every page view expensive: the metadata is read
by the project's bounded YAML reader (:func:`huggingface_sb3.card_metadata.read_metadata`), the markdown body is cut
at :data:`MAX_MARKDOWN_BYTES` (with a visible note), markdown nesting stops at :data:`MAX_NESTING` levels (so deep
``>`` or list nesting costs linear time, without recursion), and raw HTML may hold at most :data:`MAX_RAW_HTML_TAGS`
tags (the HTML parser's cost grows with nesting depth times the number of tags); the rest is shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..card_metadata import MetadataError, MetadataLimits, read_metadata, repo_tags, split_readme

MAX_MARKDOWN_BYTES = 64 * 1024
"""The most bytes (UTF-8) of markdown body rendered, as much as the YAML block may hold: far above real cards
(a few kB), while pure-Python markdown parsing of hostile input (e.g. repeated ``![``) costs up to ~20 µs a byte,
about 1.4 s at this bound, once per README (the page caches it)."""

MAX_NESTING = 20
"""markdown-it-py's ``maxNesting``: deeper block quotes, lists or inline markup are not nested further."""

MAX_RAW_HTML_TAGS = 2000
"""The most raw HTML tags (``<`` then a letter or ``/``) the body may hold; later raw HTML is escaped as text."""

MAX_TAGS = 50
"""The most tags a card view lists."""

MAX_TAG_CHARS = 100
"""Longer tags are left out of the view."""

TRUNCATED_NOTE = "(card truncated)"
"""Shown after the body when it was cut at :data:`MAX_MARKDOWN_BYTES`."""

ALLOWED_TAGS = frozenset(
    {
        *(f"h{level}" for level in range(1, 7)),
        *("p", "a", "img", "ul", "ol", "li", "code", "pre", "blockquote", "em", "strong", "del"),
        *("table", "thead", "tbody", "tr", "th", "td", "hr", "br", "details", "summary", "sup", "sub", "kbd"),
        "video",  # cards embed their replay (this library's and 3.0's do); CSP lets it load from this Hub only
    }
)
"""The HTML elements a card may use; any other element is removed (its text kept, unless it is in
:data:`DROPPED_CONTENT_TAGS`)."""

_VIDEO_PLAYBACK = {"controls": "", "autoplay": "", "muted": "", "loop": "", "playsinline": "", "preload": "auto"}
"""How every card video plays, whatever the card says: with controls, muted (so browsers allow autoplay), looping."""

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "code": {"class"},
    "video": {"src", "width", "height"},
}
"""The attributes kept, per element; ``code``'s ``class`` only as a single ``language-…`` name."""

DROPPED_CONTENT_TAGS = frozenset(
    {
        *("script", "style", "template", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet"),
        *("svg", "math", "form", "textarea", "select", "title", "xmp", "noembed", "noframes"),
    }
)
"""Elements removed with everything in them: their content is code, or text that only makes sense inside them."""

URL_SCHEMES = frozenset({"http", "https", "mailto"})
"""The URL schemes links and images may use, besides relative URLs."""

LINK_REL = "noopener noreferrer nofollow"

_LANGUAGE_CLASS_RE = re.compile(r"language-[A-Za-z0-9_+#.-]{1,64}")
_RAW_TAG_RE = re.compile(r"<[A-Za-z/]")

_MARKDOWN = (
    MarkdownIt("commonmark", {"html": True, "linkify": False, "maxNesting": MAX_NESTING})
    .enable("table")
    .enable("strikethrough")
)


@dataclass(frozen=True)
class CardView:
    """What the model page shows of a card.

    Attributes:
        html: the markdown body (without the YAML block) rendered and sanitised, safe to put in a page.
        tags: the tags the Hub shows for the card (its string ``tags``, library and license), at most
            :data:`MAX_TAGS` of at most :data:`MAX_TAG_CHARS` characters.
        metadata: the parsed YAML metadata; ``{}`` when the card has none or it cannot be read.
        metadata_error: why the metadata could not be read, or None.
    """

    html: str
    tags: tuple[str, ...]
    metadata: dict[str, Any]
    metadata_error: str | None


@dataclass(frozen=True)
class CardLinks:
    """Where a card's relative links point, as on the Hub: images and videos to the repo's files (``resolve``), other
    links to the file pages (``blob``), at one revision. An absolute link to the repo's own files on any host
    becomes a path on this one (a card written for another endpoint still shows its replay)."""

    repo_id: str
    revision: str

    def rewrite(self, element: str, attribute: str, value: str) -> str:
        """The URL ``value`` of ``element``'s ``attribute``, pointed at this repo when it is relative."""
        parts = urlsplit(value)
        if parts.scheme or parts.netloc:
            own = f"/{self.repo_id}/resolve/"
            if attribute == "src" and parts.path.startswith(own):
                return parts.path + (f"?{parts.query}" if parts.query else "")
            return value
        if not parts.path or parts.path.startswith("/") or ".." in parts.path.split("/"):
            return value
        kind = "resolve" if attribute == "src" else "blob"
        return f"/{self.repo_id}/{kind}/{quote(self.revision, safe='')}/{parts.path}" + (
            f"#{parts.fragment}" if parts.fragment else ""
        )


def card_view(readme: str, limits: MetadataLimits, links: CardLinks | None = None) -> CardView:
    """The view of ``readme`` (untrusted text): its body rendered and sanitised, its tags and metadata.

    Metadata that cannot be read (broken, too big, an alias bomb) gives ``metadata={}`` and ``metadata_error``;
    the body is rendered either way. With ``links``, relative URLs point at the repo's files.
    """
    try:
        metadata = read_metadata(readme, limits)
        error = None
    except MetadataError as exc:
        metadata, error = {}, str(exc)
    _, body = split_readme(readme)
    html = render_markdown(body, links)
    return CardView(html=html, tags=_tags(metadata), metadata=metadata, metadata_error=error)


def render_markdown(markdown: str, links: CardLinks | None = None) -> str:
    """``markdown`` (untrusted) as sanitised HTML, cut at :data:`MAX_MARKDOWN_BYTES` with a visible note; with
    ``links``, relative URLs point at the repo's files."""
    encoded = markdown.encode("utf-8", "replace")
    truncated = len(encoded) > MAX_MARKDOWN_BYTES
    markdown = encoded[:MAX_MARKDOWN_BYTES].decode("utf-8", "ignore")
    env: dict[str, Any] = {}
    tokens = _MARKDOWN.parse(markdown, env)
    _prepare(tokens)
    html = _sanitise(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env), links)
    if truncated:
        html += f"<p><em>{TRUNCATED_NOTE}</em></p>\n"
    return html


def _prepare(tokens: list[Token]) -> None:
    """Turn table alignment into ``align`` attributes (``style`` is not allowed) and escape raw HTML past the
    :data:`MAX_RAW_HTML_TAGS` budget."""
    budget = MAX_RAW_HTML_TAGS
    for token in _all_tokens(tokens):
        if token.type in ("th_open", "td_open"):
            style = str(token.attrs.get("style", ""))
            token.attrs = {"align": style.removeprefix("text-align:")} if style.startswith("text-align:") else {}
        elif token.type in ("html_block", "html_inline"):
            budget -= len(_RAW_TAG_RE.findall(token.content))
            if budget < 0:
                token.type = "text"


def _all_tokens(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from token.children or ()


def _sanitise(html: str, links: CardLinks | None) -> str:
    def keep(element: str, attribute: str, value: str) -> str | None:
        if element == "code" and attribute == "class":
            return value if _LANGUAGE_CLASS_RE.fullmatch(value) else None
        if links is not None and attribute in ("src", "href"):
            return links.rewrite(element, attribute, value)
        return value

    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_CONTENT_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=keep,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes=set(URL_SCHEMES),
        set_tag_attribute_values={"video": _VIDEO_PLAYBACK},
    )


def _tags(metadata: dict[str, Any]) -> tuple[str, ...]:
    """The tags the Hub shows for the card (:func:`~huggingface_sb3.card_metadata.repo_tags`), bounded for a page."""
    tags = [tag for tag in repo_tags(metadata) if tag.strip() and len(tag) <= MAX_TAG_CHARS]
    return tuple(tags[:MAX_TAGS])
