"""Unpickling what Stable-Baselines3 stores, without running anybody's code.

A pickle can call any importable function while it is read. This unpickler resolves only the globals SB3 really
stores (spaces, numpy arrays, scalars and RNG states, SB3 schedules, buffers, policies, feature extractors, noise,
``VecNormalize`` and its running statistics, torch tensors, optimiser and activation classes) and refuses every other
one *before* it can be called. Each call a pickle makes is vetted before it runs: a class SB3 stores by reference
(policies, buffers, extractors, optimisers, ``VecNormalize``, ...) is never called, and a call that would allocate
more than the file holds (``Box(0, 1, (10**8,))``, an empty array of 10**9 elements) is refused. Tensor storages are
read with ``torch.load(weights_only=True)``. Names that moved are
mapped: ``numpy.core`` to ``numpy._core`` (NumPy 2) and ``gym``'s spaces to gymnasium's (agents saved with SB3 1.x
under ``gym``). The RL Zoo's ``SimpleLinearSchedule`` is rebuilt by :mod:`.zoo_schedules`, without rl_zoo3.

Functions saved by value (the closures ``cloudpickle`` writes for schedules: SB3 < 2.7's learning rate and clip
range, sb3-contrib's ``delta_std_schedule``, a user's own lambda) or by reference are arbitrary code: they are never
rebuilt. :func:`pickles_a_function` tells them apart from everything else by replaying the pickle on inert symbols,
so nothing it names is imported or called.
"""

from __future__ import annotations

import importlib
import io
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .agent_limits import MAX_ALLOCATION_BYTES, element_count

__all__ = ["DisallowedGlobal", "RefusedCall", "pickles_a_function", "restricted_loads"]

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
        ("huggingface_sb3.safe_load", "UnavailableSchedule"),
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


# Allow-listed classes that Stable-Baselines3 stores by reference, or rebuilds from their state without calling them
# (as are the classes of _CLASS_FAMILIES): a pickle calling one would build a normaliser from the file's numbers.
_REFERENCE_ONLY = frozenset({("stable_baselines3.common.vec_env.vec_normalize", "VecNormalize")})


@dataclass(frozen=True)
class _Allocation:
    """Where a callable's arguments say how much it allocates: the (position, keyword) of its shape and of its dtype,
    and the dtype it uses by default. The values are not in the file, so their size is bounded."""

    shape: tuple[int | None, str | None]
    dtype: tuple[int | None, str | None]
    default_dtype: str

    def size(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        """Bytes the call would allocate (0 when its arguments are not a shape: the callee refuses those)."""
        import numpy as np

        count = element_count(_argument(args, kwargs, self.shape, None)) or 0
        try:
            itemsize = np.dtype(_argument(args, kwargs, self.dtype, self.default_dtype)).itemsize
        except (TypeError, ValueError):
            itemsize = 1
        return count * max(itemsize, 1)


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], where: tuple[int | None, str | None], default: Any) -> Any:
    position, keyword = where
    if keyword is not None and keyword in kwargs:
        return kwargs[keyword]
    return args[position] if position is not None and position < len(args) else default


_ALLOCATIONS = {
    ("gymnasium.spaces.box", "Box"): _Allocation(shape=(2, "shape"), dtype=(3, "dtype"), default_dtype="float32"),
    ("numpy", "ndarray"): _Allocation(shape=(0, "shape"), dtype=(1, "dtype"), default_dtype="float64"),
    ("numpy._core.multiarray", "_reconstruct"): _Allocation(shape=(1, None), dtype=(2, None), default_dtype="uint8"),
    ("stable_baselines3.common.running_mean_std", "RunningMeanStd"): _Allocation(
        shape=(1, "shape"), dtype=(None, None), default_dtype="float64"
    ),
    ("numpy.random.bit_generator", "SeedSequence"): _Allocation(
        shape=(None, "pool_size"), dtype=(None, None), default_dtype="uint32"
    ),
}


def _storage_from_bytes(data: bytes) -> Any:
    """A tensor storage pickled by torch (``torch.storage._load_from_bytes``, which loads with
    ``weights_only=False``), loaded with ``weights_only=True`` instead."""
    import torch

    return torch.load(io.BytesIO(data), weights_only=True)


# Globals that are resolved to a safe stand-in rather than to themselves.
_SAFE_STAND_INS = {("torch.storage", "_load_from_bytes"): _storage_from_bytes}
# Classes of other packages that are rebuilt by one of ours (module, name), without importing their package.
_STAND_IN_CLASSES = {
    ("rl_zoo3.utils", "SimpleLinearSchedule"): ("huggingface_sb3.zoo_schedules", "SimpleLinearSchedule")
}


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


