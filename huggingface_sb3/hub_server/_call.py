"""What a request handler works with: the server's state and one parsed request."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from starlette.requests import Request

from ._auth import Authenticator, TokenGrant
from ._errors import HubError, bad_request, repo_not_found, revision_not_found
from ._names import REPO_TYPES
from ._sessions import SessionStore
from ._storage import HubStorage, RepoHandle

UploadMode = Literal["regular", "lfs"]
MiB = 1024 * 1024
GiB = 1024 * MiB
DRAIN_LIMIT = 256 * MiB
"""Up to this many bytes of a refused request's body are read and discarded, so that the client (which sends
the whole body before reading the response) sees the error instead of a reset connection."""


@dataclass(frozen=True)
class HubConfig:
    """How a local Hub behaves.

    Attributes:
        data_dir: where repos are stored; survives restarts.
        grants: the tokens the Hub accepts.
        upload_mode: what ``preupload`` answers for files: ``"regular"`` (inline in the commit; works with every
            client, including ``hf_xet``) or ``"lfs"`` (large and binary files through the LFS batch API; for
            clients that set ``HF_HUB_DISABLE_XET=1``).
        max_json_bytes: largest accepted JSON or form body. The largest legitimate one, a ``preupload`` of 10,000
            files with their 512-byte samples, is about 8 MiB (``huggingface_hub`` sends 256 files per call).
        max_commit_bytes: largest accepted commit body (inline files are base64 in it).
        page_size: entries per page of tree, commit and repo listings.
        max_files_per_commit: most file operations (adds, deletions) one commit may carry.
        max_card_bytes: largest YAML metadata block of a model card (``README.md``) that is read and validated.
        max_card_aliases: most YAML aliases a card's metadata may use (bounds alias-expansion bombs).
        max_lfs_bytes: largest LFS object the batch API accepts (the Hub's own per-file limit is 50 GiB).
        header_timeout: seconds a connection may take to send a complete request line and headers; slower ones
            are answered 408 and closed (against slowloris clients that hold connections open).
        body_timeout: seconds a request body may go without a single byte arriving (while the server is
            reading it) before the request is answered 408 and the connection closed.
        max_connections: most connections open at once; one more is answered 503 and closed. The server raises
            its open-file limit to fit them (or, if the hard limit is lower, serves fewer and logs why).
    """

    data_dir: Path
    grants: tuple[TokenGrant, ...]
    upload_mode: UploadMode = "regular"
    max_json_bytes: int = 10 * MiB
    max_commit_bytes: int = 4096 * MiB
    page_size: int = 1000
    max_files_per_commit: int = 10_000
    max_card_bytes: int = 64 * 1024
    max_card_aliases: int = 100
    max_lfs_bytes: int = 50 * GiB
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1024

    def __post_init__(self) -> None:
        if self.upload_mode not in ("regular", "lfs"):
            raise ValueError(f"upload_mode must be 'regular' or 'lfs', not {self.upload_mode!r}")
        for name in _POSITIVE_SETTINGS:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")


_POSITIVE_SETTINGS = (
    "max_json_bytes",
    "max_commit_bytes",
    "page_size",
    "max_files_per_commit",
    "max_card_bytes",
    "max_card_aliases",
    "max_lfs_bytes",
    "header_timeout",
    "body_timeout",
    "max_connections",
)


class HubState:
    """Everything handlers share: configuration, storage, authentication, the secret that signs upload URLs, and
    a count and short log of the requests received (tests use them to prove what a call did or did not ask)."""

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.storage = HubStorage(config.data_dir)
        self.auth = Authenticator(config.grants)
        self.sessions = SessionStore()
        self.upload_secret = secrets.token_bytes(32)
        self.requests_received = 0
        self.recent_requests: deque[tuple[str, str]] = deque(maxlen=1000)


@dataclass
class Call:
    """One request being handled: its route parameters, caller and already-read body."""

    request: Request
    params: dict[str, str]
    hub: HubState
    grant: TokenGrant | None
    route_repo_type: str | None = None
    json: dict[str, Any] = field(default_factory=dict)
    form: dict[str, list[str]] = field(default_factory=dict)
    body_path: Path | None = None

    @property
    def base_url(self) -> str:
        """The endpoint as the client reached it, e.g. ``http://127.0.0.1:8787``."""
        return str(self.request.base_url).rstrip("/")

    @property
    def repo_type(self) -> str:
        """``model``, ``dataset`` or ``space``, from the route or the ``/api/{type}s/`` segment."""
        if self.route_repo_type is not None:
            return self.route_repo_type
        plural = self.params.get("t", "")
        if not plural.endswith("s") or plural[:-1] not in REPO_TYPES:
            raise HubError(404, f"Unknown repo type {plural!r}: use models, datasets or spaces.")
        return plural[:-1]

    @property
    def repo_id(self) -> str:
        """``namespace/name`` from the route."""
        return f"{self.params['ns']}/{self.params['name']}"

    def repo_url(self, repo_id: str | None = None, repo_type: str | None = None) -> str:
        """The repo's web URL, the form the client parses into a ``RepoUrl``."""
        repo_type = repo_type or self.repo_type
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        return f"{self.base_url}/{prefix}{repo_id or self.repo_id}"

    @property
    def commits_to_pull_request(self) -> bool:
        """Whether a commit route writes to a pull request (a new one with ``create_pr``, or ``refs/pr/N``)."""
        return self.flag("create_pr") or self.params["rev"].startswith("refs/pr/")

    def flag(self, name: str) -> bool:
        """A boolean query parameter (``1``/``true``)."""
        return self.request.query_params.get(name, "").lower() in ("1", "true")

    def open_readable(self) -> RepoHandle:
        """Open the route's repo if the caller may read it (404 ``RepoNotFound`` otherwise)."""
        handle = self.hub.storage.open(self.repo_type, self.params["ns"], self.params["name"])
        if handle is None:
            raise repo_not_found()
        try:
            self.hub.auth.check_read(self.grant, handle.meta)
        except HubError:
            handle.git.close()
            raise
        return handle

    def open_writable(self) -> tuple[RepoHandle, TokenGrant]:
        """Open the route's repo if the caller holds a write token of its namespace."""
        handle = self.open_readable()
        try:
            grant = self.hub.auth.require_writer(self.grant, handle.meta.namespace)
        except HubError:
            handle.git.close()
            raise
        return handle, grant

    def resolve(self, handle: RepoHandle, revision: str) -> tuple[str, str | None]:
        """``(commit id, ref)`` of a revision of the repo; 404 ``RevisionNotFound`` if there is none."""
        resolved = handle.git.resolve(revision)
        if resolved is None:
            raise revision_not_found(revision, handle.meta.repo_id)
        return resolved

    def json_field(self, name: str, kind: type, *, required: bool = True) -> Any:
        """A field of the JSON body, type-checked; 400 if missing (when required) or of the wrong type."""
        value = self.json.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise bad_request(f"The JSON body needs {name!r} as {kind.__name__}, got {value!r}.")
        return value
