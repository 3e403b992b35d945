"""Versions of the libraries an agent was packaged with (recorded in ``results.json`` and the model card)."""

from __future__ import annotations

import platform
from importlib import metadata

_DISTRIBUTIONS = (
    "huggingface-sb3",
    "stable-baselines3",
    "sb3-contrib",
    "gymnasium",
    "ale-py",
    "torch",
    "numpy",
    "huggingface-hub",
)


def library_versions() -> dict[str, str]:
    """``{distribution: version}`` for Python and the installed libraries that matter to an agent."""
    versions = {"python": platform.python_version()}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
