"""Load an SB3 agent and its normalisation statistics without executing pickled code.

An SB3 zip holds a JSON ``data`` member whose non-JSON values are base64 cloudpickles (``:serialized:``), and
``.pth`` members loaded with ``torch.load``. ``BaseAlgorithm.load`` unpickles every ``:serialized:`` value unless
``custom_objects`` already holds that key. So this module, in order:

1. opens the zip defensively (member count, sizes, compression ratio, a bounded ``data``);
2. decodes *every* ``:serialized:`` key of the file with the allow-listed unpickler of :mod:`.safe_pickle`; an entry
   that pickles a function (a schedule saved as a closure by SB3 < 2.7 or sb3-contrib, a user's own lambda, a
   function saved by reference) gets an :class:`UnavailableSchedule` placeholder instead, unless loading needs
   that entry (:data:`NEEDED_TO_LOAD`); a space whose class comes from a package that is not installed is taken
   from the env, or rebuilt from the JSON's readable fields; anything else that needs a global outside the
   allow-list raises :class:`UnsafeArtifactError`;
3. checks what SB3 is about to build from them (:func:`_check_agent`): entries of the types SB3 needs, spaces, the
   policy's size against ``policy.pth``, and buffers within bounds, so that a few bytes cannot make it allocate
   gigabytes or compute for minutes;
4. hands those values to SB3 as ``custom_objects``, so SB3 unpickles nothing itself, and its ``torch.load`` calls
   use ``weights_only=True`` (SB3 >= 2.8 does so for every file, whatever version saved it).
"""

from __future__ import annotations

import base64
import binascii
import json
import pickle
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .agent_data import check_entries
from .agent_limits import (
    MAX_SPACE_ELEMENTS,
    check_buffers,
    check_policy_size,
    check_space,
    element_count,
    refused_entry,
)
from .errors import CorruptArtifactError, UnavailablePartError, UnsafeArtifactError
from .model_files import SERIALIZED_KEY, VEC_NORMALIZE_FORMAT
from .safe_pickle import DisallowedGlobal, RefusedCall, pickles_a_function, restricted_loads

if TYPE_CHECKING:
    import gymnasium as gym
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv, VecNormalize

__all__ = ["UnavailableSchedule", "ZipLimits", "load_model", "load_vec_normalize", "read_agent_data"]

SPACE_KEYS = ("observation_space", "action_space")
# Entries that building the model needs (the network, its spaces, and the buffers ``_setup_model`` creates): a
# function there cannot be replaced by a placeholder. Every other entry only matters to training.
NEEDED_TO_LOAD = frozenset(
    {
        *SPACE_KEYS,
        "policy_class",
        "policy_kwargs",
        "replay_buffer_class",
        "replay_buffer_kwargs",
        "rollout_buffer_class",
        "rollout_buffer_kwargs",
        "train_freq",
    }
)
# SB3 calls the learning rate while building the optimizer: its placeholder answers with the saved optimizer's rate.
LEARNING_RATE_KEYS = frozenset({"learning_rate", "lr_schedule"})
OPT_IN = (
    "If you trust the repo's author, pass trust_remote_code=True: it loads with plain Stable-Baselines3, which runs "
    "any code the file contains, with your permissions."
)


@dataclass(frozen=True)
class ZipLimits:
    """Bounds on an agent zip, checked before anything in it is read."""

    max_members: int = 64
    max_member_bytes: int = 2 * 1024**3
    max_total_bytes: int = 4 * 1024**3
    max_data_bytes: int = 32 * 1024**2
    max_compression_ratio: float = 200.0
    ratio_checked_from_bytes: int = 1024**2


class UnavailableSchedule:
    """Stands in for an entry that was saved as a pickled function: a schedule (learning rate, clip range,
    exploration, ARS's ``delta_std_schedule``, ...) or any other function that only training uses.

    Rebuilding such a function means running code from the file, so it is not loaded. Predicting never calls
    it. For the learning rate it is a constant, the last rate the saved optimizer used (SB3 needs one to build the
    optimizer, and continuing training then keeps that rate). Other placeholders raise when training calls them:
    set them first (e.g. ``model.clip_range = lambda _: 0.2``).

    Saved again (``model.save``, ``package_to_hub`` of a loaded agent), a constant is stored as SB3's own
    ``ConstantSchedule``; any other placeholder as itself, which this loader reads back as the same placeholder.
    """

    def __init__(self, key: str, constant: float | None = None) -> None:
        self.key = key
        self.constant = constant

    def __call__(self, progress_remaining: float) -> float:
        if self.constant is not None:
            return self.constant
        raise UnavailablePartError(
            f"The agent's {self.key!r} schedule was a pickled function, which was not loaded because that would run "
            f"code from the file. Set model.{self.key} before training it further."
        )

    def __repr__(self) -> str:
        return f"UnavailableSchedule({self.key!r}, constant={self.constant!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        if self.constant is not None:
            from stable_baselines3.common.utils import ConstantSchedule

            return (ConstantSchedule, (self.constant,))
        return (UnavailableSchedule, (self.key,))


