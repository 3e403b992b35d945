"""Validation of what clients name: repo ids, paths inside a repo, and git reference names."""

from __future__ import annotations

import re
import unicodedata

from ._errors import HubError, bad_request

REPO_TYPES = ("model", "dataset", "space")
MAX_NAME_LENGTH = 96
MAX_PATH_BYTES = 1024

_NAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?", re.ASCII)
_REF_FORBIDDEN_RE = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def validate_repo_part(value: str, what: str) -> str:
    """Check a namespace or repo name against the Hub's rules and return it.

    Letters, digits, ``-``, ``_`` and ``.``; at most 96 characters; no leading or trailing ``-``/``.``;
    no ``--`` or ``..``; no ``.git`` ending.
    """
    if (
        not value
        or len(value) > MAX_NAME_LENGTH
        or not _NAME_RE.fullmatch(value)
        or "--" in value
        or ".." in value
        or value.endswith(".git")
    ):
        raise bad_request(
            f"Invalid {what} {value!r}: use letters, digits, '-', '_' or '.', at most {MAX_NAME_LENGTH} characters, "
            "not starting or ending with '-' or '.', without '--' or '..', and not ending in '.git'."
        )
    return value


def validate_path_in_repo(path: object) -> str:
    """Check a file or folder path inside a repo and return it without a trailing slash.

    Refuses empty, absolute and over-long paths, ``.``/``..``/empty segments, control characters, a path starting
    with ``..\\`` (422, as the Hub answers) and anything inside ``.git/``. Other backslashes are part of a name, as on
    the Hub: clients keep such files inside their download folder themselves (huggingface_hub refuses names that
    would leave it on Windows). The path is returned in Unicode NFC, so the composed and decomposed
    spellings of one name (macOS writes the latter) are one file, not two that look the same.
    """
    if not isinstance(path, str):
        raise bad_request(f"Invalid path {path!r}: expected a string.")
    stripped = unicodedata.normalize("NFC", path[:-1] if path.endswith("/") else path)
    if not stripped:
        raise bad_request("Invalid path '': a path inside the repo cannot be empty.")
    try:
        encoded = stripped.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request(f"Invalid path {path!r}: not valid Unicode text.") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise bad_request(f"Invalid path: longer than {MAX_PATH_BYTES} bytes.")
    if stripped.startswith("/"):
        raise bad_request(f"Invalid path {path!r}: paths are relative to the repo root, not absolute.")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in stripped):
        raise bad_request(f"Invalid path {path!r}: control characters are not allowed.")
    if stripped.startswith("..\\"):
        raise HubError(422, f"Invalid path {path!r}: a relative path leaving the repo is not allowed.")
    for segment in stripped.split("/"):
        if segment in ("", ".", ".."):
            raise bad_request(f"Invalid path {path!r}: empty, '.' and '..' segments are not allowed.")
        if segment.lower() == ".git":
            raise bad_request(f"Invalid path {path!r}: nothing can be written inside '.git'.")
    return stripped


def is_plausible_revision(revision: str) -> bool:
    """Whether a branch, tag, ``refs/...`` name or commit id could name a ref at all: the characters and shapes
    git forbids (``..``, control characters, ``~^:?*[\\``, leading, trailing or doubled ``/``) are ruled out
    before the name reaches the ref store."""
    return (
        bool(revision)
        and ".." not in revision
        and not _REF_FORBIDDEN_RE.search(revision)
        and not revision.startswith("/")
        and not revision.endswith("/")
        and "//" not in revision
    )


def validate_ref_name(name: str, what: str = "branch") -> str:
    """Check a branch or tag name against git's reference rules (``git check-ref-format``) and return it."""
    if (
        not name
        or len(name) > 256
        or not is_plausible_revision(name)
        or name.startswith(("-", "refs/"))
        or name.endswith((".", ".lock"))
        or "@{" in name
        or name in ("@", "HEAD")
        or any(segment.startswith(".") for segment in name.split("/"))
    ):
        raise bad_request(
            f"Invalid {what} name {name!r}: it must be a valid git reference name "
            "(no spaces, '..', '~', '^', ':', '?', '*', '[', '\\' or '@{', not starting with 'refs/', '-' or '.', "
            "and not 'HEAD')."
        )
    return name
