"""Bounds on what an agent's files can make the loader allocate or compute, checked before anything is built.

A few bytes of ``data`` can describe a huge agent: a space of 10**8 elements, a network of 8000-unit layers, a
replay buffer of 10**12 transitions. Stable-Baselines3 would allocate and initialise all of it while loading. These
checks refuse such files first, with :class:`CorruptArtifactError` naming the entry:

- a space (observation or action, nested ``Dict``/``Tuple`` included) holds at most :data:`MAX_SPACE_ELEMENTS`
  values (a stacked Atari frame holds 28,224; four raw 210x160 RGB frames 403,200);
- the policy the settings describe (``net_arch`` in every form SB3 accepts, the features extractor, LSTM sizes,
  critics and quantiles) may not have many more parameters than ``policy.pth`` has room for: a lower bound on its
  size is compared with the size of that member;
- the buffers SB3 creates hold at most :data:`MAX_REPLAY_BUFFER_BYTES` (replay) or :data:`MAX_ROLLOUT_BUFFER_BYTES`
  (rollout) bytes.

Nothing here imports torch; numpy and Stable-Baselines3 are imported by the functions that need them.
"""

from __future__ import annotations

import inspect
import itertools
import math
import operator
from typing import TYPE_CHECKING, Any

from .errors import CorruptArtifactError

if TYPE_CHECKING:
    import gymnasium as gym

__all__ = [
    "MAX_ALLOCATION_BYTES",
    "MAX_REPEATS",
    "MAX_REPLAY_BUFFER_BYTES",
    "MAX_ROLLOUT_BUFFER_BYTES",
    "MAX_SPACE_ELEMENTS",
    "check_buffers",
    "check_policy_size",
    "check_space",
    "describe",
    "element_count",
    "policy_parameters",
    "refused_entry",
    "space_bytes",
    "space_size",
]

MAX_SPACE_ELEMENTS = 2**22
"""Values in one space (4,194,304): ten times four stacked raw Atari frames (4 x 210 x 160 x 3)."""
MAX_ALLOCATION_BYTES = 8 * MAX_SPACE_ELEMENTS
"""Bytes a call in a pickle may allocate without the values being in the file (a space's bounds, an empty array)."""
MAX_SPACE_DEPTH = 8
"""Nesting of ``Dict``/``Tuple`` spaces (robotics goal envs use 2)."""
MAX_SUBSPACES = 1024
"""Spaces inside one observation or action space, nested ones included."""
MAX_REPEATS = 64
"""Layers in one ``net_arch`` list, critics (``n_critics``) and LSTM layers (``n_lstm_layers``): each is built by a
Python loop, and real agents use fewer than 10."""
PARAMETERS_PER_STORED_BYTE = 0.5
"""``policy.pth`` stores float32 parameters (4 bytes each); a policy is allowed twice as many as that (16-bit)."""
PARAMETER_SLACK = 1_000_000
"""Parameters allowed on top of what ``policy.pth`` holds (building a million parameters takes milliseconds)."""
MAX_REPLAY_BUFFER_BYTES = 64 * 1024**3
"""A replay buffer (numpy maps its zeroed pages only when written): a 1M-transition Atari buffer is 28 GB."""
MAX_ROLLOUT_BUFFER_BYTES = 4 * 1024**3
"""A rollout buffer (sb3-contrib fills action masks and LSTM states when loading): real ones are below 1 GB."""
_SCALARS_PER_TRANSITION = 8
"""Rewards, values, log-probabilities, episode starts, ... that a buffer stores beside each observation."""


def element_count(shape: Any) -> int | None:
    """The number of elements of an array of ``shape`` (an int or a sequence of ints), None if it is not one."""
    try:
        dims = [operator.index(shape)] if not hasattr(shape, "__iter__") else [operator.index(d) for d in shape]
    except TypeError:
        return None
    return math.prod(max(dim, 0) for dim in dims)


