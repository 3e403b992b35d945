"""The web pages of the local Hub, at the Hub's URL shapes: the index, the model page, files, commits, sign-in.

Every URL the library prints opens in a browser: ``/{namespace}/{name}`` (the repo URL) and
``/{namespace}/{name}/commit/{oid}`` (what ``package_to_hub`` returns). Pages are rendered on the server from the
templates and the one stylesheet shipped in the package, with no script at all; a Content-Security-Policy that
allows none is the second line of defence behind the sanitised cards. Private repos answer 404 unless the visitor
signed in as their owner (see :mod:`._sessions`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ._auth import TokenGrant
from ._call import Call
from ._errors import HubError, bad_request
from ._handlers_repos import RESERVED_NAMESPACES
from ._names import validate_path_in_repo
from ._page_views import (
    blob_page,
    commit_page,
    commits_page,
    index_rows,
    model_page,
    tree_page,
)
from ._routing import route
from ._sessions import SESSION_COOKIE

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; media-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SORTS = ("updated", "score", "name")


def _size(count: int) -> str:
    """A byte count as people read it: ``812 Bytes``, ``1.2 kB``, ``3.4 MB``."""
    if count < 1000:
        return f"{count} Bytes"
    value = float(count)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def _when(moment: datetime) -> str:
    """A commit time for people, in UTC: ``2026-12-01 05:13 UTC``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("huggingface_sb3.hub_server", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        size=_size,
        when=_when,
        iso=lambda moment: moment.astimezone(timezone.utc).isoformat(),
        rev=lambda revision: quote(revision, safe=""),
        path=lambda path: quote(path, safe="/"),
    )
    return environment


_TEMPLATES = _environment()


