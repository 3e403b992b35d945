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
from typing import IO, Any, BinaryIO

from starlette.responses import JSONResponse, Response

from ..card_metadata import MetadataError, validate_metadata
from ._call import Call, MiB
from ._errors import HubError, bad_request
from ._gitrepo import AddFile, AddLfsFile, Change, DeleteFile, DeleteFolder, FileEntry, PendingObject
from ._globs import GlobRules, TooComplexError, parse_gitattributes_lfs, parse_gitignore
from ._handlers_refs import discard_pull_request, open_pull_request
from ._handlers_repos import card_limits
from ._lfs_store import SHA256_RE, HashingWriter, looks_like_pointer
from ._names import validate_path_in_repo
from ._ndjson import NDJSONError, SpooledString, iter_ndjson
from ._routing import route
from ._storage import RepoHandle, git_identity

LARGE_FILE_BYTES = 10 * MiB
"""Files from this size on are stored as LFS objects, and offered the LFS path in ``lfs`` upload mode."""

_BASE64_CHUNK = 4 * 256 * 1024
MAX_PATTERN_MATCHES = 600_000
"""File-pattern pairs one ``preupload`` may ask to match (huggingface_hub sends at most 256 files per call)."""


def validate_yaml(call: Call) -> Response:
    """``POST /api/validate-yaml``: check a README's metadata; always answers JSON (the client reads it first)."""
    content = call.json_field("content", str)
    try:
        metadata = validate_metadata(content, card_limits(call.hub.config))
    except MetadataError as error:
        return JSONResponse({"errors": [{"message": problem} for problem in error.problems]}, status_code=400)
    warnings = [] if metadata else [{"message": "empty or missing yaml metadata in repo card"}]  # as the Hub warns
    return JSONResponse({"errors": [], "warnings": warnings})


