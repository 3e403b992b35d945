"""Routing on the raw request path.

The Hub client quotes revisions with ``safe=""`` (``refs/pr/1`` arrives as ``refs%2Fpr%2F1``), and servers
decode ``%2F`` before routing, which would split a revision into several segments. So routes are matched on
``scope["raw_path"]`` split at literal slashes, each segment percent-decoded on its own.

A pattern is a slash-separated template: ``literal``, ``{name}`` (one segment), ``{name}.git`` (one segment
ending in ``.git``, captured without it) and a final ``{name...}`` (the rest of the path, possibly empty).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

from ._errors import HubError, bad_request

if TYPE_CHECKING:
    from starlette.responses import Response

    from ._call import Call

SyncBodyKind = Literal["none", "json", "form", "spool"]
BodyKind = SyncBodyKind | Literal["stream"]
SyncHandler = Callable[["Call"], "Response"]
AsyncHandler = Callable[["Call"], Awaitable["Response"]]
Handler = SyncHandler | AsyncHandler


@dataclass(frozen=True)
class SyncRoute:
    """A synchronous handler for some methods on a path pattern, and how its request body is read before it runs
    in a worker thread.

    ``body`` is ``none``, ``json`` (a JSON object), ``form`` (URL-encoded) or ``spool`` (copied to a temporary
    file).
    """

    methods: frozenset[str]
    pattern: tuple[str, ...]
    handler: SyncHandler
    body: SyncBodyKind = "none"


@dataclass(frozen=True)
class StreamRoute:
    """An async handler for some methods on a path pattern; it reads the request body itself (``body`` is
    ``stream``)."""

    methods: frozenset[str]
    pattern: tuple[str, ...]
    handler: AsyncHandler
    body: Literal["stream"] = "stream"


Route = SyncRoute | StreamRoute


def _split_pattern(pattern: str) -> tuple[str, ...]:
    stripped = pattern.strip("/")
    return tuple(stripped.split("/")) if stripped else ()  # "" is the root, "/"


def route(methods: str, pattern: str, handler: SyncHandler, body: SyncBodyKind = "none") -> SyncRoute:
    """Build a :class:`SyncRoute` from ``"GET HEAD"``-style methods and a slash-separated pattern."""
    return SyncRoute(frozenset(methods.split()), _split_pattern(pattern), handler, body)


def stream_route(methods: str, pattern: str, handler: AsyncHandler) -> StreamRoute:
    """Build a :class:`StreamRoute` from ``"GET HEAD"``-style methods and a slash-separated pattern."""
    return StreamRoute(frozenset(methods.split()), _split_pattern(pattern), handler)


def split_raw_path(raw_path: bytes) -> list[str]:
    """Percent-decode each slash-separated segment of a raw request path."""
    text = raw_path.decode("latin-1").split("?", 1)[0].lstrip("/")
    try:
        return [unquote(segment, errors="strict") for segment in text.split("/")] if text else []
    except UnicodeDecodeError:
        raise bad_request("The request path is not valid percent-encoded UTF-8.") from None


def _match(pattern: Sequence[str], segments: Sequence[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, template in enumerate(pattern):
        if template.endswith("...}"):
            params[template[1:-4]] = "/".join(segments[index:])
            return params
        if index >= len(segments):
            return None
        segment = segments[index]
        if template.startswith("{") and template.endswith("}.git"):
            if not segment.endswith(".git") or len(segment) == 4:
                return None
            params[template[1:-5]] = segment[:-4]
        elif template.startswith("{"):
            if not segment:
                return None
            params[template[1:-1]] = segment
        elif template != segment:
            return None
    return params if len(pattern) == len(segments) else None


def find_route(routes: Sequence[Route], method: str, segments: Sequence[str]) -> tuple[Route, dict[str, str]]:
    """The first route whose pattern matches; 405 if only other methods match, 404 if none does."""
    allowed: set[str] = set()
    for candidate in routes:
        params = _match(candidate.pattern, segments)
        if params is None:
            continue
        if method in candidate.methods:
            return candidate, params
        allowed |= candidate.methods
    if allowed:
        raise HubError(405, f"Method {method} not allowed here; use {', '.join(sorted(allowed))}.")
    raise HubError(404, f"Not found: /{'/'.join(segments)} is not an endpoint of the local Hub.")