def read_agent_data(path: Path, limits: ZipLimits = ZipLimits()) -> dict[str, Any]:
    """The ``data`` JSON of an agent zip (``:serialized:`` values still encoded), read in the same pass that checks
    the zip.

    Raises:
        CorruptArtifactError: not a zip, no agent's members, too large once inflated (a zip bomb), a member whose
            bytes fail their CRC (SB3 stores members uncompressed, so nothing else would notice), or ``data`` that
            is too large or not a JSON object.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            _check_members(path.name, archive.infolist(), limits)
            damaged = archive.testzip()
            if damaged is not None:
                raise CorruptArtifactError(
                    f"{path.name} is damaged: {damaged!r} fails its CRC check; download it again."
                )
            member = archive.getinfo("data")
            if member.file_size > limits.max_data_bytes:
                raise CorruptArtifactError(
                    f"{path.name}: 'data' is {member.file_size} bytes, more than an agent needs."
                )
            raw = archive.read(member)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise CorruptArtifactError(f"{path.name} is not a valid zip file ({error}); download it again.") from None
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise CorruptArtifactError(f"{path.name}: 'data' is not JSON ({error}).") from None
    if not isinstance(data, dict):
        raise CorruptArtifactError(f"{path.name}: 'data' is not a JSON object.")
    return data


def _check_members(name: str, members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse too many members, members that inflate too much (alone, together, or by ratio), or no agent's."""
    if len(members) > limits.max_members:
        raise CorruptArtifactError(f"{name} has {len(members)} members; an SB3 agent has fewer than 10.")
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if (
            member.file_size > limits.max_member_bytes
            or total > limits.max_total_bytes
            or (member.file_size > limits.ratio_checked_from_bytes and ratio > limits.max_compression_ratio)
        ):
            raise CorruptArtifactError(
                f"{name}: member {member.filename!r} inflates to {member.file_size} bytes "
                f"(ratio {ratio:.0f}); refusing a possible zip bomb."
            )
    names = {member.filename for member in members}
    if "data" not in names or "policy.pth" not in names:
        raise CorruptArtifactError(f"{name} is not a Stable-Baselines3 agent (no 'data' or 'policy.pth' member).")


def decode_serialized(
    data: dict[str, Any],
    filename: str,
    env: gym.Env | VecEnv | None,
    *,
    learning_rate: Callable[[], float | None] = lambda: None,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Decoded values for every ``:serialized:`` key of ``data`` (to pass to SB3 as ``custom_objects``), and the
    keys that got a placeholder or a rebuilt value instead.

    ``learning_rate`` gives the constant that replaces a learning-rate schedule saved as a closure (asked only then).
    """
    objects: dict[str, Any] = {}
    substituted: list[str] = []
    for key, value in data.items():
        if not (isinstance(value, dict) and SERIALIZED_KEY in value):
            continue
        pickled = _base64(value[SERIALIZED_KEY], filename, key)
        try:
            objects[key] = _unpickle(pickled, filename, key)
        except DisallowedGlobal as refused:
            objects[key] = _substitute(key, value, pickled, refused, filename, env, learning_rate)
            substituted.append(key)
        else:
            if _holds_placeholder(objects[key]):  # saved from an agent loaded here before
                substituted.append(key)
    for key in SPACE_KEYS:
        if key in objects:
            check_space(objects[key], filename, key)
            _forget_rng(objects[key])
    return objects, tuple(substituted)


def _holds_placeholder(value: Any) -> bool:
    """Whether ``value`` is a placeholder, or SB3's ``FloatSchedule`` around one."""
    return isinstance(value, UnavailableSchedule) or isinstance(
        getattr(value, "value_schedule", None), UnavailableSchedule
    )


def _base64(encoded: object, filename: str, key: str) -> bytes:
    if not isinstance(encoded, str):
        raise CorruptArtifactError(f"{filename}: entry {key!r} has a non-text serialized value.")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise CorruptArtifactError(f"{filename}: entry {key!r} is not valid base64 ({error}).") from None


def _unpickle(pickled: bytes, filename: str, key: str) -> Any:
    try:
        return restricted_loads(pickled)
    except DisallowedGlobal:
        raise
    except RefusedCall as refused:
        raise refused_entry(filename, key, str(refused)) from None
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
    ) as error:
        raise CorruptArtifactError(f"{filename}: entry {key!r} is not a readable pickle ({error}).") from None


