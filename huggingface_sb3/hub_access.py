"""Talking to the Hub: the repo id and token checks done before any request, and the translation of the
``huggingface_hub`` client's errors into this package's errors (cause + next step)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .errors import (
    HubAccessError,
    HubConflictError,
    HubRequestError,
    HuggingFaceSB3Error,
    InvalidRepoIdError,
    MissingFileError,
    MissingTokenError,
    RepoNotFoundError,
    RevisionNotFoundError,
)

if TYPE_CHECKING:
    from huggingface_hub import HfApi


def check_repo_id(repo_id: object, *, namespace_required: bool = True) -> str:
    """Refuse repo ids the Hub would refuse, before any request."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if not isinstance(repo_id, str):
        raise InvalidRepoIdError(f"The repo id must be a string like 'your-name/ppo-CartPole-v1', not {repo_id!r}.")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise InvalidRepoIdError(f"Invalid repo id {repo_id!r}: {error} Use 'your-name/model-name'.") from None
    if namespace_required and "/" not in repo_id:
        raise InvalidRepoIdError(
            f"Invalid repo id {repo_id!r}: it needs a namespace, as in 'your-name/{repo_id}' (your user or organisation)."
        )
    return repo_id


def require_token(token: str | None) -> str:
    """The token to push with: the argument, else ``HF_TOKEN`` or the saved login; MissingTokenError if none."""
    from huggingface_hub import get_token

    found = token or get_token()
    if not found:
        raise MissingTokenError(
            "Pushing to the Hub needs a write token: pass token=..., set HF_TOKEN, or run `hf auth login`. "
            "To only build the repo folder locally, pass push=False."
        )
    return found


def hub_api(token: str | None, endpoint: str | None = None) -> HfApi:
    """An ``HfApi`` with ``token`` on ``endpoint`` (default: ``HF_ENDPOINT``, else huggingface.co)."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint, token=token, library_name="huggingface_sb3", library_version=_version())


def endpoint_url(endpoint: str | None) -> str:
    """The Hub URL requests go to: ``endpoint``, else ``HF_ENDPOINT``, else huggingface.co."""
    from huggingface_hub import constants

    return (endpoint or constants.ENDPOINT).rstrip("/")


def _version() -> str:
    from . import __version__

    return __version__


def resolve_url(endpoint: str | None, repo_id: str, revision: str, filename: str) -> str:
    """The URL that serves ``filename`` of a repo at ``revision``."""
    from urllib.parse import quote

    return f"{endpoint_url(endpoint)}/{repo_id}/resolve/{quote(revision, safe='')}/{filename}"


def check_reachable(endpoint: str | None) -> None:
    """Fail at once, with the network error, when the Hub cannot be reached at all.

    huggingface_hub retries a download whose file is not cached for about 23 s (printing each retry) before it
    gives up, even when the connection is refused; one request to the Hub's root tells that in one round trip.
    Run it inside :func:`hub_errors`, which turns the network error into a :class:`HubRequestError`.
    """
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    if not constants.HF_HUB_OFFLINE:
        get_session().head(endpoint_url(endpoint), timeout=constants.HF_HUB_ETAG_TIMEOUT)


@contextmanager
def hub_errors(
    repo_id: str, *, endpoint: str | None = None, revision: str | None = None, filename: str | None = None
) -> Iterator[None]:
    """Re-raise ``huggingface_hub`` errors as this package's errors, naming the cause and the next step."""
    from huggingface_hub import errors as hub

    where = f"{repo_id} on {endpoint_url(endpoint)}"
    try:
        yield
    except hub.OfflineModeIsEnabled:
        raise HubRequestError(
            f"Cannot reach {where}: HF_HUB_OFFLINE is set. Unset it, or use files already in the cache "
            "(local_files_only=True)."
        ) from None
    except hub.RevisionNotFoundError as error:
        raise _answered(
            RevisionNotFoundError,
            f"{repo_id} has no branch, tag or commit {revision!r}. List its refs with "
            f"`hf repos branch list {repo_id}` or pass another revision.",
            error,
        ) from error
    except hub.LocalEntryNotFoundError as error:
        what = f"{filename!r} of {repo_id}" if filename else f"the files of {repo_id}"
        cause = _connection_cause(error)
        if cause is not None or not _cache_only(error):
            reason = f" ({_describe(cause)})" if cause is not None else ""
            raise HubRequestError(
                f"Cannot reach {endpoint_url(endpoint)} to download {what}{reason}, and they are not in the local "
                "cache. Check your network connection and HF_ENDPOINT."
            ) from error
        raise _answered(
            MissingFileError,
            f"{what} is not in the local cache, the only place searched (local_files_only=True or HF_HUB_OFFLINE "
            "set). Download it once while online.",
            error,
        ) from error
    except hub.EntryNotFoundError as error:
        raise _answered(
            MissingFileError,
            f"{repo_id} has no file {filename!r} at revision {revision or 'main'}. Check the file name "
            "(e.g. with HfApi().list_repo_files).",
            error,
        ) from error
    except hub.GatedRepoError as error:
        raise _answered(
            HubAccessError,
            f"{where} is gated: accept its conditions on its page while logged in with the account of your token, "
            "then retry.",
            error,
        ) from error
    except hub.RepositoryNotFoundError as error:
        raise _answered(
            RepoNotFoundError,
            f"Repository {where} not found. Check the repo id; if it is private, pass a token that can read it.",
            error,
        ) from error
    except hub.HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if status == 401:
            raise _answered(
                HubAccessError,
                f"The Hub refused the token for {where} (401). Pass a valid token (token=..., HF_TOKEN or "
                "`hf auth login`).",
                error,
            ) from error
        if status == 403:
            raise _answered(
                HubAccessError,
                f"The token cannot write to {where} (403): it is read-only or not allowed in that namespace. "
                "Use a write token of the namespace's owner, or push to your own namespace.",
                error,
            ) from error
        if status in (409, 412):
            raise _answered(
                HubConflictError,
                f"{where} changed while pushing (someone else committed); nothing was written. Run the push again.",
                error,
            ) from error
        raise _answered(HubRequestError, f"The Hub answered an error for {where}: {error}", error) from error
    except Exception as error:
        if not is_connection_error(error):
            raise
        raise HubRequestError(
            f"Cannot reach {endpoint_url(endpoint)} for {repo_id} ({_describe(error)}). Check your "
            "network connection and HF_ENDPOINT."
        ) from error


