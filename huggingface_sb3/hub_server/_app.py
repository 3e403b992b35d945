"""The ASGI application: read the request as its route asks, run the handler, turn errors into Hub errors."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from . import _handlers_files, _handlers_lfs, _handlers_refs, _handlers_repos, _handlers_upload
from ._call import DRAIN_LIMIT, Call, HubConfig, HubState
from ._errors import HubError, bad_request
from ._routing import Route, find_route, split_raw_path

logger = logging.getLogger("huggingface_sb3.hub_server")

ROUTES: tuple[Route, ...] = (
    *_handlers_repos.ROUTES,
    *_handlers_refs.ROUTES,
    *_handlers_upload.ROUTES,
    *_handlers_files.ROUTES,
    *_handlers_lfs.ROUTES,
)


class HubApp:
    """An ASGI app that answers the subset of the Hugging Face Hub HTTP API the ``huggingface_hub`` client uses."""

    def __init__(self, config: HubConfig) -> None:
        self.state = HubState(config)

    def close(self) -> None:
        """Release the data directory (the app must not serve afterwards)."""
        self.state.storage.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.state.requests_received += 1
        self.state.recent_requests.append((scope["method"], scope["path"]))
        request = Request(scope, receive)
        call: Call | None = None
        try:
            chosen, call = self._match(request)
            await self._read_body(chosen, call)
            if chosen.body == "stream":
                response = await chosen.handler(call)
            else:
                response = await run_in_threadpool(chosen.handler, call)
        except HubError as error:
            await _discard_unread_body(request)
            response = error_response(error)
        except Exception:
            logger.exception("Internal error on %s %s", request.method, request.url.path)
            response = error_response(HubError(500, "Internal error in the local Hub; see its log."))
        finally:
            if call is not None and call.body_path is not None:
                call.body_path.unlink(missing_ok=True)
        await response(scope, receive, send)

    def _match(self, request: Request) -> tuple[Route, Call]:
        chosen, params = find_route(ROUTES, request.method, split_raw_path(_raw_path(request.scope)))
        grant = self.state.auth.identify(request.headers.get("authorization"))
        return chosen, Call(request, params, self.state, grant, route_repo_type=_route_repo_type(chosen))

    async def _read_body(self, chosen: Route, call: Call) -> None:
        limit = self.state.config.max_json_bytes
        if chosen.body == "json":
            call.json = _parse_json(await read_body(call.request, limit))
        elif chosen.body == "form":
            call.form = parse_qs((await read_body(call.request, limit)).decode("utf-8", "replace"))
        elif chosen.body == "spool":
            with self.state.storage.temp_file() as spool:
                call.body_path = Path(spool.name)
                async for chunk in iter_body(call.request, self.state.config.max_commit_bytes):
                    spool.write(chunk)


def _raw_path(scope: Scope) -> bytes:
    return scope.get("raw_path") or scope["path"].encode("utf-8")


def _route_repo_type(chosen: Route) -> str | None:
    first = chosen.pattern[0]
    return {"datasets": "dataset", "spaces": "space", "api": None}.get(first, "model")


async def iter_body(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body chunk by chunk; 413 once it exceeds ``limit`` bytes.

    The rest of an oversized body is read and discarded (up to ``DRAIN_LIMIT``) before answering, because
    clients send the whole body before reading the response and would otherwise see a reset connection
    instead of the 413.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max(limit, DRAIN_LIMIT):
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


async def _discard_unread_body(request: Request) -> None:
    """Read what is left of a refused request's body (up to ``DRAIN_LIMIT``), so the client sees the error
    response instead of a connection reset while it is still sending."""
    try:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > DRAIN_LIMIT:
                break
    except (RuntimeError, ClientDisconnect):
        pass  # already read (Starlette refuses a second pass), or the client has gone


async def read_body(request: Request, limit: int) -> bytes:
    """The whole (small) request body; 413 beyond ``limit`` bytes."""
    return b"".join([chunk async for chunk in iter_body(request, limit)])


def _parse_json(body: bytes) -> dict[str, object]:
    if not body.strip():
        return {}
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise bad_request(f"Malformed JSON body: {error}.") from None
    if not isinstance(payload, dict):
        raise bad_request("The JSON body must be an object.")
    return payload


def error_response(error: HubError) -> Response:
    """A JSON error carrying ``X-Error-Code``/``X-Error-Message`` the way the Hub sends them."""
    headers = {"X-Error-Message": error.message.encode("ascii", "backslashreplace").decode("ascii")}
    if error.error_code:
        headers["X-Error-Code"] = error.error_code
    headers.update(error.headers)
    body = {"error": error.message, **error.extra}
    return JSONResponse(body, status_code=error.status_code, headers=headers)