class RefusedCall(pickle.UnpicklingError):
    """A pickle asked an allow-listed global for something Stable-Baselines3's files never need: to allocate more
    than :data:`~.agent_limits.MAX_ALLOCATION_BYTES` the file does not hold, to call a class that SB3 only stores by
    reference, or to set attributes on a class. Nothing was called."""


def _resolve(module: str, name: str) -> tuple[Any, bool]:
    """The global a pickle names, and whether it may only be referenced (created empty, never called)."""
    target = _MODULE_ALIASES.get(module, module)
    if (target, name) in _SAFE_STAND_INS:
        return _SAFE_STAND_INS[(target, name)], False
    if (target, name) in _STAND_IN_CLASSES:
        stand_in_module, stand_in_name = _STAND_IN_CLASSES[(target, name)]
        return getattr(importlib.import_module(stand_in_module), stand_in_name), False
    if (target, name) in _ALLOWED_GLOBALS:
        return getattr(importlib.import_module(target), name), (target, name) in _REFERENCE_ONLY
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
                return candidate, True
    raise DisallowedGlobal(module, name)


@dataclass(frozen=True)
class _CallRule:
    """How a resolved global may be called by a pickle."""

    name: str
    reference_only: bool
    allocation: _Allocation | None


class _PurePythonUnpickler(pickle._Unpickler):
    """pickle's pure-Python VM, with the internals its subclasses here use declared: typeshed's stub of
    ``pickle._Unpickler`` leaves them out. Declarations only: nothing changes at run time."""

    stack: list[Any]  # the VM's value stack, set by load()
    append: Callable[[Any], None]  # load() binds it to stack.append

    if TYPE_CHECKING:

        def _instantiate(self, klass: Any, args: tuple[Any, ...]) -> None: ...  # INST and OBJ

        def load_build(self) -> None: ...  # BUILD


class _RestrictedUnpickler(_PurePythonUnpickler):  # the pure-Python VM, to vet every call before it is made
    """Resolves only allow-listed globals, and vets each call a pickle makes of them (REDUCE, NEWOBJ, INST, OBJ) and
    each BUILD, before it runs."""

    dispatch: ClassVar[dict[int, Any]] = dict(pickle._Unpickler.dispatch)

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file)
        self._rules: dict[Any, _CallRule] = {}

    def find_class(self, module: str, name: str) -> Any:
        value, reference_only = _resolve(module, name)
        target = _MODULE_ALIASES.get(module, module)
        self._rules[value] = _CallRule(f"{target}.{name}", reference_only, _ALLOCATIONS.get((target, name)))
        return value

    def _vet(self, callee: Any, args: tuple[Any, ...], kwargs: dict[str, Any], *, empty: bool) -> None:
        """Refuse a call of ``callee`` (``empty``: only its ``__new__``) that SB3's files never make."""
        rule = self._rules.get(callee) if callable(callee) else None
        if rule is None:
            return
        if rule.reference_only and not empty:
            raise RefusedCall(f"calls {rule.name}, a class Stable-Baselines3 only stores by reference")
        size = rule.allocation.size(args, kwargs) if rule.allocation else 0
        if size > MAX_ALLOCATION_BYTES:
            raise RefusedCall(
                f"calls {rule.name} to allocate {size:,} bytes the file does not hold (an agent's spaces and arrays "
                f"need at most {MAX_ALLOCATION_BYTES:,})"
            )

    def _load_reduce(self) -> None:
        args = self.stack.pop()
        self._vet(self.stack[-1], args, {}, empty=False)
        self.stack[-1] = self.stack[-1](*args)

    def _load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        self._vet(cls, args, {}, empty=True)
        self.append(cls.__new__(cls, *args))

    def _load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self._vet(cls, args, kwargs, empty=True)
        self.append(cls.__new__(cls, *args, **kwargs))

    def _instantiate(self, klass: Any, args: tuple[Any, ...]) -> None:  # INST and OBJ
        self._vet(klass, args, {}, empty=False)
        super()._instantiate(klass, args)

    def _load_build(self) -> None:
        if isinstance(self.stack[-2], type):
            raise RefusedCall(f"sets attributes of the class {self.stack[-2].__qualname__}")
        super().load_build()

    dispatch[pickle.REDUCE[0]] = _load_reduce
    dispatch[pickle.NEWOBJ[0]] = _load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = _load_newobj_ex
    dispatch[pickle.BUILD[0]] = _load_build


def restricted_loads(data: bytes) -> Any:
    """Unpickle ``data`` resolving only allow-listed globals.

    Raises:
        DisallowedGlobal: the first global outside the allow-list (nothing of it was run).
        RefusedCall: a call of an allowed global that SB3's files never make (nothing of it was run).
        pickle.UnpicklingError, ValueError, ...: a malformed pickle.
    """
    try:
        return _RestrictedUnpickler(io.BytesIO(data)).load()
    except (KeyError, struct.error, RuntimeError) as error:
        # the pure-Python VM's unknown or truncated opcode; torch refusing a tensor whose size does not fit its bytes
        first_line = next(iter(str(error).splitlines()), "")
        raise pickle.UnpicklingError(f"malformed pickle ({type(error).__name__}: {first_line})") from None


