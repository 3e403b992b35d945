"""Environments for evaluation and replay: check env ids, and build or adopt the env an agent is played on.

The evaluation must report true episode returns. Wrappers that change rewards or episode ends (Atari's reward
clipping and life loss) are only harmless when a ``Monitor`` sits beneath them, so an env that has such wrappers
and no ``Monitor`` is rebuilt from its id (Atari) or refused. ``VecNormalize`` is never used as given: the
evaluation runs on a copy of its statistics with ``training=False`` and ``norm_reward=False``, so the user's env is
not changed.

An env built here from its id (by :func:`make_env`, which ``load_agent`` uses too, or by :func:`prepare_eval_env`
with no env) remembers how it was made, so the evaluation can play its episodes on several copies at once, with
batched policy inference (:meth:`EvaluationEnv.copies`); an env the user built is played as given.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import importlib
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import (
    CorruptArtifactError,
    EnvironmentNotRenderableError,
    EvaluationError,
    UnknownEnvironmentError,
    UnsafeArtifactError,
)

if TYPE_CHECKING:
    import gymnasium as gym
    import numpy as np
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv, VecNormalize
    from stable_baselines3.common.vec_env.stacked_observations import StackedObservations

DEFAULT_RENDER_FPS = 30
ATARI_INSTALL_HINT = 'Atari games need ale-py: pip install "huggingface-sb3[atari]".'


def _gym() -> Any:
    import gymnasium as gym

    return gym


def ensure_registered(env_id: str) -> None:
    """Make sure ``env_id`` can be made: import its module (``module:Env-v0``) or ale-py (Atari) if needed.

    Raises:
        UnknownEnvironmentError: naming close matches and what to install.
    """
    gym = _gym()
    if ":" in env_id:
        module = env_id.split(":", 1)[0]
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise UnknownEnvironmentError(
                f"Cannot import {module!r} for the environment {env_id!r} ({error}). Install the package that "
                "provides it, or check the id."
            ) from None
        env_id = env_id.split(":", 1)[1]
    if env_id in gym.registry:
        return
    try:
        import ale_py

        gym.register_envs(ale_py)
    except ImportError:
        pass
    if env_id in gym.registry:
        return
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3)
    names = [repr(name) for name in close]
    suggestion = (
        f" Did you mean {' or '.join([', '.join(names[:-1]), names[-1]] if len(names) > 1 else names)}?"
        if close
        else ""
    )
    atari = " " + ATARI_INSTALL_HINT if ("NoFrameskip" in env_id or env_id.startswith("ALE/")) else ""
    raise UnknownEnvironmentError(
        f"Unknown environment id {env_id!r}: gymnasium has no environment registered under it.{suggestion}{atari} "
        "Pass the id the agent was trained on (env_id=...)."
    )


def env_id_from_file(value: object, filename: str, *, trust_remote_code: bool = False) -> str | None:
    """An env id read from a repo's file (model card, ``results.json``, the RL Zoo's ``args.yml``), checked before
    gymnasium sees it; None when the file gives none.

    gymnasium imports the module that a ``module:Env-v0`` id names, so such an id from a file would run code the
    repo chose: it is refused unless ``trust_remote_code`` (ids the user passes are not checked).

    Raises:
        CorruptArtifactError: the value is not text.
        UnsafeArtifactError: a ``module:`` prefix, without ``trust_remote_code``.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CorruptArtifactError(f"{filename} gives the environment id {value!r}, which is not text. Pass env_id=...")
    if ":" in value and not trust_remote_code:
        module, plain = value.split(":", 1)
        raise UnsafeArtifactError(
            f"{filename} names the environment {value!r}: gymnasium would import the module {module!r} to make it, "
            f"running code the repo chose. Import that module yourself if you trust it (it registers the environment) "
            f"and pass env_id={plain!r} (or env=...), or pass trust_remote_code=True if you trust the repo's author.",
            filename=filename,
            key="env_id",
            global_name=module,
        )
    return value


