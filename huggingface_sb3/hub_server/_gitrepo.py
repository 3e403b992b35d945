"""One Hub repo's history: a bare git repository (through dulwich) plus its large-file store.

Commit ids are real git SHA-1s. Large files are kept as Git LFS pointer blobs in git, their content in the
repo's :class:`~._lfs_store.LfsStore`. A blob counts as a large file only if it parses as a pointer *and* the
object it points to is in the store. An inline file that itself reads as a pointer is stored as a large file
(its content in the store), so every pointer blob written points at an object present when it was committed:
nobody can supply the bytes of someone else's pointer-looking text file later through the LFS API.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, TypeVar

from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tag, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from ._lfs_store import LfsPointer, LfsStore, make_pointer, parse_pointer
from ._names import is_plausible_revision

FILE_MODE = 0o100644
DIR_MODE = 0o040000
HEX40_RE = re.compile(r"[0-9a-f]{40}")
SHORT_SHA_RE = re.compile(r"[0-9a-f]{7,39}")
"""An abbreviated commit id, as ``git`` and the Hub accept it: at least 7 hex digits."""
DEFAULT_BRANCH = "main"


class GitRepoError(Exception):
    """A lookup or change the repository refuses; the message says why, for the user. The server turns each kind
    into the Hub's answer (see ``_app``); this module knows nothing of HTTP."""


class RevisionMissing(GitRepoError):
    """The branch or ref to change does not exist."""


class StaleParent(GitRepoError):
    """The commit was computed against a parent that is no longer the branch head."""


class RefConflict(GitRepoError):
    """A ref cannot be created or moved: it nests with another, or moved meanwhile."""


class EntryMissing(GitRepoError):
    """No file or folder at a path; ``commit_id`` is the commit that was looked at, when there is one."""

    def __init__(self, message: str, *, commit_id: str | None = None) -> None:
        super().__init__(message)
        self.commit_id = commit_id


class InvalidChange(GitRepoError):
    """A change that cannot apply: a file where a folder is (or the reverse), a large file never uploaded."""


@dataclass(frozen=True)
class FileEntry:
    """A file at one revision: its git blob id, real size, and LFS pointer when it is a large file."""

    path: str
    blob_id: str
    size: int
    lfs: LfsPointer | None
    pointer_size: int | None


@dataclass(frozen=True)
class FolderEntry:
    """A folder at one revision and its git tree id."""

    path: str
    tree_id: str


@dataclass(frozen=True)
class CommitRecord:
    """One commit of the history, as the commits endpoint reports it."""

    commit_id: str
    title: str
    message: str
    date: datetime
    author: str


@dataclass(frozen=True)
class FileChange:
    """A file a commit added, modified or deleted."""

    kind: Literal["added", "modified", "deleted"]
    path: str


@dataclass(frozen=True)
class AddFile:
    """Add or replace a regular file; its content waits in a temporary file."""

    path: str
    source: Path


@dataclass(frozen=True)
class PendingObject:
    """A large file's verified content waiting in a temporary file, and its git blob SHA-1."""

    source: Path
    git_sha1: str


@dataclass(frozen=True)
class AddLfsFile:
    """Add or replace a large file: its content is in the repo's LFS store, or ``pending`` until the commit is
    written (so a refused commit stores nothing)."""

    path: str
    oid: str
    size: int | None
    pending: PendingObject | None = None


@dataclass(frozen=True)
class DeleteFile:
    """Remove one file."""

    path: str


@dataclass(frozen=True)
class DeleteFolder:
    """Remove a folder and everything under it."""

    path: str


Change = AddFile | AddLfsFile | DeleteFile | DeleteFolder

_ObjectT = TypeVar("_ObjectT", bound=ShaFile)


def _ref(name: str) -> Ref:
    """A ref name as dulwich types it (``Ref`` is bytes at run time)."""
    return Ref(name.encode())


