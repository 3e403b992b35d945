"""The ASGI application: check the caller, read the request as its route asks, run the handler, turn errors into
Hub errors.

The caller of a route that writes is checked before a byte of its body is read: an unknown token, a missing
or read-only token, or (where the route names it) someone else's namespace is refused without buffering,
spooling or parsing anything. Anonymous callers share a small memory budget for the bodies they may send.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from . import _handlers_files, _handlers_lfs, _handlers_refs, _handlers_repos, _handlers_upload, _pages
from ._auth import TokenGrant
from ._bodies import (
    BodyReceiver,
    ByteBudget,
    declared_length,
    detached,
    iter_body,
    parse_form_body,
    parse_json_body,
    read_body,
)
from ._call import Call, HubConfig, HubState
from ._errors import ErrorCode, HubError, repo_not_found
from ._gitrepo import EntryMissing, GitRepoError, InvalidChange, RefConflict, RevisionMissing, StaleParent
from ._routing import Handler, Route, StreamRoute, find_route, split_raw_path
from ._sessions import SESSION_COOKIE

logger = logging.getLogger("huggingface_sb3.hub_server")

ROUTES: tuple[Route, ...] = (
    *_handlers_repos.ROUTES,
    *_handlers_refs.ROUTES,
    *_handlers_upload.ROUTES,
    *_handlers_files.ROUTES,
    *_handlers_lfs.ROUTES,
    *_pages.ROUTES,
)
_READS = frozenset({"GET", "HEAD"})
"""Only reads may use a signed-in browser's session cookie; writes need an ``Authorization`` header, so no other
site can make a signed-in browser write."""
ANONYMOUS_BODIES = 4
"""Anonymous callers may have this many JSON or form bodies of the largest allowed size in memory at once
(or more, smaller ones); a body beyond that is answered 503."""

Admission = Callable[[Call], None]


_REPO_ROUTES = tuple(route for route in ROUTES if route.pattern[:1] == ("api",) or "resolve" in route.pattern)


def _names_a_namespace_less_repo(method: str, segments: list[str]) -> bool:
    """Whether an unmatched URL is a repo API or file URL naming a repo without a namespace (``/api/models/gpt2``,
    ``/gpt2/resolve/main/config.json``): the Hub's oldest repos have such ids, the local Hub never does, so such a
    repo is not found (404 ``RepoNotFound``, which ``repo_exists`` and ``file_exists`` read as False) rather than the
    URL not being an endpoint."""
    if len(segments) >= 3 and segments[0] == "api":
        at = 2
    elif len(segments) >= 3 and segments[1] == "resolve":
        at = 0
    elif len(segments) >= 4 and segments[0] in ("datasets", "spaces") and segments[2] == "resolve":
        at = 1
    else:
        return False
    try:
        find_route(_REPO_ROUTES, method, [*segments[:at], "-", *segments[at:]])
    except HubError:
        return False
    return True


def _anyone(call: Call) -> None:
    """No token needed: the handler shows the caller only what they may read, or checks a signed URL."""


def _write_token(call: Call) -> None:
    """Any write token: its user may create repos in their own namespace and open pull requests anywhere."""
    call.hub.auth.require_write_token(call.grant)


def _namespace_owner(call: Call) -> None:
    """A write token of the user who owns the namespace the route names."""
    call.hub.auth.require_writer(call.grant, call.params["ns"])


def _committer(call: Call) -> None:
    """A commit to a pull request needs any write token; any other commit the namespace owner's."""
    call.hub.auth.require_committer(call.grant, call.params["ns"], pull_request=call.commits_to_pull_request)


_BODY_ADMISSIONS: dict[Handler, Admission] = {
    _handlers_upload.validate_yaml: _anyone,
    _handlers_files.paths_info: _anyone,
    _handlers_lfs.verify: _anyone,
    _handlers_lfs.upload: _anyone,  # the signed URL is the credential; the handler checks it before reading
    _handlers_upload.preupload: _write_token,
    _handlers_upload.commit: _committer,
    _handlers_refs.create_discussion: _write_token,
    _handlers_lfs.batch: _write_token,
    _pages.sign_in: _anyone,  # the token is in the (small, bounded) form
    _pages.sign_out: _anyone,
}


def admission(chosen: Route) -> Admission:
    """Who may send a body to a route, checked before any of it is read.

    Routes without a body leave the check to their handler; the routes listed in ``_BODY_ADMISSIONS`` are
    checked as listed there; any other route with a body writes, and needs a write token of the namespace it
    names (or any write token when the namespace is in the body, as for creating and deleting repos).
    """
    if chosen.body == "none":
        return _anyone
    if chosen.handler in _BODY_ADMISSIONS:
        return _BODY_ADMISSIONS[chosen.handler]
    return _namespace_owner if "{ns}" in chosen.pattern else _write_token