def entry_point(env_id: str) -> str:
    """The entry point gymnasium registered for ``env_id`` (UnknownEnvironmentError if there is none)."""
    ensure_registered(env_id)
    return str(_gym().spec(env_id).entry_point)


def is_atari(env_id: str) -> bool:
    """Whether ``env_id`` is an Arcade Learning Environment game (ale-py)."""
    target = entry_point(env_id)
    return "ale_py" in target or "AtariEnv" in target


@dataclass
class EvaluationEnv:
    """The vectorised env an agent is evaluated (and filmed) on, and facts about it.

    Attributes:
        venv: the env to step (a copy of ``VecNormalize`` statistics when the agent uses them).
        vec_normalize: the user's ``VecNormalize`` whose statistics are published, if any.
        monitored: whether every sub-env has a ``Monitor`` (its episode infos are then the returns to trust).
        render_fps: frames per second of the env's rendering (``metadata["render_fps"]``, else 30).
        wrappers: wrapper names from the outside in, down to the base env, for the model card.
        owned: whether the env was built here (and must be closed here); the user's env is never closed.
        rebuild: for an env built from its id, a function that builds the same env (a frozen copy of the
            ``VecNormalize`` statistics included) with a given number of sub-envs; None for an env the user built.
    """

    venv: VecEnv
    vec_normalize: VecNormalize | None
    monitored: bool
    render_fps: float
    wrappers: tuple[str, ...]
    owned: bool
    rebuild: Callable[[int], VecEnv] | None = None

    @classmethod
    def around(
        cls,
        venv: VecEnv,
        *,
        vec_normalize: VecNormalize | None,
        monitored: bool,
        owned: bool,
        rebuild: Callable[[int], VecEnv] | None = None,
    ) -> EvaluationEnv:
        """Describe ``venv`` (its render fps and wrappers are read from it)."""
        return cls(venv, vec_normalize, monitored, _render_fps(venv), _wrapper_names(venv), owned, rebuild)

    @contextmanager
    def copies(self, n_envs: int) -> Iterator[EvaluationEnv]:
        """This env with ``n_envs`` sub-envs, for the duration of the block.

        An env built from its id is rebuilt with ``n_envs`` copies (closed after the block); any other env, and one
        that already has ``n_envs`` sub-envs, is used as it is.
        """
        if self.rebuild is None or n_envs == self.venv.num_envs:
            yield self
            return
        venv = self.rebuild(n_envs)
        try:
            yield dataclasses.replace(self, venv=venv, owned=True, rebuild=None)
        finally:
            venv.close()

    def grab_frame(self) -> np.ndarray | None:
        """An RGB frame of the first sub-env, or None if it renders nothing.

        Raises:
            EnvironmentNotRenderableError: rendering needs a package that is not installed (pygame, ...).
        """
        import numpy as np
        from gymnasium.error import DependencyNotInstalled

        try:
            frame = self.venv.env_method("render", indices=[0])[0]
        except DependencyNotInstalled as error:
            raise EnvironmentNotRenderableError(
                f"The env cannot render frames for the replay video ({' '.join(str(error).split())}). "
                "Make no video: pass video=False. To film, install what rendering needs (for classic-control envs: "
                'pip install "huggingface-sb3[classic-control]").'
            ) from None
        return None if frame is None else np.asarray(frame)

    def close(self) -> None:
        """Close the env if it was built here."""
        if self.owned:
            self.venv.close()


