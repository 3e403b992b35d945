"""What an agent's repo (or folder) says about it: which zip is the agent, its algorithm, its env, its extras.

Repos come in three layouts: pushed by this library (``{name}.zip``, card, ``results.json``,
``vec_normalize.json``), by huggingface_sb3 3.0 (the same plus an unzipped copy and a pickled ``config.json``), and
by the RL Zoo (``{algo}-{env}.zip``, ``config.yml``, ``args.yml``, ``env_kwargs.yml``, ``vec_normalize.pkl``, and
``train_eval_metrics.zip``). Local RL Zoo experiment folders keep the YAML files and ``vecnormalize.pkl`` in a
sub-folder named after the env.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import MissingDependencyError, UnknownAlgorithmError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

NOT_AGENTS = frozenset({"train_eval_metrics.zip"})
VEC_NORMALIZE_FILES = ("vec_normalize.json", "vec_normalize.pkl", "vecnormalize.pkl")
ZOO_FILES = ("config.yml", "args.yml", "env_kwargs.yml")

ALGORITHMS = {
    "a2c": ("stable_baselines3", "A2C"),
    "ddpg": ("stable_baselines3", "DDPG"),
    "dqn": ("stable_baselines3", "DQN"),
    "ppo": ("stable_baselines3", "PPO"),
    "sac": ("stable_baselines3", "SAC"),
    "td3": ("stable_baselines3", "TD3"),
    "ars": ("sb3_contrib", "ARS"),
    "crossq": ("sb3_contrib", "CrossQ"),
    "maskableppo": ("sb3_contrib", "MaskablePPO"),
    "ppo_mask": ("sb3_contrib", "MaskablePPO"),
    "qrdqn": ("sb3_contrib", "QRDQN"),
    "recurrentppo": ("sb3_contrib", "RecurrentPPO"),
    "ppo_lstm": ("sb3_contrib", "RecurrentPPO"),
    "tqc": ("sb3_contrib", "TQC"),
    "trpo": ("sb3_contrib", "TRPO"),
}

_POLICY_MODULE_ALGOS = {
    "stable_baselines3.dqn.policies": "dqn",
    "stable_baselines3.sac.policies": "sac",
    "stable_baselines3.td3.policies": "td3",
    "sb3_contrib.qrdqn.policies": "qrdqn",
    "sb3_contrib.tqc.policies": "tqc",
    "sb3_contrib.ars.policies": "ars",
    "sb3_contrib.crossq.policies": "crossq",
    "sb3_contrib.common.recurrent.policies": "recurrentppo",
    "sb3_contrib.common.maskable.policies": "maskableppo",
}


def pick_agent_zip(files: Iterable[str], *, algo: str | None, env_id: str | None) -> str | None:
    """The agent's zip among a repo's top-level files: the only one, else the RL Zoo's ``{algo}-{env}.zip``."""
    candidates = sorted(name for name in files if name.endswith(".zip") and "/" not in name and name not in NOT_AGENTS)
    if len(candidates) == 1:
        return candidates[0]
    if algo and env_id:
        expected = f"{algo.lower()}-{env_id.replace('/', '-')}.zip"
        for name in candidates:
            if name.lower() == expected.lower():
                return name
    return None


def algorithm_from_card(card: dict[str, Any]) -> str | None:
    """The algorithm named by the card's ``model-index`` (3.0, the RL Zoo and this library write it there)."""
    index = card.get("model-index")
    if isinstance(index, list) and index and isinstance(index[0], dict) and isinstance(index[0].get("name"), str):
        return index[0]["name"]
    return None


def env_id_from_card(card: dict[str, Any]) -> str | None:
    """The env id of the card's first result (its ``dataset``)."""
    try:
        dataset = card["model-index"][0]["results"][0]["dataset"]
    except (KeyError, IndexError, TypeError):
        return None
    name = dataset.get("name") if isinstance(dataset, dict) else None
    return name if isinstance(name, str) else None


def algorithm_from_data(data: dict[str, Any]) -> str | None:
    """Guess the algorithm from a zip's ``data`` (its policy class, and keys only some algorithms save)."""
    policy = data.get("policy_class")
    if not isinstance(policy, dict):
        return None
    module = str(policy.get("__module__", ""))
    if module in _POLICY_MODULE_ALGOS:
        algo = _POLICY_MODULE_ALGOS[module]
        if algo == "td3" and data.get("policy_delay") == 1 and data.get("target_noise_clip") == 0.0:
            return "ddpg"
        return algo
    if module == "stable_baselines3.common.policies":
        if "cg_max_steps" in data:
            return "trpo"
        return "ppo" if "clip_range" in data else "a2c"
    return None


def algorithm_name(name: str) -> str | None:
    """The class name of an algorithm named like ``"PPO"``, ``"ppo"`` or ``"ppo_lstm"``; None when unknown."""
    entry = ALGORITHMS.get(_algorithm_key(name))
    return entry[1] if entry else None


def algorithm_mismatch(claimed: str, data: dict[str, Any]) -> str | None:
    """The algorithm (class name) a zip's ``data`` shows when it is not ``claimed``; None when they agree, when
    ``claimed`` is unknown, or when the data cannot tell (old or custom policies)."""
    detected, expected = algorithm_from_data(data), algorithm_name(claimed)
    if detected is None or expected is None:
        return None
    found = ALGORITHMS[detected][1]
    # the data tells DDPG from TD3 only by its settings: a TD3 agent may have DDPG's
    if found == expected or (expected == "TD3" and found == "DDPG"):
        return None
    return found


def policy_name(data: dict[str, Any]) -> str:
    """The policy class a zip's ``data`` names, e.g. ``stable_baselines3.common.policies.ActorCriticPolicy``."""
    policy = data.get("policy_class")
    if not isinstance(policy, dict):
        return "unknown"
    module = str(policy.get("__module__", "?"))
    match = re.match(r"<function (\w+)\.__init__ ", str(policy.get("__init__", "")))
    return f"{module}.{match.group(1)}" if match else module


def _algorithm_key(name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "", name.lower())


def algorithm_class(name: str) -> type[BaseAlgorithm]:
    """The class of an algorithm named like ``"PPO"``, ``"ppo"`` or ``"qrdqn"``."""
    key = _algorithm_key(name)
    if key not in ALGORITHMS:
        raise UnknownAlgorithmError(
            f"Unknown algorithm {name!r}. Pass algo= one of {', '.join(sorted({v[1] for v in ALGORITHMS.values()}))}."
        )
    module, attribute = ALGORITHMS[key]
    try:
        return getattr(importlib.import_module(module), attribute)
    except ImportError:
        raise MissingDependencyError(
            f"{attribute} comes from sb3-contrib, which is not installed: pip install sb3-contrib "
            '(or pip install "huggingface-sb3[contrib]").'
        ) from None
