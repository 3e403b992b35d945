"""Accounts and repos: whoami, create, delete, settings, repo info and repo listings."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from ..card_metadata import MetadataError, MetadataLimits, read_metadata, repo_tags
from ._call import Call, HubConfig
from ._errors import HubError, bad_request, repo_not_found
from ._gitrepo import FileEntry
from ._lru import Lru
from ._names import REPO_TYPES, validate_repo_part
from ._pagination import paginated
from ._routing import route
from ._storage import RepoHandle, RepoMeta
from ._timestamps import hub_timestamp

RESERVED_NAMESPACES = frozenset({"api", "datasets", "spaces", "models", "new", "settings"})


def whoami(call: Call) -> Response:
    """``GET /api/whoami-v2``: the token's user and role."""
    if call.grant is None:
        raise HubError(401, "Invalid user token: pass a token (e.g. set HF_TOKEN) to ask who you are.")
    user = call.grant.user
    return JSONResponse(
        {
            "type": "user",
            "id": user,
            "name": user,
            "fullname": user,
            "email": None,
            "emailVerified": False,
            "canPay": False,
            "isPro": False,
            "avatarUrl": "",
            "orgs": [],
            "auth": {"type": "access_token", "accessToken": {"displayName": "local-hub", "role": call.grant.role}},
        }
    )


def _target_repo(call: Call) -> tuple[str, str, str]:
    """``(repo type, namespace, name)`` named by a create/delete/move body; the namespace defaults to the caller."""
    name = validate_repo_part(call.json_field("name", str), "repo name")
    namespace = call.json_field("organization", str, required=False)
    if namespace is None:
        if call.grant is None:
            raise HubError(401, "You must be authenticated: pass a write token (e.g. set HF_TOKEN).")
        namespace = call.grant.user
    repo_type = call.json_field("type", str, required=False) or "model"
    if repo_type not in REPO_TYPES:
        raise bad_request(f"Unknown repo type {repo_type!r}: use one of {', '.join(REPO_TYPES)}.")
    return repo_type, validate_repo_part(namespace, "namespace"), name


def create_repo(call: Call) -> Response:
    """``POST /api/repos/create``: a new repo with an initial commit; 409 (still carrying ``url``) if it exists."""
    repo_type, namespace, name = _target_repo(call)
    grant = call.hub.auth.require_writer(call.grant, namespace)
    namespace = grant.user  # the owner's own spelling: ids are case-insensitive, one folder per namespace
    if namespace in RESERVED_NAMESPACES:
        raise bad_request(f"{namespace!r} is reserved by the Hub and cannot be used as a namespace.")
    private = _private_flag(call.json)
    url = call.repo_url(f"{namespace}/{name}", repo_type)
    with call.hub.storage.lock(repo_type, namespace, name):
        created = call.hub.storage.create(repo_type, namespace, name, owner=grant.user, private=bool(private))
    if created is None:
        raise HubError(409, f"You already created this {repo_type} repo: {namespace}/{name}.", extra={"url": url})
    return JSONResponse({"url": url, "name": created.repo_id, "id": created.repo_id})


def _private_flag(body: dict[str, Any]) -> bool | None:
    """Visibility asked by a body: ``visibility`` (1.x+) or ``private`` (0.x); None when not given."""
    visibility = body.get("visibility")
    if visibility is not None:
        if visibility not in ("private", "public"):
            raise bad_request(f"visibility must be 'private' or 'public', not {visibility!r}.")
        return visibility == "private"
    private = body.get("private")
    if private is not None and not isinstance(private, bool):
        raise bad_request(f"private must be true or false, not {private!r}.")
    return private


def delete_repo(call: Call) -> Response:
    """``DELETE /api/repos/delete``: remove a repo with all its files and history."""
    repo_type, namespace, name = _target_repo(call)
    handle = call.hub.storage.open(repo_type, namespace, name)
    if handle is None:
        raise repo_not_found()
    with handle:
        call.hub.auth.check_read(call.grant, handle.meta)
        call.hub.auth.require_writer(call.grant, namespace)
    with call.hub.storage.lock(repo_type, namespace, name):
        call.hub.storage.delete(repo_type, namespace, name)
    return JSONResponse({})


def update_settings(call: Call) -> Response:
    """``PUT /api/{type}s/{id}/settings``: change the visibility."""
    handle, _ = call.open_writable()
    with handle, call.hub.storage.lock(call.repo_type, handle.meta.namespace, handle.meta.name):
        private = _private_flag(call.json)
        if private is not None:
            call.hub.storage.update_meta(handle, private=private)
        return JSONResponse({"private": handle.meta.private})


def repo_info(call: Call) -> Response:
    """``GET /api/{type}s/{id}[/revision/{rev}]``: the repo at a revision, with ``sha`` and ``siblings``."""
    with call.open_readable() as handle:
        commit_id, _ = call.resolve(handle, call.params.get("rev", "main"))
        files = handle.git.files(commit_id)
        return JSONResponse(
            _describe(call, handle, commit_id, files, with_blobs=call.flag("blobs") or call.flag("files_metadata"))
        )