def prepare_eval_env(
    eval_env: gym.Env | VecEnv | None,
    *,
    env_id: str | None,
    model: BaseAlgorithm,
    need_frames: bool,
    seed: int | None = None,
) -> EvaluationEnv:
    """Adopt ``eval_env`` (a gymnasium env or a VecEnv) or, when it is None, build one from ``env_id``.

    Raises:
        EnvironmentNotRenderableError: frames are needed and the env does not render ``rgb_array``.
        EvaluationError: reward-changing wrappers without a ``Monitor`` beneath them, on a non-Atari env.
    """
    from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

    if eval_env is None:
        if env_id is None:
            raise EvaluationError("No environment to evaluate on: pass eval_env, or env_id to build one.")
        return _build(
            env_id, model=model, need_frames=need_frames, seed=seed, vec_normalize=model.get_vec_normalize_env()
        )
    venv = eval_env if isinstance(eval_env, VecEnv) else DummyVecEnv([_returning(eval_env)])
    if need_frames and _render_mode(venv) != "rgb_array":
        raise EnvironmentNotRenderableError(
            f"A replay video needs frames, but the evaluation env renders {_render_mode(venv)!r}, not 'rgb_array'. "
            "Make no video: pass video=False. To film, create the env with render_mode='rgb_array' "
            f"(e.g. gymnasium.make({env_id or 'env_id'!r}, render_mode='rgb_array'))."
        )
    monitored, changes_rewards = _monitoring(venv)
    vec_normalize = _find_vec_normalize(venv)
    if changes_rewards and not monitored:
        if env_id is not None and is_atari(env_id):
            return _build(env_id, model=model, need_frames=need_frames, seed=seed, vec_normalize=vec_normalize)
        raise EvaluationError(
            "The evaluation env changes rewards or episode ends (e.g. reward clipping, life loss) and has no Monitor "
            "beneath those wrappers, so the true episode returns cannot be measured. Wrap the base env with "
            "stable_baselines3.common.monitor.Monitor before the other wrappers (make_vec_env does this)."
        )
    rebuild = _rebuilder(venv, vec_normalize)
    if vec_normalize is not None:
        venv = _with_frozen_normalization(venv, vec_normalize)
    return EvaluationEnv.around(venv, vec_normalize=vec_normalize, monitored=monitored, owned=False, rebuild=rebuild)


def _returning(env: gym.Env) -> Callable[[], gym.Env]:
    return lambda: env


def make_env(
    env_id: str,
    *,
    model: BaseAlgorithm,
    env_kwargs: dict[str, Any] | None = None,
    seed: int | None = None,
    n_envs: int = 1,
) -> VecEnv:
    """A vectorised env of ``n_envs`` monitored copies (in this process) for ``model``: Atari preprocessing and the
    policy's frame stack for Atari games.

    The env remembers how it was made, so that an evaluation on it can rebuild it with more copies.
    """
    recipe = _Recipe(env_id, dict(env_kwargs) if env_kwargs is not None else None, _frame_stack(env_id, model))
    venv = recipe.make(n_envs, seed=seed)
    _RECIPES[venv] = recipe
    return venv


@dataclass(frozen=True)
class _Recipe:
    """How :func:`make_env` made an env (plain data only: a recipe must not keep the model or the env alive)."""

    env_id: str
    env_kwargs: dict[str, Any] | None
    frame_stack: int

    def make(self, n_envs: int, *, seed: int | None = None) -> VecEnv:
        from stable_baselines3.common.env_util import make_atari_env, make_vec_env
        from stable_baselines3.common.vec_env import VecFrameStack

        kwargs = dict(self.env_kwargs) if self.env_kwargs is not None else None
        if self.frame_stack == 0:
            return make_vec_env(self.env_id, n_envs=n_envs, seed=seed, env_kwargs=kwargs)
        venv = make_atari_env(self.env_id, n_envs=n_envs, seed=seed, env_kwargs=kwargs)
        return VecFrameStack(venv, n_stack=self.frame_stack) if self.frame_stack > 1 else venv


# Each env make_env returned -> how it was made (weak keys: an entry goes when its env does).
_RECIPES: weakref.WeakKeyDictionary[VecEnv, _Recipe] = weakref.WeakKeyDictionary()


def _frame_stack(env_id: str, model: BaseAlgorithm) -> int:
    """0 for a non-Atari env, else the number of frames the policy stacks (1: none)."""
    return atari_frame_stack(model) if is_atari(env_id) else 0


def _rebuilder(venv: VecEnv, vec_normalize: VecNormalize | None) -> Callable[[int], VecEnv] | None:
    """How to build ``venv`` again with any number of copies, when :func:`make_env` made it (possibly with a
    ``VecNormalize`` around it, as ``load_agent`` adds): the copies get a frozen copy of the statistics."""
    if vec_normalize is not None and venv is not vec_normalize:
        return None  # other wrappers around the VecNormalize: the user's doing, play the env as given
    recipe = _RECIPES.get(vec_normalize.venv if vec_normalize is not None else venv)
    return _rebuild_function(recipe, vec_normalize) if recipe is not None else None


