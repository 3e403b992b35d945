"""Writing files: ``validate-yaml``, ``preupload`` and the NDJSON ``commit``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from dulwich.ignore import IgnoreFilter, read_ignore_patterns
from starlette.responses import JSONResponse, Response

from ..card_metadata import MetadataError, validate_metadata
from ._call import Call, MiB
from ._errors import HubError, bad_request
from ._gitrepo import AddFile, AddLfsFile, Change, DeleteFile, DeleteFolder, FileEntry
from ._handlers_refs import discard_pull_request, open_pull_request, require_contributor
from ._lfs_store import SHA256_RE, HashingWriter
from ._names import validate_path_in_repo
from ._ndjson import NDJSONError, SpooledString, iter_ndjson
from ._routing import route
from ._storage import RepoHandle, git_identity

LARGE_FILE_BYTES = 10 * MiB
"""Files from this size on are stored as LFS objects, and offered the LFS path in ``lfs`` upload mode."""

_BASE64_CHUNK = 4 * 256 * 1024


def validate_yaml(call: Call) -> Response:
    """``POST /api/validate-yaml``: check a README's metadata; always answers JSON (the client reads it first)."""
    content = call.json_field("content", str)
    try:
        validate_metadata(content)
    except MetadataError as error:
        return JSONResponse({"errors": [{"message": problem} for problem in error.problems]}, status_code=400)
    return JSONResponse({"errors": [], "warnings": []})


@dataclass(frozen=True)
class _PreuploadFile:
    path: str
    size: int
    sample: bytes


def preupload(call: Call) -> Response:
    """``POST /api/{type}s/{id}/preupload/{rev}``: per file, the upload mode, whether to ignore it, and the oid
    of the file already there (git blob SHA-1 for ``regular``, SHA-256 for ``lfs``) so unchanged files are skipped."""
    files = _preupload_files(call.json.get("files"))
    with call.open_readable() as handle:
        commit_id, _ = call.resolve(handle, call.params["rev"])
        remote = handle.git.files(commit_id)
        ignore_text = call.json.get("gitIgnore")
        if not isinstance(ignore_text, str):
            ignore_text = _read_text(handle, remote.get(".gitignore"))
        ignored = IgnoreFilter(read_ignore_patterns(io.BytesIO(ignore_text.encode())))
        lfs_tracked = _lfs_tracked_patterns(_read_text(handle, remote.get(".gitattributes")))
        answers = []
        for item in files:
            mode = _upload_mode(call, item, lfs_tracked)
            answers.append(
                {
                    "path": item.path,
                    "uploadMode": mode,
                    "shouldIgnore": bool(ignored.is_ignored(item.path)),
                    "oid": _remote_oid(handle, remote.get(item.path), mode),
                }
            )
    return JSONResponse({"files": answers, "commitOid": commit_id})


