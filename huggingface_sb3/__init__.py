"""huggingface_sb3: share Stable-Baselines3 agents on the Hugging Face Hub and load them back safely.

Importing the package is light: torch, Stable-Baselines3, gymnasium, numpy and the Hub client are only imported
by the functions that need them, and most names are loaded on first use.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huggingface_sb3_launcher import warn_if_fork_beside

# 3.0 compatibility: the package attributes ``push_to_hub`` and ``load_from_hub`` are functions, and importing the
# modules of the same names here first keeps them so (a later submodule import does not rebind them).
from .load_from_hub import load_from_hub as load_from_hub
from .push_to_hub import package_to_hub as package_to_hub
from .push_to_hub import push_to_hub as push_to_hub

__version__ = "4.0.0.dev0"

warn_if_fork_beside(Path(__file__).resolve().parent)

_LAZY_NAMES = {
    "EnvironmentName": "huggingface_sb3.naming",
    "EvaluationResult": "huggingface_sb3.evaluation",
    "HuggingFaceSB3Error": "huggingface_sb3.errors",
    "LoadedAgent": "huggingface_sb3.loading",
    "LocalHub": "huggingface_sb3.hub_server",
    "LocalHubError": "huggingface_sb3.errors",
    "ModelName": "huggingface_sb3.naming",
    "ModelRepoId": "huggingface_sb3.naming",
    "PackageResult": "huggingface_sb3.package",
    "evaluate_agent": "huggingface_sb3.evaluation",
    "generate_metadata": "huggingface_sb3.card",
    "load_agent": "huggingface_sb3.loading",
}

__all__ = sorted([*_LAZY_NAMES, "__version__", "load_from_hub", "package_to_hub", "push_to_hub"])

if TYPE_CHECKING:
    from .card import generate_metadata as generate_metadata
    from .errors import HuggingFaceSB3Error as HuggingFaceSB3Error
    from .errors import LocalHubError as LocalHubError
    from .evaluation import EvaluationResult as EvaluationResult
    from .evaluation import evaluate_agent as evaluate_agent
    from .hub_server import LocalHub as LocalHub
    from .loading import LoadedAgent as LoadedAgent
    from .loading import load_agent as load_agent
    from .naming import EnvironmentName as EnvironmentName
    from .naming import ModelName as ModelName
    from .naming import ModelRepoId as ModelRepoId
    from .package import PackageResult as PackageResult


def __getattr__(name: str) -> Any:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'huggingface_sb3' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
