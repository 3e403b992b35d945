"""Reading request bodies within bounds: their size, the shape of JSON (nesting depth and number of values),
the memory anonymous callers may hold at once, and a bounded drain of refused bodies.

JSON is checked before ``json.loads`` builds anything, because parsed JSON takes up to 25 times the memory of
its text (``[{},{},...]``) and deep nesting exhausts the recursion limit. Large bodies are parsed in a worker
thread, one at a time: parsing holds the GIL, and several parses at once would crowd the event loop out of it.
A body's bytes are released as soon as they are decoded, and after a large body the freed memory is handed
back to the system (glibc keeps it in per-thread heaps otherwise, and repeated bodies would pile it up).
"""

from __future__ import annotations

import ctypes
import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from json.decoder import scanstring  # type: ignore[attr-defined]  # undocumented, so typeshed leaves it out
from typing import Any, TypeVar
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive, Scope

from ._call import DRAIN_LIMIT
from ._errors import HubError, bad_request

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects in a JSON body; API bodies nest 4 levels deep at most."""
MAX_JSON_ITEMS = 200_000
"""Most values a JSON body may hold (counted as its ``[``, ``{``, ``,`` and ``:``), and most fields of a form
body. A ``preupload`` of 10,000 files, the largest the local Hub accepts, holds about 70,000."""
INLINE_PARSE_BYTES = 64 * 1024
"""Bodies up to this size are parsed on the event loop; larger ones in a worker thread."""
_JSON_STRUCTURE = re.compile(r'[\[\]{},:"]')
_LARGE_PARSES = threading.Lock()
Parsed = TypeVar("Parsed")


def declared_length(headers: Headers) -> int | None:
    """The body size the ``Content-Length`` header announces, None when there is none (chunked)."""
    declared = headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


async def iter_body(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body chunk by chunk; 413 once it exceeds ``limit`` bytes.

    The rest of an oversized body is read and discarded (up to ``DRAIN_LIMIT``) before answering, because
    clients send the whole body before reading the response and would otherwise see a reset connection
    instead of the 413.
    """
    declared = declared_length(request.headers)
    if declared is not None and declared > max(limit, DRAIN_LIMIT):
        raise HubError(413, f"Request body too large: {declared} bytes, the limit is {limit}.")
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received <= limit:
            yield chunk
        elif received > DRAIN_LIMIT:
            break
    if received > limit:
        raise HubError(413, f"Request body too large: more than {limit} bytes, the limit is {limit}.")


async def read_body(request: Request, limit: int) -> bytearray:
    """The whole (small) request body; 413 beyond ``limit`` bytes.

    When its size is announced, the buffer is allocated once at that size: growing several large buffers at
    the same time fragments the heap, which then keeps the memory after they are freed. (Anonymous callers
    reserve that size in their shared budget first; see ``ByteBudget``.)
    """
    declared = declared_length(request.headers)
    body = bytearray(min(declared, limit)) if declared is not None else bytearray()
    filled = 0
    async for chunk in iter_body(request, limit):
        body[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    del body[filled:]
    return body


async def parse_json_body(body: bytearray) -> dict[str, Any]:
    """The JSON object of a request body (``{}`` if empty): 400 if malformed, not an object or nested deeper
    than ``MAX_JSON_DEPTH``, 413 if it holds more than ``MAX_JSON_ITEMS`` values. Empties ``body``."""
    return await _parse(_parse_json, body)


async def parse_form_body(body: bytearray) -> dict[str, list[str]]:
    """The fields of a URL-encoded form body; 413 if it has more than ``MAX_JSON_ITEMS`` fields. Empties
    ``body``."""
    return await _parse(_parse_form, body)


async def _parse(parse: Callable[[bytearray], Parsed], body: bytearray) -> Parsed:
    """``parse(body)`` on the event loop for a small body; for a large one in a worker thread, one at a time."""
    if len(body) <= INLINE_PARSE_BYTES:
        return parse(body)
    return await run_in_threadpool(_one_at_a_time, parse, body)


def _one_at_a_time(parse: Callable[[bytearray], Parsed], body: bytearray) -> Parsed:
    with _LARGE_PARSES:
        try:
            return parse(body)
        except HubError as error:
            detached(error)
            raise
        finally:
            _return_freed_memory()


def detached(error: HubError) -> HubError:
    """The error without its traceback and the exceptions it replaced: their frames hold the request's body,
    and an error kept in a frame of its own traceback would keep them alive until the garbage collector runs."""
    error.__traceback__ = error.__context__ = error.__cause__ = None
    return error


def _find_malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, which hands freed heap memory back to the system; None on other C libraries."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):
        return None


_MALLOC_TRIM = _find_malloc_trim()


def _return_freed_memory() -> None:
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _decode(body: bytearray, errors: str = "strict") -> str:
    """The body as UTF-8 text; its bytes are freed (the text replaces them)."""
    try:
        return body.decode("utf-8", errors)
    finally:
        body.clear()


def _parse_json(body: bytearray) -> dict[str, Any]:
    try:
        text = _decode(body)
    except UnicodeDecodeError as error:
        raise bad_request(f"Malformed JSON body: it is not UTF-8 ({error}).") from None
    if not text.strip():
        return {}
    _check_json_shape(text)
    try:
        payload = json.loads(text)
    except ValueError as error:
        raise bad_request(f"Malformed JSON body: {error}.") from None
    if not isinstance(payload, dict):
        raise bad_request("The JSON body must be an object.")
    return payload


def _parse_form(body: bytearray) -> dict[str, list[str]]:
    try:
        return parse_qs(_decode(body, "replace"), max_num_fields=MAX_JSON_ITEMS)
    except ValueError:
        raise HubError(413, f"The form body has more than {MAX_JSON_ITEMS} fields: send fewer per request.") from None


def _check_json_shape(text: str) -> None:
    """Refuse JSON text nested deeper than ``MAX_JSON_DEPTH`` (400) or holding more than ``MAX_JSON_ITEMS``
    values (413), in time linear in its length and without building it.

    Strings are skipped with the ``json`` module's own scanner, so brackets inside them do not count. Up to
    the first syntax error the count is exact; past it the text is refused as malformed anyway.
    """
    depth = items = position = 0
    while match := _JSON_STRUCTURE.search(text, position):
        char, position = match.group(), match.end()
        if char == '"':
            position = _string_end(text, position)
        elif char in "]}":
            depth -= 1
        else:
            items += 1
            if items > MAX_JSON_ITEMS:
                raise HubError(413, f"The JSON body holds more than {MAX_JSON_ITEMS} values: send fewer per request.")
            depth += char in "[{"
            if depth > MAX_JSON_DEPTH:
                raise bad_request(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")


def _string_end(text: str, start: int) -> int:
    """Where the JSON string whose content begins at ``start`` ends; 400 if it does not."""
    try:
        return scanstring(text, start)[1]
    except ValueError as error:
        raise bad_request(f"Malformed JSON body: {error}.") from None


class BodyReceiver:
    """The ASGI ``receive`` of one request, remembering whether its body has been read to the end."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self._receive = receive
        headers = Headers(scope=scope)
        self._declared = declared_length(headers)
        self._awaits_continue = headers.get("expect", "").lower() == "100-continue"
        self.started = self.complete = self.disconnected = False

    async def __call__(self) -> Message:
        self.started = True
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self.disconnected = True
        elif not message.get("more_body", False):
            self.complete = True
        return message

    async def drain(self) -> bool:
        """Read and discard the rest of a refused request's body, at most ``DRAIN_LIMIT`` bytes, so that the
        client (which sends the whole body before reading the response) sees the error instead of a reset
        connection. Whether the body was read to its end: if not, the connection must be closed.

        A client that waits for ``100 Continue`` before sending its body gets the error instead, and sends
        nothing: asking for the body would send it that ``100 Continue``.
        """
        if (self._declared or 0) > DRAIN_LIMIT or (self._awaits_continue and not self.started):
            return False
        received = 0
        while not (self.complete or self.disconnected) and received <= DRAIN_LIMIT:
            received += len((await self()).get("body", b""))
        return self.complete


class ByteBudget:
    """Bytes that request bodies reserve before they are buffered in memory, shared by all such requests.

    A reservation that does not fit is refused at once (503) rather than queued, so slow senders holding
    reservations cannot stall the others. Used from the event loop only.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.reserved = 0

    @contextmanager
    def reserve(self, size: int) -> Iterator[None]:
        """Hold ``size`` bytes of the budget for the duration of the ``with`` block."""
        if self.reserved + size > self.capacity:
            raise HubError(
                503,
                f"The local Hub is already buffering {self.reserved} bytes of anonymous request bodies, its limit "
                f"is {self.capacity}: retry shortly, or pass a token (e.g. set HF_TOKEN).",
                headers={"Retry-After": "1"},
            )
        self.reserved += size
        try:
            yield
        finally:
            self.reserved -= size
