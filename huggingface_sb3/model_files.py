"""The agent's files in a repo: the SB3 zip, a readable ``config.json``, and the normalisation statistics.

``config.json`` is the zip's ``data`` JSON without the base64 cloudpickle blobs (``:serialized:``) that 3.0
republished, plus system information. ``vec_normalize.json`` holds the ``VecNormalize`` statistics in plain JSON,
so that a loader never has to unpickle ``vec_normalize.pkl`` to use them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.running_mean_std import RunningMeanStd
    from stable_baselines3.common.vec_env import VecNormalize

README = "README.md"
RESULTS = "results.json"
REPLAY = "replay.mp4"
CONFIG = "config.json"
VEC_NORMALIZE_PICKLE = "vec_normalize.pkl"
VEC_NORMALIZE_JSON = "vec_normalize.json"
VEC_NORMALIZE_FORMAT = "huggingface_sb3.vec_normalize/1"
SERIALIZED_KEY = ":serialized:"


def save_model(model: BaseAlgorithm, folder: Path, model_name: str) -> Path:
    """Save the model as ``{model_name}.zip`` in ``folder`` (SB3's own format) and return its path."""
    path = folder / f"{model_name}.zip"
    model.save(path)
    return path


def readable_config(data: dict[str, Any], system_info: dict[str, str]) -> dict[str, Any]:
    """The model's data without pickled blobs, plus system information (the content of ``config.json``)."""
    config = {key: _without_pickles(value) for key, value in data.items()}
    config["system_info"] = system_info
    return config


def plain_hyperparameters(config: dict[str, Any]) -> dict[str, Any]:
    """The plain-valued entries of a readable config (pickled objects, spaces and system info are left out)."""
    return {
        key: value
        for key, value in config.items()
        if key != "system_info" and not (isinstance(value, dict) and ":type:" in value)
    }


def _without_pickles(value: Any) -> Any:
    if isinstance(value, dict) and SERIALIZED_KEY in value:
        return {key: item for key, item in value.items() if key != SERIALIZED_KEY}
    return value


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented UTF-8 JSON (numpy scalars and arrays become plain numbers and lists)."""
    path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def save_vec_normalize(vec_normalize: VecNormalize, folder: Path) -> list[Path]:
    """Write ``vec_normalize.pkl`` (SB3's pickle, for SB3 and the RL Zoo) and ``vec_normalize.json`` (pickle-free).

    The user's ``VecNormalize`` is only read.
    """
    pickle_path, json_path = folder / VEC_NORMALIZE_PICKLE, folder / VEC_NORMALIZE_JSON
    vec_normalize.save(str(pickle_path))
    write_json(json_path, vec_normalize_statistics(vec_normalize))
    return [pickle_path, json_path]


def vec_normalize_statistics(vec_normalize: VecNormalize) -> dict[str, Any]:
    """The settings and running statistics of a ``VecNormalize``, as plain JSON."""
    obs_rms = vec_normalize.obs_rms
    return {
        "format": VEC_NORMALIZE_FORMAT,
        "norm_obs": vec_normalize.norm_obs,
        "norm_reward": vec_normalize.norm_reward,
        "norm_obs_keys": vec_normalize.norm_obs_keys,
        "clip_obs": float(vec_normalize.clip_obs),
        "clip_reward": float(vec_normalize.clip_reward),
        "gamma": float(vec_normalize.gamma),
        "epsilon": float(vec_normalize.epsilon),
        "obs_rms": (
            {key: _running_stats(stats) for key, stats in obs_rms.items()}
            if isinstance(obs_rms, dict)
            else _running_stats(obs_rms)
        ),
        "ret_rms": _running_stats(vec_normalize.ret_rms),
    }


def _running_stats(stats: RunningMeanStd) -> dict[str, Any]:
    import numpy as np

    mean, var = np.asarray(stats.mean, dtype=np.float64), np.asarray(stats.var, dtype=np.float64)
    return {"shape": list(mean.shape), "mean": mean.tolist(), "var": var.tolist(), "count": float(stats.count)}
