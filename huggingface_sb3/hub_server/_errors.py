"""Errors the local Hub answers with, shaped so that ``huggingface_hub`` raises the matching exception.

The client reads the ``X-Error-Code`` header to pick ``RepositoryNotFoundError``, ``RevisionNotFoundError``
or ``EntryNotFoundError``; on plain ``http://`` endpoints that header is the only signal it trusts.
"""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal["RepoNotFound", "RevisionNotFound", "EntryNotFound"]


class HubError(Exception):
    """A request the local Hub refuses: an HTTP status, a message for the user, an optional error code, and
    optional extra headers and JSON fields (a 409 from ``create_repo`` must still carry ``url``)."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        error_code: ErrorCode | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.error_code = error_code
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def repo_not_found() -> HubError:
    """The repo does not exist, or it is private and the caller is not its owner (the Hub does not tell which)."""
    return HubError(
        404,
        "Repository not found",  # the Hub's words: the client's own message then says what to check
        error_code="RepoNotFound",
    )


def revision_not_found(revision: str, repo_id: str) -> HubError:
    """No branch, tag, pull request or commit of the repo has this name."""
    return HubError(
        404,
        f"Invalid rev id: {revision} is not a branch, tag or commit of {repo_id}.",
        error_code="RevisionNotFound",
    )


def entry_not_found(path: str, revision: str, *, commit_id: str | None = None) -> HubError:
    """The revision has no file (or folder) at this path."""
    headers = {"X-Repo-Commit": commit_id} if commit_id else None
    return HubError(
        404,
        f"Entry Not Found: {path!r} does not exist at revision {revision}.",
        error_code="EntryNotFound",
        headers=headers,
    )


def bad_request(message: str) -> HubError:
    """Malformed or invalid input (400)."""
    return HubError(400, message)