def _rebuild_function(recipe: _Recipe, vec_normalize: VecNormalize | None) -> Callable[[int], VecEnv]:
    def rebuild(n_envs: int) -> VecEnv:
        venv = recipe.make(n_envs)
        return _frozen_copy(vec_normalize, venv) if vec_normalize is not None else venv

    return rebuild


def _build(
    env_id: str, *, model: BaseAlgorithm, need_frames: bool, seed: int | None, vec_normalize: VecNormalize | None
) -> EvaluationEnv:
    env_kwargs = {"render_mode": "rgb_array"} if need_frames else None
    if need_frames:
        _check_renders_rgb_array(env_id, _declared_render_modes(env_id))
    try:
        venv = make_env(env_id, model=model, env_kwargs=env_kwargs, seed=seed)
    except TypeError as error:
        if need_frames and "render_mode" in str(error):  # an env made by a function that takes no render_mode
            _check_renders_rgb_array(env_id, [])
        raise
    rebuild = _rebuild_function(_RECIPES[venv], vec_normalize)
    if vec_normalize is not None:
        venv = _frozen_copy(vec_normalize, venv)
    return EvaluationEnv.around(venv, vec_normalize=vec_normalize, monitored=True, owned=True, rebuild=rebuild)


def _declared_render_modes(env_id: str) -> list[str] | None:
    """The render modes that ``env_id``'s env class declares (``metadata["render_modes"]``); None when its entry
    point is not a class (a function, say), so that only making it tells."""
    from gymnasium.envs.registration import load_env_creator

    entry_point = _gym().spec(env_id.split(":", 1)[-1]).entry_point
    creator = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    metadata = getattr(creator, "metadata", None) if isinstance(creator, type) else None
    modes = metadata.get("render_modes") if isinstance(metadata, dict) else None
    return list(modes) if isinstance(modes, (list, tuple)) else None


def _check_renders_rgb_array(env_id: str, modes: list[str] | None) -> None:
    """Refuse to film an env that declares no ``rgb_array`` rendering (unknown declarations pass)."""
    if modes is not None and "rgb_array" not in modes:
        raise EnvironmentNotRenderableError(
            f"The env {env_id!r} cannot render the 'rgb_array' frames a replay video needs (it declares the render "
            f"modes {modes}). Make no video: pass video=False. Or film an env you build that renders 'rgb_array', "
            "passed as eval_env."
        )


def atari_frame_stack(model: BaseAlgorithm) -> int:
    """How many Atari frames the policy sees at once."""
    return frame_stack_of(tuple(model.observation_space.shape or ()))


def frame_stack_of(shape: tuple[int, ...]) -> int:
    """How many 84x84 Atari frames an observation of ``shape`` stacks (on the first or last axis)."""
    if len(shape) != 3:
        return 1
    return shape[-1] if shape[0] == 84 else shape[0]


def _render_mode(venv: VecEnv) -> str | None:
    return venv.get_attr("render_mode", indices=[0])[0]


def _render_fps(venv: VecEnv) -> float:
    metadata = venv.get_attr("metadata", indices=[0])[0] or {}
    fps = metadata.get("render_fps")
    return float(fps) if fps else float(DEFAULT_RENDER_FPS)


def _monitoring(venv: VecEnv) -> tuple[bool, bool]:
    """(every sub-env has a Monitor, some wrapper changes rewards or episode ends)."""
    from gymnasium import wrappers as gym_wrappers
    from stable_baselines3.common import atari_wrappers
    from stable_baselines3.common.monitor import Monitor

    reward_changers = [atari_wrappers.AtariWrapper, atari_wrappers.ClipRewardEnv, atari_wrappers.EpisodicLifeEnv]
    reward_changers += [
        getattr(gym_wrappers, name)
        for name in ("TransformReward", "ClipReward", "NormalizeReward")
        if hasattr(gym_wrappers, name)
    ]
    monitored = all(venv.env_is_wrapped(Monitor))
    changes = any(any(venv.env_is_wrapped(wrapper)) for wrapper in reward_changers)
    return monitored, changes


