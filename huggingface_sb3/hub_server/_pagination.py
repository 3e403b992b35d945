"""Listings split into pages, linked with a ``Link: <...>; rel="next"`` header as the Hub (and GitHub) do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse

from ._call import Call
from ._errors import bad_request


def paginated(
    call: Call,
    items: Sequence[Any],
    *,
    render: Callable[[Sequence[Any]], list[Any]] | None = None,
    page_size: int | None = None,
) -> JSONResponse:
    """One page of ``items`` starting at the request's ``cursor``, with a link to the next page if any; ``render``
    turns the page's items into JSON (only the page's: the costly part of a listing is then paid per page), and
    ``page_size`` caps the page below the server's page size."""
    raw_cursor = call.request.query_params.get("cursor", "0")
    if not raw_cursor.isdigit():
        raise bad_request(f"Invalid cursor {raw_cursor!r}.")
    start, size = int(raw_cursor), min(call.hub.config.page_size, page_size or call.hub.config.page_size)
    page = list(items[start : start + size])
    headers = {}
    if start + size < len(items):
        query = [(key, value) for key, value in call.request.query_params.multi_items() if key != "cursor"]
        query.append(("cursor", str(start + size)))
        raw_path = (call.request.scope.get("raw_path") or b"").decode("latin-1").split("?", 1)[0]
        next_url = f"{call.base_url}{raw_path}?{urlencode(query)}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return JSONResponse(render(page) if render is not None else page, headers=headers)