def _answered(error_class: type[HuggingFaceSB3Error], message: str, error: Exception) -> HuggingFaceSB3Error:
    """The package error for a Hub answer; also a ``requests.exceptions.HTTPError``, as 3.0's errors were.

    The Hub's request id is kept in the message (what its support asks for); the client's own error, with the
    server's message, stays chained as the cause (shown by ``--debug``)."""
    from .hub_http_errors import from_hub_answer

    request_id = getattr(error, "request_id", None)
    if request_id and request_id not in message:
        message = f"{message} (Request ID: {request_id})"
    return from_hub_answer(error_class, message, getattr(error, "response", None))


def _connection_cause(error: BaseException) -> BaseException | None:
    """The network error under ``error`` (its ``__cause__``/``__context__`` chain), if there is one."""
    seen: set[int] = set()
    current: BaseException | None = error.__cause__ or error.__context__
    while current is not None and id(current) not in seen:
        if is_connection_error(current):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _cache_only(error: BaseException) -> bool:
    """Whether the client looked only in the cache (``local_files_only`` or ``HF_HUB_OFFLINE``)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or "outgoing traffic has been disabled" in str(error)


def _describe(error: BaseException) -> str:
    """A network error on one line: ``ConnectError: [Errno 111] Connection refused``."""
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def is_connection_error(error: BaseException) -> bool:
    """Whether ``error`` comes from the network layer under huggingface_hub (httpx2, httpx or requests)."""
    return isinstance(error, ConnectionError) or type(error).__module__.split(".")[0] in _NETWORK_LIBRARIES


_NETWORK_LIBRARIES = frozenset({"httpx", "httpx2", "httpcore", "requests", "urllib3"})