def _object_id(hex_id: str) -> ObjectID:
    """A hex object id as dulwich types it (``ObjectID`` is bytes at run time)."""
    return ObjectID(hex_id.encode())


class _BlobInfoCache:
    """Size and pointer of blobs already read; blob ids are content hashes, so entries never go stale."""

    def __init__(self, capacity: int = 65536) -> None:
        self._capacity = capacity
        self._items: OrderedDict[bytes, tuple[int, LfsPointer | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, blob_id: bytes) -> tuple[int, LfsPointer | None] | None:
        with self._lock:
            return self._items.get(blob_id)

    def put(self, blob_id: bytes, info: tuple[int, LfsPointer | None]) -> None:
        with self._lock:
            self._items[blob_id] = info
            if len(self._items) > self._capacity:
                self._items.popitem(last=False)


_BLOB_INFO = _BlobInfoCache()


def loose_branch_head(git_dir: Path, branch: str) -> str | None:
    """The commit a branch points to, read from its loose ref file without opening the repository (a few
    microseconds, for listings); None when the branch is not a plain loose ref (missing, packed or symbolic)."""
    if not is_plausible_revision(branch):
        return None
    try:
        text = (git_dir / "refs" / "heads" / branch).read_bytes().strip().decode("ascii")
    except (OSError, UnicodeDecodeError):
        return None
    return text if HEX40_RE.fullmatch(text) else None


class GitRepo:
    """Read and write one bare git repository and its LFS store."""

    def __init__(self, git_dir: Path, lfs: LfsStore) -> None:
        self._repo = Repo(str(git_dir))
        self.lfs = lfs

    @classmethod
    def create(cls, git_dir: Path, lfs: LfsStore, *, initial_files: dict[str, bytes], author: str) -> GitRepo:
        """Initialise a bare repository whose ``main`` branch has one commit with ``initial_files``."""
        Repo.init_bare(str(git_dir), mkdir=True).close()
        repo = cls(git_dir, lfs)
        repo._repo.refs.set_symbolic_ref(_ref("HEAD"), _ref(f"refs/heads/{DEFAULT_BRANCH}"))
        files = {path: repo._write_blob(data) for path, data in initial_files.items()}
        commit_id = repo._write_commit(files, parents=[], author=author, message="initial commit")
        repo._repo.refs[_ref(f"refs/heads/{DEFAULT_BRANCH}")] = commit_id
        return repo

    def close(self) -> None:
        """Release the repository's open files."""
        self._repo.close()

    # -- revisions ---------------------------------------------------------------------------------

    def resolve(self, revision: str) -> tuple[str, str | None] | None:
        """Map a branch, tag, ``refs/...`` name, commit id or unambiguous abbreviated commit id (7 hex digits or
        more, as the Hub accepts) to ``(commit id, ref name or None)``."""
        if not is_plausible_revision(revision):
            return None
        candidates = [revision] if revision.startswith("refs/") else [f"refs/heads/{revision}", f"refs/tags/{revision}"]
        for ref in candidates:
            target = self._read_ref(ref)
            if target is not None:
                return target, ref
        if HEX40_RE.fullmatch(revision) and self._is_commit(_object_id(revision)):
            return revision, None
        if SHORT_SHA_RE.fullmatch(revision):
            commit = self._unique_commit_with_prefix(revision)
            return (commit, None) if commit is not None else None
        return None

    def _unique_commit_with_prefix(self, prefix: str) -> str | None:
        """The one commit whose id starts with ``prefix``; None when there is none, or more than one."""
        found = None
        for sha in self._repo.object_store.iter_prefix(prefix.encode("ascii")):
            if self._is_commit(sha):
                if found is not None:
                    return None
                found = sha.decode("ascii")
        return found

    def _read_ref(self, ref: str) -> str | None:
        try:
            sha = self._repo.refs[_ref(ref)]
        except (KeyError, ValueError):
            return None
        return self._peel(sha).decode("ascii")

    def _object(self, sha: ObjectID, kind: type[_ObjectT]) -> _ObjectT:
        """The object ``sha``, which the caller knows is a ``kind`` (a commit id it resolved, a commit's tree...)."""
        obj = self._repo.object_store[sha]
        if not isinstance(obj, kind):
            raise TypeError(f"git object {sha.decode('ascii')} is a {obj.type_name.decode()}, not a {kind.__name__}")
        return obj

    def _peel(self, sha: ObjectID) -> ObjectID:
        obj = self._repo.object_store[sha]
        while isinstance(obj, Tag):
            sha = obj.object[1]
            obj = self._repo.object_store[sha]
        return sha

    def _is_commit(self, sha: ObjectID) -> bool:
        try:
            return isinstance(self._repo.object_store[sha], Commit)
        except KeyError:
            return False

    def refs(self, prefix: str) -> dict[str, str]:
        """``{short name: commit id}`` of the refs under ``prefix`` (e.g. ``refs/heads/``)."""
        refs = self._repo.refs.as_dict(_ref(prefix.rstrip("/")))
        return {name.decode(): self._peel(sha).decode("ascii") for name, sha in sorted(refs.items())}

    def set_ref(self, ref: str, commit_id: str, *, must_not_exist: bool = False) -> bool:
        """Point ``ref`` at a commit; with ``must_not_exist`` only if it is new. Returns whether it was set.

        A new ref that would nest under an existing one, or hold existing ones (``a/b`` beside ``a``), is a 409:
        git stores refs as files in folders, so both cannot exist.
        """
        if must_not_exist:
            self._check_no_nesting(ref)
            return self._repo.refs.add_if_new(_ref(ref), _object_id(commit_id))
        self._repo.refs[_ref(ref)] = _object_id(commit_id)
        return True

    def _check_no_nesting(self, ref: str) -> None:
        parts = ref.split("/")
        enclosing = ["/".join(parts[:depth]) for depth in range(3, len(parts))]
        clash = next((name for name in enclosing if _ref(name) in self._repo.refs), None)
        if clash is None and self._repo.refs.subkeys(_ref(ref)):
            clash = f"{ref}/..."
        if clash is not None:
            raise RefConflict(
                f"Cannot create {ref}: it conflicts with the existing {clash} (a ref cannot also be a folder of refs). "
                "Pick another name."
            )

    def delete_ref(self, ref: str) -> bool:
        """Remove ``ref``; False if it did not exist."""
        if not is_plausible_revision(ref) or _ref(ref) not in self._repo.refs:
            return False
        return self._repo.refs.remove_if_equals(_ref(ref), None)

    def create_annotated_tag(self, ref: str, commit_id: str, *, message: str, tagger: str) -> bool:
        """Create ``refs/tags/...`` as an annotated tag object carrying ``message``; False if it exists."""
        tag = Tag()
        tag.name = ref.removeprefix("refs/tags/").encode()
        tag.object = (Commit, _object_id(commit_id))
        tag.message = message.encode()
        tag.tagger = tagger.encode()
        tag.tag_time = int(time.time())
        tag.tag_timezone = 0
        self._check_no_nesting(ref)
        self._repo.object_store.add_object(tag)
        return self._repo.refs.add_if_new(_ref(ref), tag.id)

    # -- reading trees -----------------------------------------------------------------------------

    def commit_date(self, commit_id: str) -> datetime:
        """When a commit was made (UTC)."""
        commit = self._object(_object_id(commit_id), Commit)
        return datetime.fromtimestamp(commit.commit_time, tz=timezone.utc)

    def history(self, commit_id: str) -> Iterator[CommitRecord]:
        """The commits reachable by first parents from ``commit_id``, newest first."""
        sha: ObjectID | None = _object_id(commit_id)
        while sha is not None:
            commit = self._object(sha, Commit)
            text = commit.message.decode("utf-8", "replace")
            title, _, body = text.partition("\n")
            yield CommitRecord(
                commit_id=sha.decode("ascii"),
                title=title,
                message=body.strip("\n"),
                date=datetime.fromtimestamp(commit.commit_time, tz=timezone.utc),
                author=commit.author.decode("utf-8", "replace").split(" <", 1)[0],
            )
            sha = commit.parents[0] if commit.parents else None

    def last_commits(self, commit_id: str, paths: Collection[str], *, max_commits: int) -> dict[str, CommitRecord]:
        """For each path (file or folder), the newest commit, by first parents from ``commit_id``, that changed it.

        Walks at most ``max_commits`` commits: a path whose change lies further back is left out. Each commit costs
        one tree lookup per path still open, so the caller bounds ``paths`` too.
        """
        found: dict[str, CommitRecord] = {}
        now = {path: self._lookup(commit_id, path) for path in paths}
        for record in itertools.islice(self.history(commit_id), max_commits):
            parents = self.parents(record.commit_id)
            for path in [path for path in now if path not in found]:
                before = self._lookup(parents[0], path) if parents else None
                if before != now[path]:
                    found[path] = record
            if len(found) == len(now):
                break
        return found

    def parents(self, commit_id: str) -> tuple[str, ...]:
        """The parent commit ids of a commit (none for the first one)."""
        return tuple(sha.decode("ascii") for sha in self._object(_object_id(commit_id), Commit).parents)

    def changes(self, commit_id: str) -> list[FileChange]:
        """What a commit did to the files of its first parent (of nothing, for the first commit), by path."""
        parents = self.parents(commit_id)
        before = dict(self._blob_ids(self._tree_of(parents[0]), "")) if parents else {}
        after = dict(self._blob_ids(self._tree_of(commit_id), ""))
        changed = [
            FileChange("added" if path not in before else "modified", path)
            for path, blob_id in after.items()
            if before.get(path) != blob_id
        ]
        changed += [FileChange("deleted", path) for path in before.keys() - after.keys()]
        return sorted(changed, key=lambda change: change.path)

    def _tree_of(self, commit_id: str) -> ObjectID:
        return self._object(_object_id(commit_id), Commit).tree

    def _lookup(self, commit_id: str, path: str) -> tuple[int, ObjectID] | None:
        mode, sha = DIR_MODE, self._tree_of(commit_id)
        for segment in path.split("/") if path else []:
            if mode != DIR_MODE:
                return None
            tree = self._object(sha, Tree)  # mode is DIR_MODE: a folder's entry is a tree
            try:
                mode, sha = tree[segment.encode()]
            except KeyError:
                return None
        return mode, sha

    def entry(self, commit_id: str, path: str) -> FileEntry | FolderEntry | None:
        """The file or folder at ``path`` (``""`` is the root folder), or None."""
        found = self._lookup(commit_id, path)
        if found is None:
            return None
        mode, sha = found
        return FolderEntry(path, sha.decode("ascii")) if mode == DIR_MODE else self._file_entry(path, sha)

    def list_folder(self, commit_id: str, path: str, *, recursive: bool) -> list[FileEntry | FolderEntry]:
        """The entries under a folder, depth-first in git order when ``recursive``."""
        folder = self.entry(commit_id, path)
        if not isinstance(folder, FolderEntry):
            raise EntryMissing(
                f"Entry Not Found: {path!r} does not exist at revision {commit_id}.", commit_id=commit_id
            )
        return list(self._walk(_object_id(folder.tree_id), path, recursive=recursive))

    def _walk(self, tree_id: ObjectID, prefix: str, *, recursive: bool) -> Iterator[FileEntry | FolderEntry]:
        tree = self._object(tree_id, Tree)
        for item in tree.iteritems():
            path = f"{prefix}/{item.path.decode()}" if prefix else item.path.decode()
            if item.mode == DIR_MODE:
                yield FolderEntry(path, item.sha.decode("ascii"))
                if recursive:
                    yield from self._walk(item.sha, path, recursive=True)
            else:
                yield self._file_entry(path, item.sha)

    def files(self, commit_id: str) -> dict[str, FileEntry]:
        """Every file of a revision, by path."""
        return {e.path: e for e in self.list_folder(commit_id, "", recursive=True) if isinstance(e, FileEntry)}

    def _blob_ids(self, tree_id: ObjectID, prefix: str) -> Iterator[tuple[str, ObjectID]]:
        for item in self._object(tree_id, Tree).iteritems():
            path = f"{prefix}/{item.path.decode()}" if prefix else item.path.decode()
            if item.mode == DIR_MODE:
                yield from self._blob_ids(item.sha, path)
            else:
                yield path, item.sha

    def _file_entry(self, path: str, blob_id: ObjectID) -> FileEntry:
        info = _BLOB_INFO.get(blob_id)
        if info is None:
            data = self._repo.object_store[blob_id].as_raw_string()
            info = (len(data), parse_pointer(data))
            _BLOB_INFO.put(blob_id, info)
        blob_size, pointer = info
        if pointer is not None and self.lfs.has(pointer.oid, pointer.size):
            return FileEntry(path, blob_id.decode("ascii"), pointer.size, pointer, blob_size)
        return FileEntry(path, blob_id.decode("ascii"), blob_size, None, None)

    def read_blob(self, blob_id: str) -> bytes:
        """The content of a regular file's blob."""
        return self._repo.object_store[_object_id(blob_id)].as_raw_string()

    # -- writing -----------------------------------------------------------------------------------

    def commit(
        self,
        ref: str,
        changes: Sequence[Change],
        *,
        author: str,
        message: str,
        parent_commit: str | None = None,
    ) -> str:
        """Apply ``changes`` on top of ``ref`` as one commit and move ``ref`` to it; return the commit id.

        Every change is checked before anything is written, and ``ref`` moves only if it still points at the
        commit the changes were computed against, so a commit applies completely or not at all. The caller
        serialises commits to one repo. A commit that changes nothing returns the current head.
        """
        head = self._read_ref(ref)
        if head is None:
            raise RevisionMissing(f"Invalid rev id: {ref} does not exist.")
        if parent_commit is not None and parent_commit != head:
            raise StaleParent(
                "The branch was updated since you opened this page. Please refresh and try again. "  # the Hub's words
                f"(The parent commit {parent_commit} is no longer the head of {ref}, now {head}: someone committed "
                "in between. Fetch the new head and retry.)"
            )
        files = dict(self._blob_ids(self._tree_of(head), ""))
        planned = _plan(files, changes, self.lfs, ref=ref)
        new_files = {
            path: blob if isinstance(blob, bytes) else self._write_change(blob) for path, blob in planned.items()
        }
        if self._build_tree(new_files) == self._tree_of(head):
            return head
        commit_id = self._write_commit(new_files, parents=[_object_id(head)], author=author, message=message)
        if not self._repo.refs.set_if_equals(_ref(ref), _object_id(head), commit_id):
            raise RefConflict(f"{ref} moved during the commit; retry.")
        return commit_id.decode("ascii")

    def _write_change(self, change: AddFile | AddLfsFile) -> ObjectID:
        if isinstance(change, AddFile):
            return self._write_blob(change.source.read_bytes())
        if change.pending is not None:
            self.lfs.adopt(change.pending.source, change.oid, change.pending.git_sha1)
        size = change.size if change.size is not None else self.lfs.size(change.oid)
        assert size is not None, "_plan checked that the large file is stored (or adopt just stored it)"
        return self._write_blob(make_pointer(change.oid, size))

    def _write_blob(self, data: bytes) -> ObjectID:
        blob = Blob.from_string(data)
        self._repo.object_store.add_object(blob)
        return blob.id

    def _build_tree(self, files: dict[str, ObjectID]) -> ObjectID:
        children: dict[str, dict[str, ObjectID]] = {}
        tree = Tree()
        for path, blob_id in files.items():
            head, sep, rest = path.partition("/")
            if sep:
                children.setdefault(head, {})[rest] = blob_id
            else:
                tree.add(head.encode(), FILE_MODE, blob_id)
        for name, sub_files in children.items():
            tree.add(name.encode(), DIR_MODE, self._build_tree(sub_files))
        self._repo.object_store.add_object(tree)
        return tree.id

    def _write_commit(
        self, files: dict[str, ObjectID], *, parents: list[ObjectID], author: str, message: str
    ) -> ObjectID:
        commit = Commit()
        commit.tree = self._build_tree(files)
        commit.parents = parents
        commit.author = commit.committer = author.encode()
        commit.author_time = commit.commit_time = int(time.time())
        commit.author_timezone = commit.commit_timezone = 0
        commit.encoding = b"UTF-8"
        commit.message = message.encode()
        self._repo.object_store.add_object(commit)
        return commit.id


class _PlannedFiles:
    """The file table of a commit in progress, with a count of files under each folder for conflict checks."""

    def __init__(self, files: dict[str, ObjectID]) -> None:
        self.files: dict[str, ObjectID | AddFile | AddLfsFile] = {}
        self._folder_sizes: Counter[str] = Counter()
        for path, blob_id in files.items():
            self.put(path, blob_id)

    @staticmethod
    def _folders(path: str) -> Iterator[str]:
        parts = path.split("/")
        return ("/".join(parts[:depth]) for depth in range(1, len(parts)))

    def put(self, path: str, content: ObjectID | AddFile | AddLfsFile) -> None:
        if path not in self.files:
            self._folder_sizes.update(self._folders(path))
        self.files[path] = content

    def remove(self, path: str) -> None:
        del self.files[path]
        self._folder_sizes.subtract(self._folders(path))

    def is_folder(self, path: str) -> bool:
        return self._folder_sizes[path] > 0


def _plan(
    files: dict[str, ObjectID], changes: Sequence[Change], lfs: LfsStore, *, ref: str
) -> dict[str, ObjectID | AddFile | AddLfsFile]:
    """The repo's files after ``changes``: existing blob ids, or the change that will write a new blob.

    Raises before anything is written: deleting what does not exist, a file where a folder is (or the
    reverse), or a large file whose content was never uploaded.
    """
    planned = _PlannedFiles(files)
    for change in changes:
        if isinstance(change, DeleteFile) and change.path not in planned.files and planned.is_folder(change.path):
            change = DeleteFolder(change.path)  # the Hub deletes a folder named without its trailing slash too
        if isinstance(change, DeleteFile):
            if change.path not in planned.files:
                raise EntryMissing(f"A file with this name doesn't exist: cannot delete {change.path!r} on {ref}.")
            planned.remove(change.path)
        elif isinstance(change, DeleteFolder):
            if not planned.is_folder(change.path):
                raise EntryMissing(f"A folder with this name doesn't exist: cannot delete {change.path!r} on {ref}.")
            prefix = change.path + "/"
            for path in [path for path in planned.files if path.startswith(prefix)]:
                planned.remove(path)
        else:
            if planned.is_folder(change.path):
                raise InvalidChange(f"Cannot add the file {change.path!r}: a folder with that name exists.")
            parent = next((folder for folder in _PlannedFiles._folders(change.path) if folder in planned.files), None)
            if parent is not None:
                raise InvalidChange(f"Cannot add {change.path!r}: {parent!r} is a file, not a folder.")
            if isinstance(change, AddLfsFile) and change.pending is None and not lfs.has(change.oid, change.size):
                raise InvalidChange(
                    f"The large file {change.path!r} (sha256 {change.oid}) was not uploaded to this repo, or its "
                    "size differs: upload it through the LFS batch API before committing."
                )
            planned.put(change.path, change)
    return planned.files