# How pickles rebuild a function by value: cloudpickle's constructors (every version since 0.5), and the function types
# that cloudpickle >= 1.5 names through ``_builtin_type("LambdaType")`` or that a hand-made pickle names directly.
_FUNCTION_CONSTRUCTORS = frozenset({"_make_function", "_fill_function", "_make_skel_func"})
_FUNCTION_TYPE_NAMES = frozenset({"FunctionType", "LambdaType", "MethodType"})
# Callables that wrap another function and are functions themselves when they do (SB3 >= 2.7 saves a user's
# learning-rate lambda as ``FloatSchedule(value_schedule=<lambda>)``).
_FUNCTION_WRAPPERS = frozenset({("functools", "partial"), ("stable_baselines3.common.utils", "FloatSchedule")})
_PROBE_DEPTH = 16


class _Symbol:
    """An inert stand-in for whatever a probed pickle names or builds: calling, building or filling it only records
    how it was made. ``origin`` is ``(module, name)`` for a global, or ``(callee, args)`` for a call."""

    def __init__(self, origin: tuple[Any, Any], *, is_call: bool) -> None:
        self.origin = origin
        self.is_call = is_call
        self.state: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> _Symbol:
        return _Symbol((self, args), is_call=True)

    def __setstate__(self, state: Any) -> None:
        """BUILD on a symbol: keep the state (a wrapper's wrapped function may be there)."""
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:
        """SETITEM(S) on a symbol."""

    def append(self, item: Any) -> None:
        """APPEND on a symbol."""

    def extend(self, items: Any) -> None:
        """APPENDS on a symbol."""

    def add(self, item: Any) -> None:
        """ADDITEMS on a symbol."""


class _ProbeUnpickler(_PurePythonUnpickler):  # the pure-Python VM: NEWOBJ must accept symbols, which are not types
    """Runs a pickle's opcodes with every global replaced by a :class:`_Symbol`: nothing is imported or called."""

    dispatch: ClassVar[dict[int, Any]] = dict(pickle._Unpickler.dispatch)

    def find_class(self, module: str, name: str) -> _Symbol:
        return _Symbol((module, name), is_call=False)

    def _load_newobj(self) -> None:
        args = self.stack.pop()
        callee = self.stack.pop()
        self.append(_call(callee, args))

    def _load_newobj_ex(self) -> None:
        self.stack.pop()  # keyword arguments
        self._load_newobj()

    dispatch[pickle.NEWOBJ[0]] = _load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = _load_newobj_ex


def _call(callee: Any, args: Any) -> Any:
    if not isinstance(callee, _Symbol):
        raise pickle.UnpicklingError("a probed pickle calls something that is not a global")
    return callee(*args) if isinstance(args, tuple) else _Symbol((callee, ()), is_call=True)


def _is_function(value: Any, depth: int = 0) -> bool:
    """Whether a probed value is a function: a global named without being called (a function saved by reference),
    a call of a function constructor or of a function type, or a wrapper (``functools.partial``, SB3's
    ``FloatSchedule``) of a function."""
    if not isinstance(value, _Symbol) or depth > _PROBE_DEPTH:
        return False
    if not value.is_call:
        return True
    callee, args = value.origin
    if not callee.is_call:
        module, name = callee.origin
        if module.startswith("cloudpickle") and name in _FUNCTION_CONSTRUCTORS:
            return True
        if module == "types" and name in _FUNCTION_TYPE_NAMES:
            return True
        if (module, name) in _FUNCTION_WRAPPERS:
            state = value.state.values() if isinstance(value.state, dict) else ()
            return any(_is_function(part, depth + 1) for part in (*args, *state))
        return False
    inner_callee, inner_args = callee.origin  # a type built by a call, then called: _builtin_type("LambdaType")(...)
    return (
        not inner_callee.is_call
        and inner_callee.origin[0].startswith("cloudpickle")
        and inner_callee.origin[1] == "_builtin_type"
        and bool(inner_args)
        and inner_args[0] in _FUNCTION_TYPE_NAMES
    )


def pickles_a_function(data: bytes) -> bool:
    """Whether ``data`` pickles a function (by value, as cloudpickle saves closures and lambdas, or by reference),
    found without importing or calling anything it names. A malformed pickle is not a function."""
    try:
        return _is_function(_ProbeUnpickler(io.BytesIO(data)).load())
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError):
        return False
