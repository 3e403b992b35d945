"""Reading files: tree listings, ``paths-info``, and ``resolve`` downloads (HEAD and GET, with ranges)."""

from __future__ import annotations

import mimetypes
from typing import Any

from starlette.responses import FileResponse, JSONResponse, Response

from ._call import Call
from ._errors import bad_request, entry_not_found
from ._gitrepo import FileEntry, FolderEntry
from ._names import validate_path_in_repo
from ._pagination import paginated
from ._routing import route


def entry_json(entry: FileEntry | FolderEntry) -> dict[str, Any]:
    """A tree entry as the tree and ``paths-info`` endpoints report it."""
    if isinstance(entry, FolderEntry):
        return {"type": "directory", "oid": entry.tree_id, "size": 0, "path": entry.path}
    info: dict[str, Any] = {"type": "file", "oid": entry.blob_id, "size": entry.size, "path": entry.path}
    if entry.lfs is not None:
        info["lfs"] = {"oid": entry.lfs.oid, "size": entry.size, "pointerSize": entry.pointer_size}
    return info


def list_tree(call: Call) -> Response:
    """``GET /api/{type}s/{id}/tree/{rev}[/{path}]``: a folder's entries, or everything under it with ``recursive``."""
    path = call.params["path"].strip("/")
    if path:
        path = validate_path_in_repo(path)
    with call.open_readable() as handle:
        commit_id, _ = call.resolve(handle, call.params["rev"])
        entries = handle.git.list_folder(commit_id, path, recursive=call.flag("recursive"))
    return paginated(call, [entry_json(entry) for entry in entries])


def paths_info(call: Call) -> Response:
    """``POST /api/{type}s/{id}/paths-info/{rev}`` (form ``paths=...``): the entries of the paths that exist."""
    paths = call.form.get("paths", [])
    if len(paths) > 10_000:
        raise bad_request("Too many paths: ask for at most 10000 per request.")
    with call.open_readable() as handle:
        commit_id, _ = call.resolve(handle, call.params["rev"])
        found = [handle.git.entry(commit_id, validate_path_in_repo(path)) for path in paths]
    return JSONResponse([entry_json(entry) for entry in found if entry is not None])


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