def check_space(space: Any, filename: str, key: str) -> None:
    """Refuse an entry that is not a gymnasium space, or a space too large or too deeply nested for an agent."""
    import gymnasium as gym

    if not isinstance(space, gym.spaces.Space):
        raise refused_entry(filename, key, f"is {describe(space)}, not a gymnasium space")
    leaves = _leaves(space, filename, key)
    if len(leaves) > MAX_SUBSPACES:
        raise refused_entry(filename, key, f"nests {len(leaves)} spaces, more than the {MAX_SUBSPACES} an agent uses")
    for leaf in leaves:
        _check_leaf(leaf, filename, key)
    size = space_size(space)
    if size > MAX_SPACE_ELEMENTS:
        raise refused_entry(
            filename,
            key,
            f"is a space of {size:,} values, more than the {MAX_SPACE_ELEMENTS:,} any agent's space holds",
        )


def _leaves(space: gym.Space, filename: str, key: str) -> list[gym.Space]:
    """The non-composite spaces inside ``space`` (refusing nesting deeper than :data:`MAX_SPACE_DEPTH`)."""
    import gymnasium as gym

    leaves, level = [], [space]
    for _ in range(MAX_SPACE_DEPTH + 1):
        children = []
        for node in level:
            if isinstance(node, (gym.spaces.Dict, gym.spaces.Tuple)):
                children.extend(_children(node, filename, key))
            else:
                leaves.append(node)
            if len(leaves) + len(children) > MAX_SUBSPACES:
                return [*leaves, *children]
        if not children:
            return leaves
        level = children
    raise refused_entry(filename, key, f"nests Dict/Tuple spaces more than {MAX_SPACE_DEPTH} levels deep")


def _children(space: gym.Space, filename: str, key: str) -> list[gym.Space]:
    """The members of a ``Dict`` or ``Tuple`` space (refusing members that are not spaces)."""
    import gymnasium as gym

    spaces = getattr(space, "spaces", None)
    children = list(spaces.values()) if isinstance(spaces, dict) else spaces
    if not isinstance(children, (list, tuple)) or not all(isinstance(c, gym.spaces.Space) for c in children):
        raise refused_entry(filename, key, f"is a {type(space).__name__} space whose members are not spaces")
    return list(children)


def _members(space: gym.spaces.Dict | gym.spaces.Tuple) -> list[gym.Space]:
    """The members of a composite space that :func:`check_space` accepted."""
    spaces = space.spaces
    return list(spaces.values()) if isinstance(spaces, dict) else list(spaces)


def _check_leaf(space: gym.Space, filename: str, key: str) -> None:
    """Refuse a space whose fields do not fit together (set from a pickle's state, no constructor checked them)."""
    import gymnasium as gym
    import numpy as np

    problem = None
    if isinstance(space, gym.spaces.Box):
        low, high, shape = getattr(space, "low", None), getattr(space, "high", None), getattr(space, "_shape", None)
        dtype = getattr(space, "dtype", None)
        if not (isinstance(low, np.ndarray) and isinstance(high, np.ndarray) and low.shape == high.shape == shape):
            problem = "is a Box whose low and high bounds do not have its shape"
        elif not (isinstance(dtype, np.dtype) and dtype.kind in "iufb"):
            problem = f"is a Box of dtype {dtype!r}, not a number type"
    elif isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)):
        if _leaf_size(space) is None:
            problem = f"is a {type(space).__name__} space without a valid size"
    else:
        problem = f"is a {type(space).__name__} space, which Stable-Baselines3 cannot use"
    if problem:
        raise refused_entry(filename, key, problem)


def space_size(space: gym.Space) -> int:
    """How many values a policy reads or writes for ``space`` (a one-hot ``Discrete(n)`` counts ``n``), after
    :func:`check_space`."""
    import gymnasium as gym

    if isinstance(space, (gym.spaces.Dict, gym.spaces.Tuple)):
        return sum(space_size(child) for child in _members(space))
    return _leaf_size(space) or 0


def _leaf_size(space: gym.Space) -> int | None:
    import gymnasium as gym

    if isinstance(space, gym.spaces.Discrete):
        n = _integer(getattr(space, "n", None))
        return n if n is not None and n > 0 else None
    if isinstance(space, gym.spaces.MultiDiscrete):
        values = [_integer(value) for value in getattr(getattr(space, "nvec", None), "flat", [None])]
        positive = [value for value in values if value is not None and value > 0]
        return sum(positive) if values and len(positive) == len(values) else None
    return element_count(getattr(space, "_shape", None))


