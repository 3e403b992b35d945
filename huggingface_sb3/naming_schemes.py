"""The 3.0 module name of :mod:`huggingface_sb3.naming` (the RL Zoo imports from here)."""

from .naming import EnvironmentName, ModelName, ModelRepoId

__all__ = ["EnvironmentName", "ModelName", "ModelRepoId"]