def _preupload_files(raw: object) -> list[_PreuploadFile]:
    if not isinstance(raw, list) or len(raw) > 10_000:
        raise bad_request('The body needs "files": a list of at most 10000 {path, size, sample} objects.')
    files = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("size"), int) or item["size"] < 0:
            raise bad_request(f"Invalid preupload entry {item!r}: needs path, a non-negative size and a sample.")
        try:
            sample = base64.b64decode(item.get("sample") or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise bad_request(f"Invalid preupload sample for {item.get('path')!r}: not base64.") from None
        files.append(_PreuploadFile(validate_path_in_repo(item.get("path")), item["size"], sample))
    return files


def _read_text(handle: RepoHandle, entry: FileEntry | None) -> str:
    if entry is None or entry.lfs is not None:
        return ""
    return handle.git.read_blob(entry.blob_id).decode("utf-8", "replace")


def _lfs_tracked_patterns(gitattributes: str) -> IgnoreFilter:
    """The ``.gitattributes`` patterns with ``filter=lfs``, as a matcher (they follow ``.gitignore`` matching)."""
    patterns = []
    for line in gitattributes.splitlines():
        pattern, *attributes = line.split()
        if not pattern.startswith("#") and "filter=lfs" in attributes:
            patterns.append(pattern.encode())
    return IgnoreFilter(patterns)


def _upload_mode(call: Call, item: _PreuploadFile, lfs_tracked: IgnoreFilter) -> str:
    if call.hub.config.upload_mode == "regular" or item.size == 0:
        return "regular"
    tracked = bool(lfs_tracked.is_ignored(item.path))
    return "lfs" if tracked or item.size >= LARGE_FILE_BYTES or b"\0" in item.sample else "regular"


def _remote_oid(handle: RepoHandle, entry: FileEntry | None, mode: str) -> str | None:
    if entry is None:
        return None
    if mode == "regular":
        return handle.lfs.git_sha1(entry.lfs.oid) if entry.lfs is not None else entry.blob_id
    if entry.lfs is not None:
        return entry.lfs.oid
    return hashlib.sha256(handle.git.read_blob(entry.blob_id)).hexdigest()


@dataclass
class _ParsedCommit:
    summary: str = ""
    description: str = ""
    parent_commit: str | None = None
    changes: list[Change] = field(default_factory=list)


def commit(call: Call) -> Response:
    """``POST /api/{type}s/{id}/commit/{rev}``: apply an NDJSON commit (``header``, ``file``, ``lfsFile``,
    ``deletedFile``, ``deletedFolder``) atomically; with ``create_pr=1`` on a new pull request."""
    create_pr = call.flag("create_pr")
    revision = call.params["rev"]
    with ExitStack() as cleanup:
        handle = cleanup.enter_context(call.open_readable())
        author = _committer(call, handle, revision, create_pr)
        cleanup.enter_context(call.hub.storage.lock(call.repo_type, handle.meta.namespace, handle.meta.name))
        if not call.hub.storage.exists(call.repo_type, handle.meta.namespace, handle.meta.name):
            raise HubError(404, f"{handle.meta.repo_id} was deleted during the commit.", error_code="RepoNotFound")
        if call.body_path is None:
            raise bad_request("A commit needs an NDJSON body.")
        parsed = _parse_commit(call, handle, call.body_path, cleanup)
        pull_request = None
        if create_pr:
            pull_request = open_pull_request(call, handle, title=parsed.summary, author=author, base=revision)
            ref = f"refs/pr/{pull_request.num}"
        else:
            _, ref = call.resolve(handle, revision)
            if ref is None or not ref.startswith(("refs/heads/", "refs/pr/")):
                raise bad_request(f"Cannot commit to {revision!r}: commits go to a branch (or a pull request).")
        message = parsed.summary + (f"\n\n{parsed.description}" if parsed.description else "")
        try:
            commit_id = handle.git.commit(
                ref,
                parsed.changes,
                author=git_identity(author),
                message=message,
                parent_commit=parsed.parent_commit,
            )
        except BaseException:
            if pull_request is not None:
                discard_pull_request(call, handle, pull_request)
            raise
        repo_url = call.repo_url()
    return JSONResponse(
        {
            "commitOid": commit_id,
            "commitUrl": f"{repo_url}/commit/{commit_id}",
            "pullRequestUrl": f"{repo_url}/discussions/{pull_request.num}" if pull_request else None,
        }
    )


def _committer(call: Call, handle: RepoHandle, revision: str, create_pr: bool) -> str:
    """The user committing: owners write anywhere; other writers only to pull requests."""
    if create_pr or revision.startswith("refs/pr/"):
        return require_contributor(call)
    return call.hub.auth.require_writer(call.grant, handle.meta.namespace).user


def _parse_commit(call: Call, handle: RepoHandle, body_path: Path, cleanup: ExitStack) -> _ParsedCommit:
    """Read the NDJSON body; inline files are decoded to temporary files (large ones moved to the LFS store)."""
    parsed = _ParsedCommit()
    with open(body_path, "rb") as body:
        try:
            lines = list(_with_cleanup(iter_ndjson(body, spool_dir=call.hub.storage.tmp_dir), cleanup))
        except NDJSONError as error:
            raise bad_request(f"Malformed NDJSON commit body: {error}") from None
    if not lines or not isinstance(lines[0], dict) or lines[0].get("key") != "header":
        raise bad_request('The first line of a commit must be {"key": "header", "value": {"summary": ...}}.')
    header = _value(lines[0])
    parsed.summary = _small_str(header, "summary")
    parsed.description = _small_str(header, "description", required=False) or ""
    parsed.parent_commit = _small_str(header, "parentCommit", required=False)
    for number, line in enumerate(lines[1:], start=2):
        parsed.changes.append(_change(call, handle, line, number, cleanup))
    return parsed


def _with_cleanup(values: Iterator[Any], cleanup: ExitStack) -> Iterator[Any]:
    for value in values:
        for spooled in _spooled_strings(value):
            cleanup.callback(spooled.close)
        yield value


def _spooled_strings(value: Any) -> Iterator[SpooledString]:
    if isinstance(value, SpooledString):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _spooled_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _spooled_strings(item)


def _value(line: Any) -> dict[str, Any]:
    value = line.get("value") if isinstance(line, dict) else None
    if not isinstance(value, dict):
        raise bad_request(f'Each commit line needs "key" and an object "value": got {str(line)[:200]}.')
    return value


def _small_str(value: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    item = value.get(name)
    if item is None and not required:
        return None
    if not isinstance(item, str):
        raise bad_request(f"The commit field {name!r} must be a string.")
    return item


def _change(call: Call, handle: RepoHandle, line: Any, number: int, cleanup: ExitStack) -> Change:
    value = _value(line)
    key = line.get("key")
    path = validate_path_in_repo(value.get("path"))
    if key == "file":
        return _inline_file(call, handle, path, value, cleanup)
    if key == "lfsFile":
        oid, size = value.get("oid"), value.get("size")
        if value.get("algo", "sha256") != "sha256" or not isinstance(oid, str) or not SHA256_RE.fullmatch(oid):
            raise bad_request(f"Line {number}: an lfsFile needs algo 'sha256' and a 64-hex oid.")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise bad_request(f"Line {number}: the lfsFile size must be a non-negative integer.")
        return AddLfsFile(path, oid, size)
    if key == "deletedFile":
        return DeleteFile(path)
    if key == "deletedFolder":
        return DeleteFolder(path)
    raise bad_request(
        f"Line {number}: unknown commit operation {key!r}; use file, lfsFile, deletedFile or deletedFolder."
    )


def _inline_file(call: Call, handle: RepoHandle, path: str, value: dict[str, Any], cleanup: ExitStack) -> Change:
    content = value.get("content")
    if value.get("encoding", "base64") != "base64" or not isinstance(content, (str, SpooledString)):
        raise bad_request(f"The file {path!r} needs base64 'content' (encoding 'base64').")
    with call.hub.storage.temp_file() as target:
        destination = Path(target.name)
        cleanup.callback(destination.unlink, missing_ok=True)
        writer = _decode_base64(content, target, path)
    if writer.written >= LARGE_FILE_BYTES:
        handle.lfs.adopt(destination, writer.sha256, writer.git_sha1)
        return AddLfsFile(path, writer.sha256, writer.written)
    return AddFile(path, destination)


def _decode_base64(content: str | SpooledString, target: BinaryIO, path: str) -> HashingWriter:
    """Decode base64 ``content`` into ``target`` chunk by chunk, hashing it on the way."""
    if isinstance(content, str):
        encoded: BinaryIO = io.BytesIO(content.encode("ascii", "replace"))
        length = len(content)
    else:
        encoded, length = content.open(), content.size
    if length % 4:
        raise bad_request(f"The content of {path!r} is not valid base64 (length not a multiple of 4).")
    tail = _tail(encoded, length)
    writer = HashingWriter(target, length // 4 * 3 - (len(tail) - len(tail.rstrip(b"="))))
    while chunk := encoded.read(_BASE64_CHUNK):
        try:
            writer.write(base64.b64decode(chunk, validate=True))
        except binascii.Error:
            raise bad_request(f"The content of {path!r} is not valid base64.") from None
    if not writer.matches():
        raise bad_request(f"The content of {path!r} is not valid base64 (padding inside the data).")
    return writer


def _tail(encoded: BinaryIO, length: int) -> bytes:
    if length == 0:
        return b""
    encoded.seek(length - 2 if length >= 2 else 0)
    tail = encoded.read(2)
    encoded.seek(0)
    return tail


ROUTES = (
    route("POST", "api/validate-yaml", validate_yaml, body="json"),
    route("POST", "api/{t}/{ns}/{name}/preupload/{rev}", preupload, body="json"),
    route("POST", "api/{t}/{ns}/{name}/commit/{rev}", commit, body="spool"),
)
