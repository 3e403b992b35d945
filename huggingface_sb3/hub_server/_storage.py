"""The local Hub's data directory: one folder per repo holding a bare git repository, its large-file store
and its settings, plus a scratch folder for uploads in flight.

Layout::

    <data_dir>/repos/<type>s/<namespace>/<name>/git/       bare git repository
                                               /lfs/       large-file objects (see _lfs_store)
                                               /blobs/     regular files materialised for serving
                                               /meta.json  owner, visibility, creation date, pull requests
    <data_dir>/tmp/                                        uploads in flight (same file system, for renames)

Repos appear and disappear by atomic renames, so a crash never leaves half a repo visible.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, TextIO, TypedDict

from ..errors import LocalHubError
from ._gitrepo import GitRepo, loose_branch_head
from ._lfs_store import LfsStore
from ._names import REPO_TYPES, validate_repo_part
from ._timestamps import hub_timestamp

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing's from Python 3.11

DEFAULT_GITATTRIBUTES = b"".join(
    pattern + b" filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        b"*.7z",
        b"*.arrow",
        b"*.bin",
        b"*.bz2",
        b"*.ckpt",
        b"*.ftz",
        b"*.gz",
        b"*.h5",
        b"*.joblib",
        b"*.lfs.*",
        b"*.mlmodel",
        b"*.model",
        b"*.msgpack",
        b"*.npy",
        b"*.npz",
        b"*.onnx",
        b"*.ot",
        b"*.parquet",
        b"*.pb",
        b"*.pickle",
        b"*.pkl",
        b"*.pt",
        b"*.pth",
        b"*.rar",
        b"*.safetensors",
        b"saved_model/**/*",
        b"*.tar.*",
        b"*.tar",
        b"*.tflite",
        b"*.tgz",
        b"*.wasm",
        b"*.xz",
        b"*.zip",
        b"*.zst",
        b"*tfevents*",
        b"*.mp4",
    )
)


@dataclass(frozen=True)
class PullRequest:
    """A pull request: its number, title, author, creation date and the branch it targets."""

    num: int
    title: str
    author: str
    created_at: str
    base_ref: str


@dataclass(frozen=True)
class RepoMeta:
    """A repo's settings, stored beside its git repository."""

    repo_type: str
    namespace: str
    name: str
    owner: str
    private: bool
    created_at: str
    pull_requests: tuple[PullRequest, ...] = field(default=())

    @property
    def repo_id(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"


class MetaChanges(TypedDict, total=False):
    """The settings of a repo that change after it is created."""

    private: bool
    pull_requests: tuple[PullRequest, ...]


class RepoHandle:
    """An open repo: its settings, git history and large-file store. Close it (or use ``with``) when done."""

    def __init__(self, folder: Path, meta: RepoMeta) -> None:
        self.folder = folder
        self.meta = meta
        self.lfs = LfsStore(folder / "lfs")
        self.git = GitRepo(folder / "git", self.lfs)

    def __enter__(self) -> RepoHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.git.close()

    def save_meta(self, meta: RepoMeta) -> None:
        """Replace the settings atomically."""
        _write_json_atomically(self.folder / "meta.json", asdict(meta))
        self.meta = meta

    def blob_file(self, blob_id: str) -> Path:
        """A file holding a regular file's content, written on first use (blob ids are content hashes)."""
        target = self.folder / "blobs" / blob_id
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            partial = target.with_name(f"{blob_id}.{uuid.uuid4().hex}.tmp")
            partial.write_bytes(self.git.read_blob(blob_id))
            os.replace(partial, target)
        return target


class HubStorage:
    """Every repo of the local Hub, in one data directory that survives restarts."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)
        self.repos_dir = self.data_dir / "repos"
        self.tmp_dir = self.data_dir / "tmp"
        try:
            self.repos_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LocalHubError(
                f"Cannot use {self.data_dir} as the local Hub's data directory ({error.strerror or error}). "
                "Choose another with --data-dir (or LocalHub(data_dir=...))."
            ) from None
        self._lock_file = _lock_data_dir(self.data_dir)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._spellings = {
            _case_key(folder.parent.parent.name, folder.parent.name, folder.name): folder.relative_to(self.repos_dir)
            for folder in (meta_file.parent for meta_file in self.repos_dir.glob("*/*/*/meta.json"))
        }
        """Repo ids are case-insensitive, as on the Hub: each repo's folder, by its lower-cased type, namespace and
        name."""

    def close(self) -> None:
        """Release the data directory for another server."""
        self._lock_file.close()

    def _folder(self, repo_type: str, namespace: str, name: str) -> Path:
        """The repo's folder, whatever the case of the id (a new repo's, as spelt); the names are validated first, so
        no request can point outside the data dir."""
        if repo_type not in REPO_TYPES:
            raise ValueError(f"unknown repo type {repo_type!r}")
        spelt = Path(f"{repo_type}s", validate_repo_part(namespace, "namespace"), validate_repo_part(name, "repo name"))
        with self._locks_guard:
            return self.repos_dir / self._spellings.get(_case_key(*spelt.parts), spelt)

    @contextmanager
    def lock(self, repo_type: str, namespace: str, name: str) -> Iterator[None]:
        """Hold the repo's write lock: commits and ref changes to one repo happen one at a time."""
        key = _case_key(f"{repo_type}s", namespace, name)  # one lock for every spelling of the id
        with self._locks_guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def open(self, repo_type: str, namespace: str, name: str) -> RepoHandle | None:
        """Open an existing repo, or return None."""
        folder = self._folder(repo_type, namespace, name)
        meta = _read_meta(folder)
        return RepoHandle(folder, meta) if meta is not None else None

    def exists(self, repo_type: str, namespace: str, name: str) -> bool:
        """Whether the repo exists."""
        return (self._folder(repo_type, namespace, name) / "meta.json").is_file()

    def create(self, repo_type: str, namespace: str, name: str, *, owner: str, private: bool) -> RepoMeta | None:
        """Create a repo with an initial commit holding ``.gitattributes``; None if it already exists."""
        meta = RepoMeta(
            repo_type=repo_type,
            namespace=namespace,
            name=name,
            owner=owner,
            private=private,
            created_at=hub_timestamp(),
        )
        staging = Path(tempfile.mkdtemp(prefix="create-", dir=self.tmp_dir))
        GitRepo.create(
            staging / "git",
            LfsStore(staging / "lfs"),
            initial_files={".gitattributes": DEFAULT_GITATTRIBUTES},
            author=git_identity(owner),
        ).close()
        _write_json_atomically(staging / "meta.json", asdict(meta))
        target = self._folder(repo_type, namespace, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staging, target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if target.exists():
                return None
            raise
        with self._locks_guard:
            self._spellings[_case_key(*target.relative_to(self.repos_dir).parts)] = target.relative_to(self.repos_dir)
        return meta

    def delete(self, repo_type: str, namespace: str, name: str) -> bool:
        """Delete a repo and everything it stores; False if it did not exist."""
        target = self._folder(repo_type, namespace, name)
        trash = self.tmp_dir / f"deleted-{uuid.uuid4().hex}"
        try:
            os.rename(target, trash)
        except FileNotFoundError:
            return False
        with self._locks_guard:
            self._spellings.pop(_case_key(*target.relative_to(self.repos_dir).parts), None)
        shutil.rmtree(trash, ignore_errors=True)
        return True

    def iter_repos(self, repo_type: str) -> Iterator[RepoMeta]:
        """Settings of every repo of one type, sorted by id."""
        for meta, _ in self.iter_branch_heads(repo_type, None):
            yield meta

    def iter_branch_heads(self, repo_type: str, branch: str | None) -> Iterator[tuple[RepoMeta, str | None]]:
        """Every repo of one type, sorted by id, with the commit ``branch`` points to when that can be read without
        opening the repo (see :func:`~._gitrepo.loose_branch_head`; None otherwise, or when ``branch`` is None)."""
        for meta_file in sorted((self.repos_dir / f"{repo_type}s").glob("*/*/meta.json")):
            meta = _read_meta(meta_file.parent)
            if meta is not None:
                head = loose_branch_head(meta_file.parent / "git", branch) if branch is not None else None
                yield meta, head

    def update_meta(self, handle: RepoHandle, **changes: Unpack[MetaChanges]) -> RepoMeta:
        """Change some settings of an open repo (call under the repo's lock)."""
        meta = replace(handle.meta, **changes)
        handle.save_meta(meta)
        return meta

    def temp_file(self) -> IO[bytes]:
        """A named temporary file on the data directory's file system (so it can be renamed into a store)."""
        return tempfile.NamedTemporaryFile(dir=self.tmp_dir, delete=False)


def _lock_data_dir(data_dir: Path) -> TextIO:
    """Hold an exclusive lock on the data directory: two servers on one directory would lose updates."""
    lock_file = open(data_dir / "server.lock", "a+", encoding="utf-8")  # noqa: SIM115 (held while serving)
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock_file.seek(0)
        holder = lock_file.read().strip() or "unknown"
        lock_file.close()
        raise LocalHubError(
            f"The data directory {data_dir} is in use by another local Hub (pid {holder}). "
            "Stop that one, or choose another data directory."
        ) from None
    lock_file.truncate(0)
    lock_file.write(str(os.getpid()))
    lock_file.flush()
    return lock_file


def _case_key(*parts: str) -> str:
    """A repo's type folder, namespace and name, as one case-insensitive key."""
    return "/".join(parts).casefold()


def git_identity(user: str) -> str:
    """The author line of commits made by ``user``."""
    return f"{user} <{user}@users.noreply.localhost>"


def _read_meta(folder: Path) -> RepoMeta | None:
    try:
        raw = json.loads((folder / "meta.json").read_text("utf-8"))
    except FileNotFoundError:
        return None
    pull_requests = tuple(PullRequest(**pr) for pr in raw.pop("pull_requests", ()))
    return RepoMeta(**raw, pull_requests=pull_requests)


def _write_json_atomically(path: Path, payload: object) -> None:
    partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    partial.write_text(json.dumps(payload, indent=2), "utf-8")
    os.replace(partial, path)