def _substitute(
    key: str,
    value: dict[str, Any],
    pickled: bytes,
    refused: DisallowedGlobal,
    filename: str,
    env: gym.Env | VecEnv | None,
    learning_rate: Callable[[], float | None],
) -> Any:
    """A placeholder or rebuilt value for an entry that cannot be unpickled safely, or UnsafeArtifactError."""
    if key not in NEEDED_TO_LOAD and pickles_a_function(pickled):
        return UnavailableSchedule(key, learning_rate() if key in LEARNING_RATE_KEYS else None)
    if key in SPACE_KEYS and _not_installed(refused.module):
        if env is not None:
            return getattr(env, key)
        rebuilt = rebuild_space(value)
        if rebuilt is not None:
            return rebuilt
    raise UnsafeArtifactError(
        f"{filename}: entry {key!r} needs the global {refused.qualified_name}, which is not on huggingface_sb3's "
        f"allow-list of what Stable-Baselines3 stores, so loading it would run code from the file. {OPT_IN}",
        filename=filename,
        key=key,
        global_name=refused.qualified_name,
    )


def _not_installed(module: str) -> bool:
    """Whether a refused global's package is absent here (a space class from an uninstalled package can be
    rebuilt; a global that exists, such as ``os.system``, is refused)."""
    import importlib.util

    top = module.split(".", 1)[0]
    try:
        return importlib.util.find_spec(top) is None
    except (ImportError, ValueError):
        return True


def _forget_rng(space: Any) -> None:
    """Drop a space's pickled RNG (gym-era spaces carry a legacy RandomState); gymnasium makes a fresh one."""
    import gymnasium as gym

    if isinstance(space, gym.spaces.Space):
        space._np_random = None  # type: ignore[assignment]  # gymnasium annotates Generator, yet uses None for "unseeded"
        for child in (
            getattr(space, "spaces", {}).values()
            if isinstance(getattr(space, "spaces", None), dict)
            else getattr(space, "spaces", ())
        ):
            _forget_rng(child)


_NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?|inf)", re.IGNORECASE)


def rebuild_space(value: dict[str, Any]) -> Any | None:
    """A gymnasium space from the readable fields SB3 writes beside a pickled space; None if not enough is there.

    Box bounds are printed by numpy and shortened (``...``) above 1000 elements: those cannot be rebuilt.
    """
    import gymnasium as gym
    import numpy as np

    kind = str(value.get(":type:", ""))
    try:
        if kind.endswith(".Discrete'>"):
            return gym.spaces.Discrete(int(value["n"]), start=int(value.get("start", 0)))
        if kind.endswith(".MultiBinary'>"):
            return gym.spaces.MultiBinary(value["n"])
        if kind.endswith(".MultiDiscrete'>"):
            return gym.spaces.MultiDiscrete(_numbers(value["nvec"], np.int64))
        if kind.endswith(".Box'>"):
            shape, dtype = tuple(value["_shape"]), np.dtype(value["dtype"])
            if dtype.kind not in "iufb":  # as gymnasium's Box requires (a "V1000000000" dtype would allocate gigabytes)
                return None
            low, high = _numbers(value["low"], dtype), _numbers(value["high"], dtype)
            if "..." in str(value["low"]) + str(value["high"]):
                return None
            return gym.spaces.Box(low=low.reshape(shape), high=high.reshape(shape), dtype=dtype)
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _numbers(text: Any, dtype: Any) -> Any:
    import numpy as np

    return np.array([float(token) for token in _NUMBER_RE.findall(str(text))], dtype=dtype)