def space_bytes(space: gym.Space) -> int:
    """Bytes of one value of ``space`` as a replay buffer stores it (its dtype; int64 for discrete spaces)."""
    import gymnasium as gym
    import numpy as np

    if isinstance(space, (gym.spaces.Dict, gym.spaces.Tuple)):
        return sum(space_bytes(child) for child in _members(space))
    if isinstance(space, gym.spaces.Discrete):
        return 8
    if isinstance(space, gym.spaces.MultiDiscrete):
        return 8 * int(space.nvec.size)
    return (element_count(space._shape) or 0) * np.dtype(space.dtype).itemsize


def _integer(value: Any) -> int | None:
    try:
        return None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        return None


def policy_parameters(
    policy_class: type, kwargs: dict[str, Any], observation_space: gym.Space, action_space: gym.Space, filename: str
) -> int:
    """A lower bound on the parameters of the policy Stable-Baselines3 builds from these settings: the weights of
    its features extractor, LSTM and fully connected layers (biases, target networks, extra heads not counted).

    Raises:
        CorruptArtifactError: a setting that SB3 cannot build a policy from (wrong type, ``net_arch`` form).
    """
    settings = _Settings(policy_class, kwargs, filename)
    features, total = _features(settings, observation_space)
    width = features
    if settings.has("lstm_hidden_size"):
        hidden, layers = settings.dimension("lstm_hidden_size"), settings.count("n_lstm_layers")
        total += 4 * hidden * (features + hidden) + 8 * hidden * hidden * (layers - 1)
        width = hidden
    actions = space_size(action_space)
    quantiles = settings.dimension("n_quantiles") if settings.has("n_quantiles") else 1
    if hasattr(policy_class, "make_critic"):  # SAC, TD3, DDPG, TQC, CrossQ: an actor and n_critics critics
        pi, _, qf = _net_arch_chains(settings.get("net_arch"), "pi+qf", filename)
        critics = settings.count("n_critics")
        return total + _mlp([width, *pi, actions]) + critics * _mlp([features + actions, *qf, quantiles])
    if hasattr(policy_class, "_build_mlp_extractor"):  # A2C, PPO, TRPO, RecurrentPPO, MaskablePPO
        pi, vf, _ = _net_arch_chains(settings.get("net_arch"), "pi+vf", filename)
        return total + _mlp([width, *pi, actions]) + _mlp([width, *vf, 1])
    net, _, _ = _net_arch_chains(settings.get("net_arch"), "list", filename)  # DQN, QR-DQN, ARS
    return total + _mlp([width, *net, actions * quantiles])


class _Settings:
    """A policy's keyword arguments, with its constructor's defaults for those that were not saved."""

    def __init__(self, policy_class: type, kwargs: dict[str, Any], filename: str) -> None:
        self.kwargs, self.filename = kwargs, filename
        self.defaults = _defaults(policy_class)

    def has(self, name: str) -> bool:
        return name in self.kwargs or name in self.defaults

    def get(self, name: str) -> Any:
        return self.kwargs.get(name, self.defaults.get(name))

    def dimension(self, name: str) -> int:
        """A positive integer setting (a layer width, a number of quantiles, ...)."""
        return _positive(self.get(name), self.filename, f"policy_kwargs[{name!r}]")

    def count(self, name: str) -> int:
        """A positive integer setting that builds that many modules (at most :data:`MAX_REPEATS`)."""
        number = self.dimension(name)
        if number > MAX_REPEATS:
            raise refused_entry(self.filename, f"policy_kwargs[{name!r}]", f"is {number}, more than {MAX_REPEATS}")
        return number


def _positive(value: Any, filename: str, entry: str) -> int:
    number = _integer(value)
    if number is None or number < 1:
        raise refused_entry(filename, entry, f"is {describe(value)}, not a positive integer")
    return number


