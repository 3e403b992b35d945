"""Listings split into pages, linked with a ``Link: <...>; rel="next"`` header as the Hub (and GitHub) do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse

from ._call import Call
from ._errors import bad_request


def paginated(call: Call, items: Sequence[Any]) -> JSONResponse:
    """One page of ``items`` starting at the request's ``cursor``, with a link to the next page if any."""
    raw_cursor = call.request.query_params.get("cursor", "0")
    if not raw_cursor.isdigit():
        raise bad_request(f"Invalid cursor {raw_cursor!r}.")
    start, size = int(raw_cursor), call.hub.config.page_size
    page = list(items[start : start + size])
    headers = {}
    if start + size < len(items):
        query = [(key, value) for key, value in call.request.query_params.multi_items() if key != "cursor"]
        query.append(("cursor", str(start + size)))
        raw_path = (call.request.scope.get("raw_path") or b"").decode("latin-1").split("?", 1)[0]
        next_url = f"{call.base_url}{raw_path}?{urlencode(query)}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return JSONResponse(page, headers=headers)