def _vec_wrappers(venv: VecEnv) -> list[VecEnv]:
    """The VecEnv wrapper chain from the outside in, ending with the base VecEnv."""
    from stable_baselines3.common.vec_env import VecEnvWrapper

    chain = [venv]
    while isinstance(chain[-1], VecEnvWrapper):
        chain.append(chain[-1].venv)
    return chain


def _find_vec_normalize(venv: VecEnv) -> VecNormalize | None:
    from stable_baselines3.common.vec_env import VecNormalize

    return next((layer for layer in _vec_wrappers(venv) if isinstance(layer, VecNormalize)), None)


def _frozen_copy(vec_normalize: VecNormalize, venv: VecEnv) -> VecNormalize:
    """A VecNormalize around ``venv`` with a copy of the statistics, not updating them and not scaling rewards."""
    from stable_baselines3.common.vec_env import VecNormalize

    frozen = VecNormalize(
        venv,
        training=False,
        norm_obs=vec_normalize.norm_obs,
        norm_reward=False,
        clip_obs=vec_normalize.clip_obs,
        clip_reward=vec_normalize.clip_reward,
        gamma=vec_normalize.gamma,
        epsilon=vec_normalize.epsilon,
        norm_obs_keys=getattr(vec_normalize, "norm_obs_keys", None),
    )
    frozen.obs_rms = copy.deepcopy(vec_normalize.obs_rms)
    frozen.ret_rms = copy.deepcopy(vec_normalize.ret_rms)
    return frozen


def _channels_order(stacked: StackedObservations[Any]) -> str | dict[str, str]:
    """The ``channels_order`` that stacks as ``stacked`` does: StackedObservations keeps only which axis it chose."""
    import gymnasium as gym

    if isinstance(stacked.observation_space, gym.spaces.Dict):
        return {key: "first" if sub.channels_first else "last" for key, sub in stacked.sub_stacked_observations.items()}
    return "first" if stacked.channels_first else "last"


def _with_frozen_normalization(venv: VecEnv, vec_normalize: VecNormalize) -> VecEnv:
    """``venv`` with its VecNormalize replaced by a frozen copy (only wrappers we know how to rebuild may sit above)."""
    from stable_baselines3.common.vec_env import VecFrameStack, VecMonitor, VecTransposeImage

    chain = _vec_wrappers(venv)
    above = chain[: chain.index(vec_normalize)]
    rebuilt: VecEnv = _frozen_copy(vec_normalize, vec_normalize.venv)
    for layer in reversed(above):
        if isinstance(layer, VecFrameStack):
            rebuilt = VecFrameStack(
                rebuilt, n_stack=layer.stacked_obs.n_stack, channels_order=_channels_order(layer.stacked_obs)
            )
        elif isinstance(layer, (VecTransposeImage, VecMonitor)):
            rebuilt = type(layer)(rebuilt)
        else:
            raise EvaluationError(
                f"{type(layer).__name__} wraps the VecNormalize of the evaluation env, so it cannot be evaluated on "
                "a frozen copy of the statistics. Make VecNormalize the outermost wrapper."
            )
    return rebuilt


def _wrapper_names(venv: VecEnv) -> tuple[str, ...]:
    names = [type(layer).__name__ for layer in _vec_wrappers(venv)]
    env = venv.get_attr("unwrapped", indices=[0])[0]
    inner = _gym_wrapper_names(venv)
    return (*names, *inner, type(env).__name__)


def _gym_wrapper_names(venv: VecEnv) -> list[str]:
    base = _vec_wrappers(venv)[-1]
    envs = getattr(base, "envs", None)
    if not envs:
        return []
    names, layer = [], envs[0]
    while hasattr(layer, "env"):
        names.append(type(layer).__name__)
        layer = layer.env
    return names