def _defaults(function: Any) -> dict[str, Any]:
    """The default values of a class's (or function's) parameters, {} if it has no inspectable signature."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: None if p.default is p.empty else p.default for p in parameters}


def _features(settings: _Settings, observation_space: gym.Space) -> tuple[int, int]:
    """(features the extractor outputs, a lower bound on its parameters) for SB3's extractors; any other extractor
    counts its ``features_dim`` setting (or default), or 1, and no parameters."""
    import gymnasium as gym
    from stable_baselines3.common.preprocessing import is_image_space
    from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor, NatureCNN

    extractor = settings.get("features_extractor_class") or FlattenExtractor
    kwargs = settings.get("features_extractor_kwargs") or {}
    defaults = _defaults(extractor)

    def dimension(name: str) -> int:
        where = f"policy_kwargs['features_extractor_kwargs'][{name!r}]"
        return _positive(kwargs.get(name, defaults.get(name)), settings.filename, where)

    if extractor is FlattenExtractor:
        return space_size(observation_space), 0
    if extractor is NatureCNN:
        features = dimension("features_dim")
        return features, features * _nature_cnn_outputs(observation_space)
    if (
        extractor is CombinedExtractor
        and isinstance(observation_space, gym.spaces.Dict)  # the only composite with named members check_space lets by
        and isinstance(getattr(observation_space, "spaces", None), dict)
    ):
        cnn, normalized = dimension("cnn_output_dim"), bool(kwargs.get("normalized_image", False))
        features = parameters = 0
        for child in _members(observation_space):
            if is_image_space(child, normalized_image=normalized):
                features, parameters = features + cnn, parameters + cnn * _nature_cnn_outputs(child)
            else:
                features += space_size(child)
        return features, parameters
    if "features_dim" in kwargs or defaults.get("features_dim") is not None:
        return dimension("features_dim"), 0
    return 1, 0


def _nature_cnn_outputs(space: gym.Space) -> int:
    """Outputs of NatureCNN's convolutions (8x8 stride 4, 4x4 stride 2, 3x3, 64 channels) on a channel-first image."""
    shape = getattr(space, "shape", None) or ()
    if len(shape) != 3:
        return 1
    height, width = (_conv_out(_conv_out(_conv_out(side, 8, 4), 4, 2), 3, 1) for side in shape[1:])
    return max(64 * height * width, 1)


