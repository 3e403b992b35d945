"""huggingface_sb3: share Stable-Baselines3 agents on the Hugging Face Hub and load them back safely.

Importing the package is light: names are loaded on first use, so torch, Stable-Baselines3 and gymnasium
are only imported by the functions that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "4.0.0.dev0"

_LAZY_NAMES = {
    "HuggingFaceSB3Error": "huggingface_sb3.errors",
    "LocalHub": "huggingface_sb3.hub_server",
    "LocalHubError": "huggingface_sb3.errors",
}

__all__ = sorted([*_LAZY_NAMES, "__version__"])

if TYPE_CHECKING:
    from .errors import HuggingFaceSB3Error as HuggingFaceSB3Error
    from .errors import LocalHubError as LocalHubError
    from .hub_server import LocalHub as LocalHub


def __getattr__(name: str) -> Any:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'huggingface_sb3' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