def render(call: Call, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``template`` with the site header (who is signed in, where to sign in) and the page headers."""
    return _page(call.request, call.grant, template, status_code, context)


def error_page(request: Request, grant: TokenGrant | None, error: HubError) -> HTMLResponse:
    """A refusal as a page, for a browser: the status, the message, and a way back."""
    context = {"status": error.status_code, "message": error.message}
    return _page(request, grant, "error.html", error.status_code, context)


def wants_page(request: Request) -> bool:
    """Whether the request comes from a browser navigating (errors then answer as pages, not JSON)."""
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


def _page(
    request: Request, grant: TokenGrant | None, template: str, status_code: int, context: dict[str, Any]
) -> HTMLResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    viewer = grant.user if grant is not None else None
    html = _TEMPLATES.get_template(template).render(viewer=viewer, here=here, **context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def index(call: Call) -> Response:
    """``GET /``: the model repos the visitor may see, with their claimed scores; sortable, filterable by env."""
    query = call.request.query_params
    sort = query.get("sort", "updated")
    if sort not in SORTS:
        raise bad_request(f"Unknown sort {sort!r}: use one of {', '.join(SORTS)}.")
    rows = index_rows(call.hub, call.grant)
    envs = sorted({row.claim.env_id for row in rows if row.claim is not None and row.claim.env_id})
    env = query.get("env", "")
    if env:
        rows = [row for row in rows if row.claim is not None and row.claim.env_id == env]
    if sort == "score":
        rows.sort(key=lambda row: (row.claim is None, -(row.claim.mean if row.claim else 0.0), row.repo_id))
    elif sort == "name":
        rows.sort(key=lambda row: row.repo_id.lower())
    else:
        rows.sort(key=lambda row: row.updated, reverse=True)
    return render(call, "index.html", rows=rows, envs=envs, env=env, sort=sort)


def model(call: Call) -> Response:
    """``GET /{namespace}/{name}``: the model page of ``main``."""
    if call.params["ns"] in RESERVED_NAMESPACES:  # e.g. /api/unknown: not a repo, and not a page
        raise HubError(404, f"Not found: {call.request.url.path} is not an endpoint of the local Hub.")
    with call.open_readable() as handle:
        page = model_page(call.hub, handle)
    return render(call, "model.html", page=page, repo=page.repo)


def tree(call: Call) -> Response:
    """``GET /{namespace}/{name}/tree/{rev}[/{path}]``: a folder at any revision."""
    path = _path_param(call, required=False)
    with call.open_readable() as handle:
        page = tree_page(handle, call.params["rev"], path)
    return render(call, "tree.html", page=page, repo=page.repo, crumbs=_crumbs(path))


def blob(call: Call) -> Response:
    """``GET /{namespace}/{name}/blob/{rev}/{path}``: a file at any revision (text shown, else a download)."""
    path = _path_param(call, required=True)
    with call.open_readable() as handle:
        page = blob_page(handle, call.params["rev"], path)
    return render(call, "blob.html", page=page, repo=page.repo, crumbs=_crumbs(path))


def commits(call: Call) -> Response:
    """``GET /{namespace}/{name}/commits/{rev}``: the history of any revision, 50 commits a page (``?p=N``)."""
    number = call.request.query_params.get("p", "0")
    if not number.isdigit() or len(number) > 6:
        raise bad_request(f"Invalid page {number!r}: use ?p=0, ?p=1, ...")
    with call.open_readable() as handle:
        page = commits_page(handle, call.params["rev"], int(number))
    return render(call, "commits.html", page=page, repo=page.repo)


def commit(call: Call) -> Response:
    """``GET /{namespace}/{name}/commit/{oid}``: one commit (the URL ``package_to_hub`` returns)."""
    with call.open_readable() as handle:
        page = commit_page(handle, call.params["oid"])
    return render(call, "commit.html", page=page, repo=page.repo)


def sign_in_form(call: Call) -> Response:
    """``GET /login``: the sign-in form (a token of the local Hub)."""
    return render(call, "login.html", next=_local_target(call.request.query_params.get("next")), failed=False)


def sign_in(call: Call) -> Response:
    """``POST /login`` (form ``token``, ``next``): start a session for a known token, then go back to ``next``."""
    _require_same_origin(call)
    token = (call.form.get("token") or [""])[0].strip()
    target = _local_target((call.form.get("next") or [""])[0])
    grant = call.hub.auth.grant_of(token) if token else None
    if grant is None:
        return render(call, "login.html", 401, next=target, failed=True)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, call.hub.sessions.open(grant), httponly=True, samesite="strict", path="/")
    return response


def sign_out(call: Call) -> Response:
    """``POST /logout``: end the browser's session."""
    _require_same_origin(call)
    call.hub.sessions.close(call.request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def stylesheet(call: Call) -> Response:
    """``GET /static/style.css``: the pages' one stylesheet, shipped in the package."""
    return Response(_stylesheet(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@cache
def _stylesheet() -> str:
    return resources.files("huggingface_sb3.hub_server").joinpath("static").joinpath("style.css").read_text("utf-8")


def _path_param(call: Call, *, required: bool) -> str:
    path = call.params.get("path", "").strip("/")
    if not path and not required:
        return ""
    return validate_path_in_repo(path)


def _crumbs(path: str) -> list[tuple[str, str]]:
    """``(name, folder path)`` of each folder on the way to ``path``, for breadcrumbs."""
    parts = path.split("/") if path else []
    return [(part, "/".join(parts[: depth + 1])) for depth, part in enumerate(parts)]


def _local_target(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host, even as ``//host``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def _require_same_origin(call: Call) -> None:
    """Refuse a form posted from another site (a browser names the page's origin in ``Origin``)."""
    origin = call.request.headers.get("origin")
    if origin is not None and origin != call.base_url:
        raise HubError(403, "This form can only be sent from the local Hub's own pages.")


ROUTES = (
    route("GET HEAD", "", index),
    route("GET HEAD", "login", sign_in_form),
    route("POST", "login", sign_in, body="form"),
    route("POST", "logout", sign_out, body="form"),
    route("GET HEAD", "static/style.css", stylesheet),
    route("GET HEAD", "{ns}/{name}", model),
    route("GET HEAD", "{ns}/{name}/tree/{rev}/{path...}", tree),
    route("GET HEAD", "{ns}/{name}/blob/{rev}/{path...}", blob),
    route("GET HEAD", "{ns}/{name}/commits/{rev}", commits),
    route("GET HEAD", "{ns}/{name}/commit/{oid}", commit),
)
"""Matched after every API route, so ``/api/...`` and ``/{ns}/{name}/resolve/...`` keep their meaning."""
