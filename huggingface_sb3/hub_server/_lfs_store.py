"""Content-addressed storage of large files (Git LFS objects), and the pointer files git keeps for them.

Objects live at ``objects/<oid[:2]>/<oid[2:4]>/<oid>`` like git-lfs lays them out. Beside each object sits
``<oid>.sha1``, the git blob SHA-1 of the content, so that the Hub can answer a ``regular``-mode
``preupload`` with the oid the client compares against. Objects only ever enter the store whole, by an
atomic rename of a file whose size and SHA-256 were checked while it was written.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import IO, NamedTuple

POINTER_VERSION = b"version https://git-lfs.github.com/spec/v1"
_POINTER_RE = re.compile(rb"version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
_MAX_POINTER_BYTES = 200


class LfsPointer(NamedTuple):
    """What a pointer file says: the SHA-256 of the content and its size in bytes."""

    oid: str
    size: int


def make_pointer(oid: str, size: int) -> bytes:
    """The text git stores in place of a large file."""
    return POINTER_VERSION + f"\noid sha256:{oid}\nsize {size}\n".encode("ascii")


def parse_pointer(data: bytes) -> LfsPointer | None:
    """Read a pointer file; ``None`` if ``data`` is not one."""
    match = _POINTER_RE.fullmatch(data) if len(data) < _MAX_POINTER_BYTES else None
    return LfsPointer(match.group(1).decode("ascii"), int(match.group(2))) if match else None


def looks_like_pointer(path: Path, size: int) -> bool:
    """Whether the file at ``path`` (of ``size`` bytes) reads as an LFS pointer."""
    return size < _MAX_POINTER_BYTES and parse_pointer(path.read_bytes()) is not None


class HashingWriter:
    """Write bytes to a file while computing their SHA-256 and git blob SHA-1.

    The git blob SHA-1 covers a ``blob <size>\\0`` header, so the expected size is needed up front;
    ``matches`` says whether what was written has exactly that size (and, if given, that SHA-256).
    """

    def __init__(self, file: IO[bytes], expected_size: int) -> None:
        self.file = file
        self.expected_size = expected_size
        self.written = 0
        self._sha256 = hashlib.sha256()
        self._git_sha1 = hashlib.sha1(b"blob %d\0" % expected_size)

    def write(self, chunk: bytes) -> None:
        """Append ``chunk`` to the file and to both digests."""
        self.file.write(chunk)
        self._sha256.update(chunk)
        self._git_sha1.update(chunk)
        self.written += len(chunk)

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of what was written so far."""
        return self._sha256.hexdigest()

    @property
    def git_sha1(self) -> str:
        """Hex git blob SHA-1, valid once exactly ``expected_size`` bytes were written."""
        return self._git_sha1.hexdigest()

    def matches(self, sha256: str | None = None) -> bool:
        """True when the size (and ``sha256``, if given) are the expected ones."""
        return self.written == self.expected_size and (sha256 is None or self.sha256 == sha256)


class LfsStore:
    """The large-file objects of one repo."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, oid: str) -> Path:
        """Where the object with this SHA-256 is (or would be) stored."""
        if not SHA256_RE.fullmatch(oid):
            raise ValueError(f"not a SHA-256 hex digest: {oid!r}")
        return self.root / oid[:2] / oid[2:4] / oid

    def size(self, oid: str) -> int | None:
        """Size of the stored object, ``None`` if it is not stored."""
        try:
            return self.path(oid).stat().st_size
        except FileNotFoundError:
            return None

    def has(self, oid: str, size: int | None = None) -> bool:
        """Whether the object is stored (with this size, if given)."""
        stored = self.size(oid)
        return stored is not None and (size is None or stored == size)

    def git_sha1(self, oid: str) -> str:
        """The git blob SHA-1 of a stored object's content."""
        return self.path(oid).with_suffix(".sha1").read_text("ascii").strip()

    def adopt(self, source: Path, oid: str, git_sha1: str) -> None:
        """Move a verified temporary file into the store (a no-op if the object is already there).

        ``source`` must be on the same file system as the store; it is consumed either way.
        """
        target = self.path(oid)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.has(oid):
            source.unlink(missing_ok=True)
            return
        sidecar = target.with_suffix(".sha1")
        sidecar_tmp = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.{id(source)}.tmp")
        sidecar_tmp.write_text(git_sha1, "ascii")
        os.replace(sidecar_tmp, sidecar)
        os.replace(source, target)