@dataclass(frozen=True)
class _PreuploadFile:
    requested: str  # the path as the client sent it: the answer must echo it, the client matches on it
    path: str  # the same path, validated and normalised as the commit will store it
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
        try:
            ignored = parse_gitignore(ignore_text)
            lfs_tracked = parse_gitattributes_lfs(_read_text(handle, remote.get(".gitattributes")))
        except TooComplexError as error:
            raise bad_request(f"Too many or too long .gitignore/.gitattributes patterns: {error}") from None
        _check_matching_work(len(files), len(ignored) + len(lfs_tracked))
        answers = []
        for item in files:
            mode = _upload_mode(call, item, lfs_tracked)
            answers.append(
                {
                    "path": item.requested,
                    "uploadMode": mode,
                    "shouldIgnore": ignored.matches(item.path),
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
        path = validate_path_in_repo(item.get("path"))
        files.append(_PreuploadFile(item["path"], path, item["size"], sample))
    return files


def _read_text(handle: RepoHandle, entry: FileEntry | None) -> str:
    if entry is None or entry.lfs is not None:
        return ""
    return handle.git.read_blob(entry.blob_id).decode("utf-8", "replace")


def _check_matching_work(files: int, patterns: int) -> None:
    """Refuse a preupload whose pattern matching would take seconds (each file is matched against each pattern)."""
    if files * patterns > MAX_PATTERN_MATCHES:
        raise bad_request(
            f"{files} files against {patterns} .gitignore/.gitattributes patterns is more matching than the local Hub "
            f"does in one preupload (at most {MAX_PATTERN_MATCHES} file-pattern pairs): send the files in smaller batches."
        )


def _upload_mode(call: Call, item: _PreuploadFile, lfs_tracked: GlobRules) -> str:
    if call.hub.config.upload_mode == "regular" or item.size == 0:
        return "regular"
    tracked = lfs_tracked.matches(item.path)
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
        author = call.hub.auth.require_committer(
            call.grant, handle.meta.namespace, pull_request=call.commits_to_pull_request
        ).user
        cleanup.enter_context(call.hub.storage.lock(call.repo_type, handle.meta.namespace, handle.meta.name))
        if not call.hub.storage.exists(call.repo_type, handle.meta.namespace, handle.meta.name):
            raise HubError(404, f"{handle.meta.repo_id} was deleted during the commit.", error_code="RepoNotFound")
        if call.body_path is None:
            raise bad_request("A commit needs an NDJSON body.")
        parsed = _parse_commit(call, call.body_path, cleanup)
        pull_request = None
        ref: str | None
        if create_pr:
            pull_request = open_pull_request(call, handle, title=parsed.summary, author=author, base=revision)
            ref = f"refs/pr/{pull_request.num}"
        else:
            _, ref = call.resolve(handle, revision)
            if ref is None or not ref.startswith(("refs/heads/", "refs/pr/")):
                raise bad_request(f"Cannot commit to {revision!r}: commits go to a branch (or a pull request).")
        message = parsed.summary + (f"\n\n{parsed.description}" if parsed.description else "")
        changes = _tracked_files_as_lfs(handle, ref, parsed.changes)
        try:
            commit_id = handle.git.commit(
                ref,
                changes,
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


def _tracked_files_as_lfs(handle: RepoHandle, ref: str, changes: list[Change]) -> list[Change]:
    """The changes, with every inline file that ``.gitattributes`` tracks with LFS turned into a large file.

    Clients upload such files inline here (the local Hub answers ``regular`` at preupload unless started with
    ``--upload-mode lfs``, because a file marked ``lfs`` would go through Xet), but the Hub stores them as LFS
    objects: the repo then reads as on the Hub (``lfs`` metadata in paths-info, trees and ``repo_info``, the
    LFS ETag on download). The ``.gitattributes`` is the one this commit writes, else the branch's.
    """
    written = next((c for c in reversed(changes) if isinstance(c, AddFile) and c.path == ".gitattributes"), None)
    if written is not None:
        text = written.source.read_bytes().decode("utf-8", "replace")
    else:
        resolved = handle.git.resolve(ref)
        entry = handle.git.entry(resolved[0], ".gitattributes") if resolved is not None else None
        text = _read_text(handle, entry if isinstance(entry, FileEntry) else None)
    try:
        tracked = parse_gitattributes_lfs(text)
    except TooComplexError as error:
        raise bad_request(f"Too many or too long .gitattributes patterns: {error}") from None
    _check_matching_work(len(changes), len(tracked))
    return [
        change.as_large_file if isinstance(change, _InlineFile) and _stored_as_lfs(change, tracked) else change
        for change in changes
    ]


@dataclass(frozen=True)
class _InlineFile(AddFile):
    """A regular file decoded from the commit, with the large file it becomes if ``.gitattributes`` tracks it (its
    hashes were computed while decoding, so storing it as LFS reads it no more)."""

    as_large_file: AddLfsFile


def _stored_as_lfs(change: _InlineFile, tracked: GlobRules) -> bool:
    """Whether an inline file goes to the LFS store: tracked and not empty (the Hub keeps empty files regular)."""
    return bool(change.as_large_file.size) and tracked.matches(change.path)


def _parse_commit(call: Call, body_path: Path, cleanup: ExitStack) -> _ParsedCommit:
    """Read the NDJSON body one line at a time, turning each into a change as it comes.

    Inline files are decoded to temporary files right away and their spooled base64 closed, so memory and open
    files stay bounded by one line whatever the number of files. Nothing enters the repo's stores here: large
    files wait in temporary files until the commit is written.
    """
    parsed = _ParsedCommit()
    limit = call.hub.config.max_files_per_commit
    number = 0
    with open(body_path, "rb") as body:
        lines = iter_ndjson(body, spool_dir=call.hub.storage.tmp_dir)
        try:
            for number, line in enumerate(lines, start=1):
                try:
                    if number == 1:
                        _read_header(line, parsed)
                    elif number - 1 > limit:
                        raise bad_request(
                            f"Too many operations in one commit: the local Hub takes at most {limit}. "
                            "Split the upload into several commits (e.g. upload_large_folder)."
                        )
                    else:
                        parsed.changes.append(_change(call, line, number, cleanup))
                finally:
                    for spooled in _spooled_strings(line):
                        spooled.close()
        except NDJSONError as error:
            raise bad_request(f"Malformed NDJSON commit body: {error}") from None
    if number == 0:
        raise bad_request(_HEADER_FIRST)
    return parsed


_HEADER_FIRST = 'The first line of a commit must be {"key": "header", "value": {"summary": ...}}.'


def _read_header(line: Any, parsed: _ParsedCommit) -> None:
    if not isinstance(line, dict) or line.get("key") != "header":
        raise bad_request(_HEADER_FIRST)
    header = _value(line)
    parsed.summary = _small_str(header, "summary") or ""
    parsed.description = _small_str(header, "description", required=False) or ""
    parsed.parent_commit = _small_str(header, "parentCommit", required=False)


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


def _change(call: Call, line: Any, number: int, cleanup: ExitStack) -> Change:
    value = _value(line)
    key = line.get("key")
    path = validate_path_in_repo(value.get("path"))
    if key == "file":
        return _inline_file(call, path, value, cleanup)
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


def _inline_file(call: Call, path: str, value: dict[str, Any], cleanup: ExitStack) -> Change:
    """Decode an inline file to a temporary file; it becomes a large file when big or when it reads as an LFS
    pointer (so that no one can later supply the bytes of a pointer-looking text file through the LFS API)."""
    content = value.get("content")
    if value.get("encoding", "base64") != "base64" or not isinstance(content, (str, SpooledString)):
        raise bad_request(f"The file {path!r} needs base64 'content' (encoding 'base64').")
    with call.hub.storage.temp_file() as target:
        destination = Path(target.name)
        cleanup.callback(destination.unlink, missing_ok=True)
        writer = _decode_base64(content, target, path)
    large = AddLfsFile(path, writer.sha256, writer.written, PendingObject(destination, writer.git_sha1))
    if writer.written >= LARGE_FILE_BYTES or looks_like_pointer(destination, writer.written):
        return large
    return _InlineFile(path, destination, large)


def _decode_base64(content: str | SpooledString, target: IO[bytes], path: str) -> HashingWriter:
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
