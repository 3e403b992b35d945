"""Errors raised by huggingface_sb3.

Every error a user can cause is a :class:`HuggingFaceSB3Error`; each also subclasses the natural built-in
(``ValueError``, ``FileNotFoundError``, ``PermissionError``, ...) so existing ``except`` clauses keep working.
Messages name the cause and end with what to do next.
"""

from __future__ import annotations

__all__ = [
    "CorruptArtifactError",
    "EnvironmentNotRenderableError",
    "EnvironmentUnavailableError",
    "EvaluationError",
    "HubAccessError",
    "HubConflictError",
    "HubRequestError",
    "HuggingFaceSB3Error",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidRepoIdError",
    "LocalHubError",
    "MissingDependencyError",
    "MissingFileError",
    "MissingTokenError",
    "RepoNotFoundError",
    "RevisionNotFoundError",
    "UnavailablePartError",
    "UnknownAlgorithmError",
    "UnknownEnvironmentError",
    "UnsafeArtifactError",
    "UnsupportedModelError",
    "VideoEncodingError",
]


class HuggingFaceSB3Error(Exception):
    """Base class of every error raised by huggingface_sb3."""


class LocalHubError(HuggingFaceSB3Error, OSError):
    """The local Hub server could not start or stop (port taken, data directory not writable, ...)."""


class InvalidArgumentError(HuggingFaceSB3Error, ValueError):
    """An argument outside what the call accepts (e.g. zero evaluation episodes, a model name with a slash)."""


class InvalidRepoIdError(HuggingFaceSB3Error, ValueError):
    """A repo id that the Hub would refuse (it must be ``namespace/name`` with the Hub's allowed characters)."""


class UnknownEnvironmentError(HuggingFaceSB3Error, ValueError):
    """An environment id that is not registered with gymnasium (or whose package is not installed)."""


class EnvironmentNotRenderableError(HuggingFaceSB3Error, ValueError):
    """A replay video was asked for, but the environment cannot render ``rgb_array`` frames."""


class EnvironmentUnavailableError(HuggingFaceSB3Error, RuntimeError):
    """A loaded agent's env cannot be built here (env id unknown, a custom wrapper, statistics missing, or gymnasium
    failed to make it); the agent itself loaded."""


class UnsupportedModelError(HuggingFaceSB3Error, TypeError):
    """The object to package is not a Stable-Baselines3 (or sb3-contrib) model."""


class MissingTokenError(HuggingFaceSB3Error, PermissionError):
    """A push needs a Hugging Face token and none was given or configured."""


class HubAccessError(HuggingFaceSB3Error, PermissionError):
    """The Hub refused the token (wrong, read-only, or without rights on the namespace)."""


class HubConflictError(HuggingFaceSB3Error, RuntimeError):
    """The branch moved while pushing (someone else committed); nothing was written."""


class HubRequestError(HuggingFaceSB3Error, ConnectionError):
    """The Hub answered a request with an error this library does not map to a more specific one."""


class RepoNotFoundError(HuggingFaceSB3Error, FileNotFoundError):
    """The repo does not exist on the Hub, or it is private and the token cannot see it."""


class RevisionNotFoundError(HuggingFaceSB3Error, FileNotFoundError):
    """The repo has no branch, tag or commit with this name."""


class MissingFileError(HuggingFaceSB3Error, FileNotFoundError):
    """A file or folder the call needs does not exist (locally, or in the repo on the Hub)."""


class EvaluationError(HuggingFaceSB3Error, RuntimeError):
    """The agent could not be evaluated on the environment."""


class VideoEncodingError(HuggingFaceSB3Error, RuntimeError):
    """The replay video could not be encoded (bad frames, or the ffmpeg encoder failed)."""


class UnavailablePartError(HuggingFaceSB3Error, RuntimeError):
    """A part of a loaded agent that was replaced because loading it would have run code from the file (e.g. a
    learning-rate schedule saved as a function) was used; set it before training further."""


class UnsafeArtifactError(HuggingFaceSB3Error, ValueError):
    """A file needs a pickled global outside the allow-list: loading it would run code from the file."""

    def __init__(self, message: str, *, filename: str, key: str | None, global_name: str) -> None:
        super().__init__(message)
        self.filename = filename
        self.key = key
        self.global_name = global_name


class CorruptArtifactError(HuggingFaceSB3Error, ValueError):
    """A file is not what it claims to be: a corrupt, truncated or oversized zip, or malformed content."""


class IntegrityError(HuggingFaceSB3Error, ValueError):
    """A downloaded file does not match the checksum the Hub published for it."""


class UnknownAlgorithmError(HuggingFaceSB3Error, ValueError):
    """The algorithm of an agent could not be determined (or is not one this library knows)."""


class MissingDependencyError(HuggingFaceSB3Error, ImportError):
    """A package the agent needs is not installed (e.g. sb3-contrib for QRDQN)."""
