"""Reading files: tree listings, ``paths-info``, and ``resolve`` downloads (HEAD and GET, with ranges)."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from typing import Any

from starlette.responses import FileResponse, JSONResponse, Response

from ._call import Call
from ._errors import bad_request, entry_not_found
from ._gitrepo import FileEntry, FolderEntry
from ._names import validate_path_in_repo
from ._pagination import paginated
from ._routing import route
from ._storage import RepoHandle
from ._timestamps import hub_timestamp

MAX_EXPANDED_ENTRIES = 100
"""Entries per request (a paths-info request, a tree page) that get their last commit with ``expand``."""
MAX_HISTORY_WALK = 1000
"""Commits walked back to find an entry's last commit: with the cap above, at most 100,000 tree lookups a request."""


def entry_json(entry: FileEntry | FolderEntry) -> dict[str, Any]:
    """A tree entry as the tree and ``paths-info`` endpoints report it."""
    if isinstance(entry, FolderEntry):
        return {"type": "directory", "oid": entry.tree_id, "size": 0, "path": entry.path}
    info: dict[str, Any] = {"type": "file", "oid": entry.blob_id, "size": entry.size, "path": entry.path}
    if entry.lfs is not None:
        info["lfs"] = {"oid": entry.lfs.oid, "size": entry.size, "pointerSize": entry.pointer_size}
    return info


def list_tree(call: Call) -> Response:
    """``GET /api/{type}s/{id}/tree/{rev}[/{path}]``: a folder's entries, or everything under it with ``recursive``;
    with ``expand``, each entry of the page also gets its ``lastCommit``."""
    path = call.params["path"].strip("/")
    if path:
        path = validate_path_in_repo(path)
    with call.open_readable() as handle:
        commit_id, _ = call.resolve(handle, call.params["rev"])
        entries = handle.git.list_folder(commit_id, path, recursive=call.flag("recursive"))
        if call.flag("expand"):
            return paginated(
                call, entries, render=lambda page: _expanded(handle, commit_id, page), page_size=MAX_EXPANDED_ENTRIES
            )
    return paginated(call, [entry_json(entry) for entry in entries])


def paths_info(call: Call) -> Response:
    """``POST /api/{type}s/{id}/paths-info/{rev}`` (form ``paths=...``, ``expand``): the entries of the paths that
    exist; with ``expand``, each with its ``lastCommit``."""
    paths = call.form.get("paths", [])
    expand = call.form.get("expand", ["false"])[-1].lower() in ("1", "true")
    limit = MAX_EXPANDED_ENTRIES if expand else 10_000
    if len(paths) > limit:
        raise bad_request(f"Too many paths: ask for at most {limit} per request{' with expand' if expand else ''}.")
    with call.open_readable() as handle:
        commit_id, _ = call.resolve(handle, call.params["rev"])
        found = [entry for path in paths if (entry := handle.git.entry(commit_id, validate_path_in_repo(path)))]
        return JSONResponse(_expanded(handle, commit_id, found) if expand else [entry_json(entry) for entry in found])


def _expanded(handle: RepoHandle, commit_id: str, entries: Sequence[FileEntry | FolderEntry]) -> list[dict[str, Any]]:
    """Entries as JSON with the ``lastCommit`` that changed each (``id``, ``title``, ``date``), as the Hub expands
    them; an entry whose change lies more than :data:`MAX_HISTORY_WALK` commits back gets none."""
    last = handle.git.last_commits(commit_id, [entry.path for entry in entries], max_commits=MAX_HISTORY_WALK)
    expanded = []
    for entry in entries:
        info = entry_json(entry)
        if (record := last.get(entry.path)) is not None:
            info["lastCommit"] = {"id": record.commit_id, "title": record.title, "date": hub_timestamp(record.date)}
        expanded.append(info)
    return expanded


class _LargeChunkFileResponse(FileResponse):
    """Stream files in 1 MiB chunks rather than Starlette's 64 KiB, for download throughput."""

    chunk_size = 1024 * 1024


def resolve_file(call: Call) -> Response:
    """``HEAD``/``GET /{id}/resolve/{rev}/{path}``: a file's bytes with the headers ``hf_hub_download`` needs.

    ``X-Repo-Commit`` is the resolved commit; ``ETag`` the git blob id, or for large files the SHA-256, also
    sent as ``X-Linked-Etag`` with ``X-Linked-Size``. ``Range`` requests get 206 (Starlette's FileResponse).
    """
    path = validate_path_in_repo(call.params["path"])
    revision = call.params["rev"]
    with call.open_readable() as handle:
        commit_id, _ = call.resolve(handle, revision)
        entry = handle.git.entry(commit_id, path)
        if not isinstance(entry, FileEntry):
            raise entry_not_found(path, revision, commit_id=commit_id)
        headers = {"X-Repo-Commit": commit_id}
        if entry.lfs is not None:
            etag = f'"{entry.lfs.oid}"'
            headers.update({"ETag": etag, "X-Linked-Etag": etag, "X-Linked-Size": str(entry.size)})
            source = handle.lfs.path(entry.lfs.oid)
        else:
            headers["ETag"] = f'"{entry.blob_id}"'
            source = handle.blob_file(entry.blob_id)
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return _LargeChunkFileResponse(source, headers=headers, media_type=media_type)


ROUTES = (
    route("GET", "api/{t}/{ns}/{name}/tree/{rev}/{path...}", list_tree),
    route("POST", "api/{t}/{ns}/{name}/paths-info/{rev}", paths_info, body="form"),
    route("GET HEAD", "datasets/{ns}/{name}/resolve/{rev}/{path...}", resolve_file),
    route("GET HEAD", "spaces/{ns}/{name}/resolve/{rev}/{path...}", resolve_file),
    route("GET HEAD", "{ns}/{name}/resolve/{rev}/{path...}", resolve_file),
)
