"""The errors raised for a Hub answer are also ``requests.exceptions.HTTPError``, as huggingface_sb3 3.0's were (its
``huggingface_hub`` client raised ``requests``' errors), so code written for 3.0 keeps catching them: the RL Zoo's
``rl_zoo3.load_from_hub`` wraps each optional file (``vec_normalize.pkl``, ``env_kwargs.yml``, ...) in
``except HTTPError``. ``.response`` is the Hub's answer (``.response.status_code``), as in 3.0.

This module is imported only when such an error is raised: importing ``requests`` costs more than the whole package.
"""

from __future__ import annotations

from typing import Any, Protocol

from requests.exceptions import HTTPError

from .errors import (
    HubAccessError,
    HubConflictError,
    HubRequestError,
    HuggingFaceSB3Error,
    MissingFileError,
    RepoNotFoundError,
    RevisionNotFoundError,
)

__all__ = [
    "HubAccessHTTPError",
    "HubConflictHTTPError",
    "HubRequestHTTPError",
    "MissingFileHTTPError",
    "RepoNotFoundHTTPError",
    "RevisionNotFoundHTTPError",
    "from_hub_answer",
]


class _HubAnswer(Exception):
    """Keeps the Hub's answer as ``requests`` errors do (``OSError``'s constructor takes no keywords). A mixin
    placed first: ``super().__init__`` is the huggingface_sb3 error's."""

    def __init__(self, message: str, *, response: Any = None) -> None:
        super().__init__(message)
        self.response = response
        try:
            self.request = response.request
        except (AttributeError, RuntimeError):  # httpx raises RuntimeError for a response without its request
            self.request = None


class MissingFileHTTPError(_HubAnswer, MissingFileError, HTTPError):
    """The repo has no such file (or it is not cached and cannot be downloaded)."""


class RepoNotFoundHTTPError(_HubAnswer, RepoNotFoundError, HTTPError):
    """The Hub has no such repo, or it is private."""


class RevisionNotFoundHTTPError(_HubAnswer, RevisionNotFoundError, HTTPError):
    """The repo has no such branch, tag or commit."""


class HubAccessHTTPError(_HubAnswer, HubAccessError, HTTPError):
    """The Hub refused the token (401 or 403)."""


class HubConflictHTTPError(_HubAnswer, HubConflictError, HTTPError):
    """The branch moved while pushing (409 or 412)."""


class HubRequestHTTPError(_HubAnswer, HubRequestError, HTTPError):
    """Another error answer of the Hub."""


class _HTTPVariant(Protocol):
    """The constructor of one of the errors above."""

    def __call__(self, message: str, *, response: Any = None) -> HuggingFaceSB3Error: ...


_HTTP_VARIANTS: dict[type[HuggingFaceSB3Error], _HTTPVariant] = {
    MissingFileError: MissingFileHTTPError,
    RepoNotFoundError: RepoNotFoundHTTPError,
    RevisionNotFoundError: RevisionNotFoundHTTPError,
    HubAccessError: HubAccessHTTPError,
    HubConflictError: HubConflictHTTPError,
    HubRequestError: HubRequestHTTPError,
}


def from_hub_answer(error_class: type[HuggingFaceSB3Error], message: str, response: Any) -> HuggingFaceSB3Error:
    """``error_class(message)`` that is also a ``requests.exceptions.HTTPError`` carrying the Hub's ``response``."""
    return _HTTP_VARIANTS[error_class](message, response=response)