def _conv_out(size: int, kernel: int, stride: int) -> int:
    return max((size - kernel) // stride + 1, 1)


def _mlp(dims: list[int]) -> int:
    """Weights of fully connected layers between consecutive sizes."""
    return sum(a * b for a, b in itertools.pairwise(dims))


def _net_arch_chains(net_arch: Any, form: str, filename: str) -> tuple[list[int], list[int], list[int]]:
    """The hidden layer sizes of the (actor, value, critic) networks that ``net_arch`` describes.

    ``form`` is what the policy accepts: ``"list"`` (DQN, QR-DQN, ARS), ``"pi+vf"`` (on-policy: a list, a dict with
    ``pi``/``vf``, or SB3 < 1.8's ``[dict(pi=..., vf=...)]``, which SB3 converts), ``"pi+qf"`` (SAC, TD3, TQC,
    CrossQ: a list, or a dict with both ``pi`` and ``qf``). ``None`` is the policy's default (counted as no layer).
    """
    where = "policy_kwargs['net_arch']"
    if isinstance(net_arch, list) and net_arch and isinstance(net_arch[0], dict) and form == "pi+vf":
        net_arch = net_arch[0]  # what SB3's load does with the old form
    if net_arch is None:
        return [], [], []
    if isinstance(net_arch, list):
        layers = _layers(net_arch, where, filename)
        return layers, layers, layers
    if not isinstance(net_arch, dict) or form == "list":
        expected = "a list of layer sizes" if form == "list" else "a list of layer sizes or a dict of them"
        raise refused_entry(filename, where, f"is {describe(net_arch)}; this policy takes {expected}")
    if form == "pi+qf" and not {"pi", "qf"} <= net_arch.keys():
        raise refused_entry(filename, where, f"is {describe(net_arch)}; this policy's dict needs both 'pi' and 'qf'")
    pi, vf, qf = (_layers(net_arch.get(name, []), f"{where}[{name!r}]", filename) for name in ("pi", "vf", "qf"))
    return pi, vf, qf


def _layers(sizes: Any, where: str, filename: str) -> list[int]:
    if isinstance(sizes, list) and any(isinstance(size, dict) for size in sizes):
        raise refused_entry(
            filename,
            where,
            f"is {describe(sizes)}: shared layers before a dict, which Stable-Baselines3 >= 1.8 cannot build",
        )
    if not isinstance(sizes, list) or not all(_integer(size) is not None and size > 0 for size in sizes):
        raise refused_entry(filename, where, f"is {describe(sizes)}, not a list of positive layer sizes")
    if len(sizes) > MAX_REPEATS:
        raise refused_entry(filename, where, f"has {len(sizes)} layers, more than {MAX_REPEATS}")
    return [int(size) for size in sizes]


def check_policy_size(values: dict[str, Any], stored_bytes: int, filename: str) -> None:
    """Refuse settings that describe a policy much larger than ``policy.pth`` (``stored_bytes``) can hold."""
    kwargs = values.get("policy_kwargs") or {}
    needed = policy_parameters(
        values["policy_class"], kwargs, values["observation_space"], values["action_space"], filename
    )
    allowed = int(stored_bytes * PARAMETERS_PER_STORED_BYTE) + PARAMETER_SLACK
    if needed > allowed:
        entry = "policy_kwargs['net_arch']" if "net_arch" in kwargs else "policy_kwargs"
        raise refused_entry(
            filename,
            entry,
            f"describes a policy of at least {needed:,} parameters, but policy.pth ({stored_bytes:,} bytes) has room "
            f"for at most {allowed - PARAMETER_SLACK:,}: building it would take minutes and gigabytes for weights the "
            "file does not have",
        )


def check_buffers(values: dict[str, Any], filename: str) -> None:
    """Refuse a replay buffer (``buffer_size``) or a rollout buffer (``n_steps`` x ``n_envs``) larger than a real
    machine can hold, before Stable-Baselines3 allocates it."""
    observation, action = values["observation_space"], values["action_space"]
    n_envs = values.get("n_envs", 1)
    if "buffer_size" in values:
        rows = max(values["buffer_size"] // n_envs, 1) * n_envs
        copies = 1 if values.get("optimize_memory_usage") else 2  # next observations, unless shared
        row_bytes = copies * space_bytes(observation) + space_bytes(action) + 8 * _SCALARS_PER_TRANSITION
        entry, limit = "buffer_size", MAX_REPLAY_BUFFER_BYTES
    elif "n_steps" in values:
        rows = values["n_steps"] * n_envs
        floats = space_size(observation) + space_size(action) + _SCALARS_PER_TRANSITION
        row_bytes = 4 * floats + _recurrent_state_bytes(values, filename)
        entry, limit = "n_steps", MAX_ROLLOUT_BUFFER_BYTES
    else:
        return
    if rows * row_bytes > limit:
        raise refused_entry(
            filename,
            "n_envs" if n_envs > values[entry] else entry,
            f"makes a buffer of {rows:,} transitions of {row_bytes:,} bytes (n_envs={n_envs}): {_gib(rows * row_bytes)}, "
            f"more than the {_gib(limit)} this loader allows",
        )


def _recurrent_state_bytes(values: dict[str, Any], filename: str) -> int:
    """Bytes of the LSTM states a recurrent rollout buffer stores per transition (0 for other policies)."""
    settings = _Settings(values["policy_class"], values.get("policy_kwargs") or {}, filename)
    if not settings.has("lstm_hidden_size"):
        return 0
    return 4 * 4 * settings.count("n_lstm_layers") * settings.dimension("lstm_hidden_size")


def _gib(size: int) -> str:
    return f"{size / 1024**3:,.1f} GiB"


def describe(value: Any) -> str:
    """A value's type and a short repr, for messages (``str 'x'``, ``list [8000, 8000]``)."""
    import reprlib

    return f"{type(value).__name__} {reprlib.repr(value)}"


def refused_entry(filename: str, entry: str, problem: str) -> CorruptArtifactError:
    """The error refusing an entry of an agent's ``data``: ``problem`` is the cause, the message ends with what to do."""
    return CorruptArtifactError(
        f"{filename}: entry {entry!r} {problem}. The file is damaged or was crafted (to exhaust memory or time, say), "
        "so nothing was built from it. Download it again, or ask the repo's author to save the agent again with "
        "Stable-Baselines3."
    )