class HubApp:
    """An ASGI app that answers the subset of the Hugging Face Hub HTTP API the ``huggingface_hub`` client uses."""

    def __init__(self, config: HubConfig) -> None:
        self.state = HubState(config)
        self.anonymous_bodies = ByteBudget(ANONYMOUS_BODIES * config.max_json_bytes)

    def close(self) -> None:
        """Release the data directory (the app must not serve afterwards)."""
        self.state.storage.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.state.requests_received += 1
        self.state.recent_requests.append((scope["method"], scope["path"]))
        body = BodyReceiver(scope, receive)
        response = await self._respond(Request(scope, body), body)
        if response is not None:
            await response(scope, body, _with_request_id(send, uuid.uuid4().hex))

    async def _respond(self, request: Request, body: BodyReceiver) -> Response | None:
        """The response to a request, or None when the client is gone (or its body timed out, which the
        transport has answered already)."""
        try:
            return await self._handle(request)
        except ClientDisconnect:
            return None
        except HubError as error:
            failure = detached(error)
        except GitRepoError as error:
            failure = _hub_error_of(error)
        except Exception:
            logger.exception("Internal error on %s %s", request.method, request.url.path)
            failure = HubError(500, "Internal error in the local Hub; see its log.")
        drained = await body.drain()
        if _pages.wants_page(request):
            return _pages.error_page(request, self._page_visitor(request), failure)
        return error_response(failure, close=not drained)

    async def _handle(self, request: Request) -> Response:
        chosen, call = self._match(request)
        await _admit(chosen, call)
        try:
            await self._read_body(chosen, call)
            if isinstance(chosen, StreamRoute):
                return await chosen.handler(call)
            return await run_in_threadpool(chosen.handler, call)
        finally:
            if call.body_path is not None:
                call.body_path.unlink(missing_ok=True)

    def _match(self, request: Request) -> tuple[Route, Call]:
        segments = split_raw_path(_raw_path(request.scope))
        try:
            chosen, params = find_route(ROUTES, request.method, segments)
        except HubError as unmatched:
            if unmatched.status_code == 404 and _names_a_namespace_less_repo(request.method, segments):
                raise repo_not_found() from None
            raise
        authorization = request.headers.get("authorization")
        if authorization or request.method not in _READS:
            grant = self.state.auth.identify(authorization)
        else:
            grant = self.state.sessions.grant(request.cookies.get(SESSION_COOKIE))
        return chosen, Call(request, params, self.state, grant, route_repo_type=_route_repo_type(chosen))

    def _page_visitor(self, request: Request) -> TokenGrant | None:
        """Who an error page is shown to (the signed-in browser's user, for the site header)."""
        return self.state.sessions.grant(request.cookies.get(SESSION_COOKIE))

    async def _read_body(self, chosen: Route, call: Call) -> None:
        limit = self.state.config.max_json_bytes
        if chosen.body in ("json", "form"):
            with self._memory_for(call, limit):
                if chosen.body == "json":
                    call.json = await parse_json_body(await read_body(call.request, limit))
                else:
                    call.form = await parse_form_body(await read_body(call.request, limit))
        elif chosen.body == "spool":
            with self.state.storage.temp_file() as spool:
                call.body_path = Path(spool.name)
                async for chunk in iter_body(call.request, self.state.config.max_commit_bytes):
                    spool.write(chunk)

    def _memory_for(self, call: Call, limit: int) -> AbstractContextManager[None]:
        """Anonymous bodies reserve their size (as announced, else the limit) in the shared budget."""
        if call.grant is not None:
            return nullcontext()
        declared = declared_length(call.request.headers)
        return self.anonymous_bodies.reserve(min(declared if declared is not None else limit, limit))


def _with_request_id(send: Send, request_id: str) -> Send:
    """``send`` that adds ``X-Request-Id`` to the response, as the Hub does (clients quote it in their errors)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
        await send(message)

    return sending


async def _admit(chosen: Route, call: Call) -> None:
    """Check the caller before the body is read (see :func:`admission`). A refused caller who cannot see the
    route's repo gets the 404 its handler would answer, so a private repo stays hidden and clients raise
    ``RepositoryNotFoundError``."""
    try:
        admission(chosen)(call)
    except HubError:
        if "ns" in call.params and "name" in call.params:
            await run_in_threadpool(_require_visible, call)
        raise


def _require_visible(call: Call) -> None:
    with call.open_readable():
        pass


def _raw_path(scope: Scope) -> bytes:
    return scope.get("raw_path") or scope["path"].encode("utf-8")


def _route_repo_type(chosen: Route) -> str | None:
    first = chosen.pattern[0] if chosen.pattern else ""
    return {"datasets": "dataset", "spaces": "space", "api": None}.get(first, "model")


_GIT_REFUSALS: dict[type[GitRepoError], tuple[int, ErrorCode | None]] = {
    RevisionMissing: (404, "RevisionNotFound"),
    EntryMissing: (404, "EntryNotFound"),
    StaleParent: (412, None),
    RefConflict: (409, None),
    InvalidChange: (400, None),
}


def _hub_error_of(error: GitRepoError) -> HubError:
    """The Hub's answer to what the repository refused."""
    status, code = _GIT_REFUSALS[type(error)]
    commit_id = error.commit_id if isinstance(error, EntryMissing) else None
    return HubError(status, str(error), error_code=code, headers={"X-Repo-Commit": commit_id} if commit_id else None)


def error_response(error: HubError, *, close: bool = False) -> Response:
    """A JSON error carrying ``X-Error-Code``/``X-Error-Message`` the way the Hub sends them; ``close`` ends the
    connection after it (when the rest of the request body was not read)."""
    headers = {"X-Error-Message": error.message.encode("ascii", "backslashreplace").decode("ascii")}
    if error.error_code:
        headers["X-Error-Code"] = error.error_code
    headers.update(error.headers)
    if close:
        headers["Connection"] = "close"
    body = {"error": error.message, **error.extra}
    return JSONResponse(body, status_code=error.status_code, headers=headers)
