"""The Git LFS batch API (``basic`` transfer): batch, upload (PUT to a signed URL) and verify.

Upload URLs carry an HMAC signature with an expiry because the client sends the PUT without its token.
The body is streamed to a temporary file while its size and SHA-256 are checked, and enters the repo's
store only if both match; otherwise nothing is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from ._call import DRAIN_LIMIT, Call
from ._errors import HubError, bad_request
from ._lfs_store import SHA256_RE, HashingWriter
from ._routing import Route, route, stream_route
from ._storage import RepoHandle

LFS_MEDIA_TYPE = "application/vnd.git-lfs+json"
UPLOAD_URL_LIFETIME_SECONDS = 3600
MAX_BATCH_OBJECTS = 1000
_URL_NUMBER = re.compile(r"[0-9]{1,20}")


def _signature(call: Call, oid: str, size: int, expires: int) -> str:
    message = f"{call.repo_type}/{call.repo_id}/{oid}/{size}/{expires}".encode()
    return hmac.new(call.hub.upload_secret, message, hashlib.sha256).hexdigest()


def _lfs_prefix(call: Call) -> str:
    prefix = "" if call.repo_type == "model" else f"{call.repo_type}s/"
    return f"{call.base_url}/{prefix}{quote(call.params['ns'])}/{quote(call.params['name'])}.git/info/lfs/objects"


def batch(call: Call) -> Response:
    """``POST /{id}.git/info/lfs/objects/batch``: for each object, nothing (already stored) or where to upload it."""
    if call.json.get("operation") != "upload":
        raise bad_request("The local Hub's LFS batch API supports the 'upload' operation only.")
    objects = call.json.get("objects")
    if not isinstance(objects, list) or len(objects) > MAX_BATCH_OBJECTS:
        raise bad_request(f'"objects" must be a list of at most {MAX_BATCH_OBJECTS} {{oid, size}} objects.')
    with call.open_readable() as handle:
        _require_uploader(call, handle)
        answers = []
        for item in objects:
            oid, size = _batch_object(call, item)
            answer: dict[str, object] = {"oid": oid, "size": size}
            if not handle.lfs.has(oid, size):
                expires = int(time.time()) + UPLOAD_URL_LIFETIME_SECONDS
                signature = _signature(call, oid, size, expires)
                answer["authenticated"] = True
                answer["actions"] = {
                    "upload": {"href": f"{_lfs_prefix(call)}/{oid}/{size}?expires={expires}&signature={signature}"},
                    "verify": {"href": f"{_lfs_prefix(call)}/verify"},
                }
            answers.append(answer)
    return JSONResponse({"transfer": "basic", "objects": answers}, media_type=LFS_MEDIA_TYPE)


def _batch_object(call: Call, item: object) -> tuple[str, int]:
    """``(oid, size)`` of an object of a batch request: 400 unless a 64-hex SHA-256 and a non-negative integer
    size, 413 if the size is beyond ``max_lfs_bytes``."""
    oid, size = (item.get("oid"), item.get("size")) if isinstance(item, dict) else (None, None)
    if not isinstance(oid, str) or not SHA256_RE.fullmatch(oid):
        raise bad_request(f"Invalid LFS object {str(item)[:200]}: needs a 64-hex sha256 oid.")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise bad_request(f"Invalid size {str(size)[:100]} of LFS object {oid}: needs a non-negative integer.")
    limit = call.hub.config.max_lfs_bytes
    if size > limit:
        raise HubError(
            413,
            f"LFS object {oid} is {size} bytes, more than the local Hub accepts per file ({limit} bytes): "
            "split the file, or start the Hub with a larger --max-lfs-bytes.",
        )
    return oid, size


def _require_uploader(call: Call, handle: RepoHandle) -> None:
    """Owners upload to any ref; other writers only for pull requests (no ``ref``, or ``refs/pr/...``)."""
    ref = call.json.get("ref")
    ref_name = ref.get("name") if isinstance(ref, dict) else None
    to_branch = isinstance(ref_name, str) and not ref_name.startswith("refs/pr/")
    call.hub.auth.require_committer(call.grant, handle.meta.namespace, pull_request=not to_branch)


async def upload(call: Call) -> Response:
    """``PUT`` to a signed upload URL: stream the body, check size and SHA-256, then store it."""
    oid, raw_size = call.params["oid"], call.params["size"]
    query = call.request.query_params
    expires = query.get("expires", "")
    if not SHA256_RE.fullmatch(oid) or not _URL_NUMBER.fullmatch(raw_size) or not _URL_NUMBER.fullmatch(expires):
        raise HubError(404, "Not a valid LFS upload URL.")
    size = int(raw_size)
    expected = _signature(call, oid, size, int(expires))
    if not hmac.compare_digest(expected, query.get("signature", "")) or int(expires) < time.time():
        raise HubError(403, "This LFS upload URL is invalid or expired: ask the batch API for a new one.")
    with call.hub.storage.temp_file() as spool:
        partial = Path(spool.name)
        try:
            writer = HashingWriter(spool, size)
            surplus = 0
            async for chunk in call.request.stream():
                if surplus or writer.written + len(chunk) > size:
                    surplus += len(chunk)
                    if surplus > DRAIN_LIMIT:
                        break
                else:
                    writer.write(chunk)
            if surplus:
                raise bad_request(
                    f"The upload is larger than the {size} bytes announced for {oid}. Nothing was stored."
                )
            spool.close()
            if not writer.matches(oid):
                raise bad_request(
                    f"The uploaded content does not match its LFS object: expected sha256 {oid} and {size} bytes, "
                    f"got sha256 {writer.sha256} and {writer.written} bytes. Nothing was stored."
                )
            await run_in_threadpool(_adopt, call, partial, oid, writer.git_sha1)
        finally:
            partial.unlink(missing_ok=True)
    return JSONResponse({})


def _adopt(call: Call, partial: Path, oid: str, git_sha1: str) -> None:
    namespace, name = call.params["ns"], call.params["name"]
    with call.hub.storage.lock(call.repo_type, namespace, name):
        handle = call.hub.storage.open(call.repo_type, namespace, name)
        if handle is None:
            raise HubError(404, f"{call.repo_id} was deleted during the upload.", error_code="RepoNotFound")
        with handle:
            handle.lfs.adopt(partial, oid, git_sha1)


def verify(call: Call) -> Response:
    """``POST .../verify``: 200 if the object is stored with the given size, 404 otherwise."""
    oid, size = call.json.get("oid"), call.json.get("size")
    with call.open_readable() as handle:
        if not isinstance(oid, str) or not SHA256_RE.fullmatch(oid) or not handle.lfs.has(oid, size):
            raise HubError(404, f"LFS object {oid} of {size} bytes is not stored in {handle.meta.repo_id}.")
    return JSONResponse({}, media_type=LFS_MEDIA_TYPE)


def _routes(prefix: str) -> tuple[Route, ...]:
    base = f"{prefix}{{ns}}/{{name}}.git/info/lfs/objects"
    return (
        route("POST", f"{base}/batch", batch, body="json"),
        route("POST", f"{base}/verify", verify, body="json"),
        stream_route("PUT", f"{base}/{{oid}}/{{size}}", upload),
    )


ROUTES = (*_routes("datasets/"), *_routes("spaces/"), *_routes(""))