def load_model(
    path: Path,
    algo_class: type[BaseAlgorithm],
    *,
    env: gym.Env | VecEnv | None = None,
    device: str = "auto",
    data: dict[str, Any] | None = None,
) -> tuple[BaseAlgorithm, tuple[str, ...]]:
    """Load an SB3 zip without unpickling anything outside the allow-list (see the module docstring).

    ``data`` is the zip's data as :func:`read_agent_data` returned it, when the caller has read it already.
    Returns the model and the entries that got placeholders or rebuilt values.
    """
    data = data if data is not None else read_agent_data(path)
    objects, substituted = decode_serialized(data, path.name, env, learning_rate=lambda: _saved_learning_rate(path))
    _check_agent(path, {**data, **objects})
    try:
        return algo_class.load(path, env=env, device=device, custom_objects=objects), substituted
    except pickle.UnpicklingError as error:
        raise UnsafeArtifactError(
            f"{path.name}: a weights file holds more than tensors ({str(error).splitlines()[0]}). {OPT_IN}",
            filename=path.name,
            key=None,
            global_name=_first_global(str(error)),
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise CorruptArtifactError(f"{path.name} is damaged ({error}); download it again.") from None


def _check_agent(path: Path, values: dict[str, Any]) -> None:
    """Refuse an agent whose entries (``data``, serialized ones decoded) are not of the types Stable-Baselines3 needs,
    or that would make it build more than a real agent (:mod:`.agent_data`, :mod:`.agent_limits`).

    Raises:
        CorruptArtifactError: naming the entry, before anything is allocated.
    """
    check_entries(values, path.name)
    check_buffers(values, path.name)
    with zipfile.ZipFile(path) as archive:
        stored = archive.getinfo("policy.pth").file_size
    check_policy_size(values, stored, path.name)


def _saved_learning_rate(path: Path) -> float | None:
    """The learning rate in the saved optimizer state (``weights_only`` load), if there is one."""
    import io

    import torch

    with zipfile.ZipFile(path) as archive:
        names = [name for name in archive.namelist() if name.endswith("optimizer.pth")]
        if not names:
            return None
        try:
            state = torch.load(io.BytesIO(archive.read(sorted(names)[-1])), map_location="cpu", weights_only=True)
            return max(float(state["param_groups"][0]["lr"]), 0.0)  # a linear schedule can end a hair below 0
        except (pickle.UnpicklingError, RuntimeError, KeyError, IndexError, TypeError, ValueError):
            return None


def _first_global(message: str) -> str:
    match = re.search(r"GLOBAL ([\w.]+)", message)
    return match.group(1) if match else "unknown"


def load_vec_normalize(path: Path, venv: VecEnv, *, max_bytes: int = 64 * 1024**2) -> VecNormalize:
    """Normalisation statistics for ``venv`` from ``vec_normalize.json`` (pickle-free) or a ``VecNormalize``
    pickle (allow-listed unpickler), set for evaluation: ``training=False``, ``norm_reward=False``."""
    from stable_baselines3.common.vec_env import VecNormalize

    if path.stat().st_size > max_bytes:
        raise CorruptArtifactError(f"{path.name} is larger than {max_bytes} bytes; it is not VecNormalize statistics.")
    if path.suffix == ".json":
        normalizer = _vec_normalize_from_json(path, venv)
    else:
        try:
            normalizer = restricted_loads(path.read_bytes())
        except DisallowedGlobal as refused:
            raise UnsafeArtifactError(
                f"{path.name} needs the global {refused.qualified_name}, which VecNormalize statistics never need, so "
                f"loading it would run code from the file. {OPT_IN}",
                filename=path.name,
                key=None,
                global_name=refused.qualified_name,
            ) from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
            raise CorruptArtifactError(f"{path.name} is not a readable VecNormalize pickle ({error}).") from None
        if not isinstance(normalizer, VecNormalize):
            raise CorruptArtifactError(f"{path.name} holds a {type(normalizer).__name__}, not VecNormalize statistics.")
        normalizer.__dict__.setdefault("norm_obs_keys", None)  # absent from SB3 1.x pickles
        for space in (normalizer.observation_space, normalizer.action_space):
            _forget_rng(space)
        normalizer.set_venv(venv)
    normalizer.training = False
    normalizer.norm_reward = False
    return normalizer


def _vec_normalize_from_json(path: Path, venv: VecEnv) -> VecNormalize:
    from stable_baselines3.common.running_mean_std import RunningMeanStd
    from stable_baselines3.common.vec_env import VecNormalize

    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
        if stats.get("format") != VEC_NORMALIZE_FORMAT:
            raise ValueError(f"unknown format {stats.get('format')!r}")
        normalizer = VecNormalize(
            venv,
            training=False,
            norm_obs=bool(stats["norm_obs"]),
            norm_reward=False,
            clip_obs=float(stats["clip_obs"]),
            clip_reward=float(stats["clip_reward"]),
            gamma=float(stats["gamma"]),
            epsilon=float(stats["epsilon"]),
            norm_obs_keys=stats.get("norm_obs_keys"),
        )

        def running(entry: dict[str, Any]) -> RunningMeanStd:
            import numpy as np

            if (element_count(entry["shape"]) or 0) > MAX_SPACE_ELEMENTS:
                raise ValueError(f"statistics of shape {entry['shape']}, more than {MAX_SPACE_ELEMENTS:,} values")
            result = RunningMeanStd(shape=tuple(entry["shape"]))
            result.mean = np.asarray(entry["mean"], dtype=np.float64).reshape(entry["shape"])
            result.var = np.asarray(entry["var"], dtype=np.float64).reshape(entry["shape"])
            result.count = float(entry["count"])
            return result

        obs = stats["obs_rms"]
        obs_rms = {key: running(value) for key, value in obs.items()} if "mean" not in obs else running(obs)
        normalizer.obs_rms = obs_rms  # type: ignore[assignment]  # SB3 infers the dict of Dict spaces; a Box has one
        normalizer.ret_rms = running(stats["ret_rms"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CorruptArtifactError(f"{path.name} is not valid VecNormalize statistics ({error}).") from None
    return normalizer
