"""Unpickling what Stable-Baselines3 stores, without running anybody's code.

A pickle can call any importable function while it is read. This unpickler resolves only the globals SB3 really
stores (spaces, numpy arrays, scalars and RNG states, SB3 schedules, buffers, policies, feature extractors, noise,
``VecNormalize`` and its running statistics, torch tensors, optimiser and activation classes) and refuses every other
one *before* it can be called. Tensor storages are read with ``torch.load(weights_only=True)``. Names that moved are mapped: ``numpy.core`` to ``numpy._core`` (NumPy 2) and ``gym``'s
spaces to gymnasium's (agents saved with SB3 1.x under ``gym``).

``cloudpickle`` functions (closures that SB3 < 2.7 saved for schedules) are recognised but never rebuilt: they are
arbitrary code.
"""

from __future__ import annotations

import importlib
import io
import pickle
from typing import Any

__all__ = ["DisallowedGlobal", "is_closure_global", "restricted_loads"]

_MODULE_ALIASES = {
    "numpy.core.multiarray": "numpy._core.multiarray",
    "numpy.core.numeric": "numpy._core.numeric",
    "numpy.core._multiarray_umath": "numpy._core._multiarray_umath",
    "gym.spaces.box": "gymnasium.spaces.box",
    "gym.spaces.discrete": "gymnasium.spaces.discrete",
    "gym.spaces.multi_discrete": "gymnasium.spaces.multi_discrete",
    "gym.spaces.multi_binary": "gymnasium.spaces.multi_binary",
    "gym.spaces.dict": "gymnasium.spaces.dict",
    "gym.spaces.tuple": "gymnasium.spaces.tuple",
}

_ALLOWED_GLOBALS = frozenset(
    {
        ("builtins", "float"),
        ("builtins", "int"),
        ("builtins", "slice"),
        ("collections", "deque"),
        ("collections", "OrderedDict"),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.random._pickle", "__generator_ctor"),
        ("numpy.random._pickle", "__bit_generator_ctor"),
        ("numpy.random._pickle", "__randomstate_ctor"),
        ("numpy.random._pcg64", "PCG64"),
        ("numpy.random._mt19937", "MT19937"),
        ("numpy.random.bit_generator", "SeedSequence"),
        ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
        ("gymnasium.spaces.box", "Box"),
        ("gymnasium.spaces.discrete", "Discrete"),
        ("gymnasium.spaces.multi_discrete", "MultiDiscrete"),
        ("gymnasium.spaces.multi_binary", "MultiBinary"),
        ("gymnasium.spaces.dict", "Dict"),
        ("gymnasium.spaces.tuple", "Tuple"),
        ("stable_baselines3.common.utils", "FloatSchedule"),
        ("stable_baselines3.common.utils", "ConstantSchedule"),
        ("stable_baselines3.common.utils", "LinearSchedule"),
        ("stable_baselines3.common.type_aliases", "TrainFreq"),
        ("stable_baselines3.common.type_aliases", "TrainFrequencyUnit"),
        ("stable_baselines3.common.vec_env.vec_normalize", "VecNormalize"),
        ("stable_baselines3.common.running_mean_std", "RunningMeanStd"),
        ("torch", "device"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_parameter"),
    }
)

# Modules whose classes may be referenced when they subclass one of SB3's or torch's own base classes.
_CLASS_FAMILIES = (
    (("stable_baselines3.", "sb3_contrib."), "stable_baselines3.common.policies", "BasePolicy"),
    (("stable_baselines3.", "sb3_contrib."), "stable_baselines3.common.buffers", "BaseBuffer"),
    (("stable_baselines3.", "sb3_contrib."), "stable_baselines3.common.torch_layers", "BaseFeaturesExtractor"),
    (("stable_baselines3.common.noise",), "stable_baselines3.common.noise", "ActionNoise"),
    (("torch.optim.",), "torch.optim", "Optimizer"),
    (("torch.nn.modules.activation",), "torch.nn", "Module"),
)

_CLOSURE_MODULES = ("cloudpickle", "copyreg", "types")


def _storage_from_bytes(data: bytes) -> Any:
    """A tensor storage pickled by torch (``torch.storage._load_from_bytes``, which loads with
    ``weights_only=False``), loaded with ``weights_only=True`` instead."""
    import torch

    return torch.load(io.BytesIO(data), weights_only=True)


# Globals that are resolved to a safe stand-in rather than to themselves.
_SAFE_STAND_INS = {("torch.storage", "_load_from_bytes"): _storage_from_bytes}


class DisallowedGlobal(pickle.UnpicklingError):
    """A pickle asked for a global that is not on the allow-list (it was not resolved, let alone called)."""

    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"global {module}.{name} is not on the allow-list")
        self.module = module
        self.name = name

    @property
    def qualified_name(self) -> str:
        """``module.name`` as the pickle spelled it."""
        return f"{self.module}.{self.name}"


def is_closure_global(error: DisallowedGlobal) -> bool:
    """Whether a refused global is cloudpickle's machinery for functions saved by value (old SB3 schedules)."""
    return error.module.startswith(_CLOSURE_MODULES) or error.module.endswith(".py")


def _resolve(module: str, name: str) -> Any:
    target = _MODULE_ALIASES.get(module, module)
    if (target, name) in _SAFE_STAND_INS:
        return _SAFE_STAND_INS[(target, name)]
    if (target, name) in _ALLOWED_GLOBALS:
        return getattr(importlib.import_module(target), name)
    families = [
        (base_module, base_name) for prefixes, base_module, base_name in _CLASS_FAMILIES if target.startswith(prefixes)
    ]
    if families and not name.startswith("_"):
        try:
            candidate = getattr(importlib.import_module(target), name)
        except (ImportError, AttributeError):
            raise DisallowedGlobal(module, name) from None
        for base_module, base_name in families:
            base = getattr(importlib.import_module(base_module), base_name)
            if isinstance(candidate, type) and issubclass(candidate, base):
                return candidate
    raise DisallowedGlobal(module, name)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return _resolve(module, name)


def restricted_loads(data: bytes) -> Any:
    """Unpickle ``data`` resolving only allow-listed globals.

    Raises:
        DisallowedGlobal: the first global outside the allow-list (nothing of it was run).
        pickle.UnpicklingError, ValueError, ...: a malformed pickle.
    """
    return _RestrictedUnpickler(io.BytesIO(data)).load()