def _describe(
    call: Call, handle: RepoHandle, commit_id: str, files: dict[str, FileEntry], *, with_blobs: bool
) -> dict[str, Any]:
    meta = handle.meta
    card = readme_metadata(call.hub.config, handle, files.get("README.md"))
    info: dict[str, Any] = {
        "_id": meta.repo_id,
        "id": meta.repo_id,
        "author": meta.namespace,
        "sha": commit_id,
        "lastModified": hub_timestamp(handle.git.commit_date(commit_id)),
        "createdAt": meta.created_at,
        "private": meta.private,
        "disabled": False,
        "gated": False,
        "downloads": 0,
        "likes": 0,
        "tags": repo_tags(card),
        "siblings": [_sibling(entry, with_blobs) for entry in files.values()],
    }
    if meta.repo_type == "model":
        info["modelId"] = meta.repo_id
        if isinstance(card.get("library_name"), str):
            info["library_name"] = card["library_name"]
    if card:
        info["cardData"] = card
    return info


def readme_metadata(config: HubConfig, handle: RepoHandle, readme: FileEntry | None) -> dict[str, Any]:
    """A README's metadata (``{}`` when there is none or it is unreadable), parsed once per README content, since
    listings ask often. The dicts are shared by every request for that README: callers must not modify them."""
    if readme is None or readme.lfs is not None:
        return {}
    limits = card_limits(config)
    return _CARDS.get((readme.blob_id, limits), lambda: _parsed(handle.git.read_blob(readme.blob_id), limits))


def card_limits(config: HubConfig) -> MetadataLimits:
    """What reading one card's metadata may cost on this Hub."""
    return MetadataLimits(max_bytes=config.max_card_bytes, max_aliases=config.max_card_aliases)


def _parsed(readme: bytes, limits: MetadataLimits) -> dict[str, Any]:
    try:
        return read_metadata(readme.decode("utf-8", "replace"), limits)
    except MetadataError:
        return {}


_CARDS: Lru[tuple[str, MetadataLimits], dict[str, Any]] = Lru(capacity=32)


def _sibling(entry: FileEntry, with_blobs: bool) -> dict[str, Any]:
    sibling: dict[str, Any] = {"rfilename": entry.path}
    if with_blobs:
        sibling.update(size=entry.size, blobId=entry.blob_id)
        if entry.lfs is not None:
            sibling["lfs"] = {"sha256": entry.lfs.oid, "size": entry.size, "pointerSize": entry.pointer_size}
    return sibling


def list_repos(call: Call) -> Response:
    """``GET /api/{type}s``: the repos the caller may see, filtered by ``author``, ``search`` and ``filter`` tags."""
    query = call.request.query_params
    author, search = query.get("author"), query.get("search", "").lower()
    wanted_tags = set(query.getlist("filter"))
    listed: list[dict[str, Any]] = []
    for meta in call.hub.storage.iter_repos(call.repo_type):
        if meta.private and (call.grant is None or call.grant.user != meta.owner):
            continue
        if (author and meta.namespace != author) or search not in meta.repo_id.lower():
            continue
        summary = _summary(call, meta)
        if summary is not None and wanted_tags <= set(summary["tags"]):
            listed.append(summary)
    limit = query.get("limit")
    if limit is not None and limit.isdigit():
        listed = listed[: int(limit)]
    return paginated(call, listed)


def _summary(call: Call, meta: RepoMeta) -> dict[str, Any] | None:
    handle = call.hub.storage.open(meta.repo_type, meta.namespace, meta.name)
    if handle is None:
        return None
    with handle:
        resolved = handle.git.resolve("main")
        if resolved is None:
            return None
        files = handle.git.files(resolved[0])
        summary = _describe(call, handle, resolved[0], files, with_blobs=False)
        del summary["siblings"]
        if not _asks_card_data(call):
            summary.pop("cardData", None)
        return summary


def _asks_card_data(call: Call) -> bool:
    """Listings carry each card's metadata only when asked (``cardData``, ``full`` or ``expand=cardData``),
    as on the Hub."""
    return call.flag("cardData") or call.flag("full") or "cardData" in call.request.query_params.getlist("expand")


ROUTES = (
    route("GET", "api/whoami-v2", whoami),
    route("POST", "api/repos/create", create_repo, body="json"),
    route("DELETE", "api/repos/delete", delete_repo, body="json"),
    route("GET", "api/{t}", list_repos),
    route("GET", "api/{t}/{ns}/{name}", repo_info),
    route("GET", "api/{t}/{ns}/{name}/revision/{rev}", repo_info),
    route("PUT", "api/{t}/{ns}/{name}/settings", update_settings, body="json"),
)
