"""Errors raised by huggingface_sb3.

Every error a user can cause is a :class:`HuggingFaceSB3Error`; most also subclass the natural built-in
(``ValueError``, ``FileNotFoundError``, ``OSError``) so existing ``except`` clauses keep working. Messages
name the cause and end with what to do next.
"""

from __future__ import annotations

__all__ = ["HuggingFaceSB3Error", "LocalHubError"]


class HuggingFaceSB3Error(Exception):
    """Base class of every error raised by huggingface_sb3."""


class LocalHubError(HuggingFaceSB3Error, OSError):
    """The local Hub server could not start or stop (port taken, data directory not writable, ...)."""
