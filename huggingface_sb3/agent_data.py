"""The types Stable-Baselines3 needs in the entries of an agent's ``data`` that it reads while loading.

SB3 trusts ``data``: ``"n_envs": "x"`` or ``"policy_kwargs": []`` surface as a ``TypeError`` deep inside it, and an
``env`` entry (which SB3 never saves) would make it build that env by its id, importing whatever module a
``module:Env`` id names. :func:`check_entries` refuses such files with :class:`CorruptArtifactError` naming the entry,
before anything is built (the sizes those entries describe are bounded by :mod:`.agent_limits`). Entries that only
training reads are left alone.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .agent_limits import describe, refused_entry

__all__ = ["check_entries"]


def _integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def _positive_integer(value: Any) -> bool:
    return _integer(value) and value >= 1


def _number(value: Any) -> bool:
    import numpy as np

    return _integer(value) or isinstance(value, (float, np.floating))


def _boolean(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (bool, np.bool_))


def _schedule(value: Any) -> bool:
    return _number(value) or callable(value)


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


def _keyword_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(key, str) for key in value)


def _subclass_of(module: str, name: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        import importlib

        return isinstance(value, type) and issubclass(value, getattr(importlib.import_module(module), name))

    return check


def _space(value: Any) -> bool:
    import gymnasium as gym

    return isinstance(value, gym.spaces.Space)


def _auto_or_number(value: Any, *, initial: bool) -> bool:
    """``"auto"``, a number, or (when ``initial``) ``"auto_<initial value>"`` as SAC's ``ent_coef`` accepts."""
    if not isinstance(value, str):
        return _number(value)
    if value == "auto":
        return True
    prefix, _, number = value.partition("_")
    try:
        return initial and prefix == "auto" and float(number) > 0
    except ValueError:
        return False


def _train_freq(value: Any) -> bool:
    """An int, or ``(int, "step" | "episode")`` (SB3's ``TrainFreq`` is such a tuple; the RL Zoo saved -1 with SB3 0.x)."""
    if _integer(value):
        return True
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and _integer(value[0])
        and str(getattr(value[1], "value", value[1])) in ("step", "episode")
    )


def _observation(value: Any) -> bool:
    """What SB3 keeps as the last observation: None, an array, or a dict of arrays (``Dict`` spaces)."""
    import numpy as np

    if isinstance(value, dict):
        return all(isinstance(key, str) and isinstance(item, np.ndarray) for key, item in value.items())
    return value is None or isinstance(value, np.ndarray)


def _array(value: Any) -> bool:
    import numpy as np

    return value is None or isinstance(value, np.ndarray)


_POLICY = _subclass_of("stable_baselines3.common.policies", "BasePolicy")
_BUFFER = _subclass_of("stable_baselines3.common.buffers", "BaseBuffer")
# entry: (what SB3 needs there, check). Every entry SB3 or sb3-contrib reads while loading, and the last observation.
_EXPECTED: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "policy_class": ("a Stable-Baselines3 policy class", _POLICY),
    "observation_space": ("a gymnasium space", _space),
    "action_space": ("a gymnasium space", _space),
    "policy_kwargs": ("a dict of keyword arguments", _keyword_dict),
    "n_envs": ("a positive integer", _positive_integer),
    "n_steps": ("a positive integer", _positive_integer),
    "buffer_size": ("a positive integer", _positive_integer),
    "target_update_interval": ("a number", _number),
    "verbose": ("an integer", _integer),
    "seed": ("an integer or null", _optional(_integer)),
    "learning_rate": ("a number or a schedule", _schedule),
    "clip_range": ("a number or a schedule", _schedule),
    "clip_range_vf": ("a number, a schedule or null", _optional(_schedule)),
    "gamma": ("a number", _number),
    "gae_lambda": ("a number", _number),
    "exploration_initial_eps": ("a number", _number),
    "exploration_final_eps": ("a number", _number),
    "exploration_fraction": ("a number", _number),
    "use_sde": ("true or false", _boolean),
    "optimize_memory_usage": ("true or false", _boolean),
    "zero_policy": ("true or false", _boolean),
    "train_freq": ("an integer or (integer, 'step' | 'episode')", _train_freq),
    "replay_buffer_class": ("a Stable-Baselines3 buffer class or null", _optional(_BUFFER)),
    "rollout_buffer_class": ("a Stable-Baselines3 buffer class or null", _optional(_BUFFER)),
    "replay_buffer_kwargs": ("a dict of keyword arguments", _keyword_dict),
    "rollout_buffer_kwargs": ("a dict of keyword arguments", _keyword_dict),
    "ent_coef": ("a number, 'auto' or 'auto_<initial value>'", lambda value: _auto_or_number(value, initial=True)),
    "target_entropy": ("a number or 'auto'", lambda value: _auto_or_number(value, initial=False)),
    "_last_obs": ("an array, a dict of arrays, or null", _observation),
    "_last_original_obs": ("an array, a dict of arrays, or null", _observation),
    "_last_episode_starts": ("an array or null", _array),
}
_REQUIRED = ("policy_class", "observation_space", "action_space")
# Entries that SB3 never saves and would act on, and what it would do.
_NEVER_SAVED = {"env": "SB3 would make that env, importing the module a 'module:Env-v0' id names"}


def check_entries(values: dict[str, Any], filename: str) -> None:
    """Refuse an agent whose entries (``values``: ``data`` with its serialized entries decoded) are not of the types
    Stable-Baselines3 needs to load it, or that holds an entry SB3 never saves.

    Raises:
        CorruptArtifactError: naming the entry, what it is and what SB3 needs there.
    """
    for key, consequence in _NEVER_SAVED.items():
        if key in values:
            problem = f"is {describe(values[key])}, but Stable-Baselines3 never saves this entry ({consequence})"
            raise refused_entry(filename, key, problem)
    for key in _REQUIRED:
        if key not in values:
            raise refused_entry(filename, key, "is missing; every Stable-Baselines3 agent has it")
    for key, (expected, check) in _EXPECTED.items():
        if key in values and not check(values[key]):
            raise refused_entry(filename, key, f"is {describe(values[key])}, but Stable-Baselines3 needs {expected}")
    _check_policy_kwargs(values, filename)


def _check_policy_kwargs(values: dict[str, Any], filename: str) -> None:
    """Keyword arguments the policy class accepts, classes where it takes classes, gSDE only for continuous actions."""
    import inspect

    import gymnasium as gym

    kwargs = values.get("policy_kwargs") or {}
    parameters = inspect.signature(values["policy_class"]).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    for name, value in kwargs.items():
        entry = f"policy_kwargs[{name!r}]"
        if name not in parameters and name != "device" and not takes_any:  # SB3's load drops "device"
            raise refused_entry(filename, entry, f"is not an argument of this SB3's {values['policy_class'].__name__}")
        if (name.endswith("_class") or name == "activation_fn") and value is not None and not isinstance(value, type):
            raise refused_entry(filename, entry, f"is {describe(value)}, but Stable-Baselines3 needs a class")
        if name.endswith("_kwargs") and value is not None and not _keyword_dict(value):
            raise refused_entry(
                filename, entry, f"is {describe(value)}, but Stable-Baselines3 needs a dict of arguments"
            )
    if (values.get("use_sde") or kwargs.get("use_sde")) and not isinstance(values["action_space"], gym.spaces.Box):
        raise refused_entry(filename, "use_sde", "is true, but gSDE needs a continuous (Box) action space")
