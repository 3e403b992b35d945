"""Evaluate an agent honestly: true episode returns, recorded seed and determinism, optional replay frames.

The replay is filmed from the evaluation episodes themselves (the first sub-env's frames go to a recorder),
so the env is not played twice; if the evaluation ends before the video is long enough, the agent keeps
playing, uncounted, until it is.

An env built from its id (``load_agent``'s, ``package_to_hub(eval_env=None)``'s, the CLI's) is played on
:func:`evaluation_copies` copies at once, with batched policy inference, as Stable-Baselines3's ``evaluate_policy``
does with a VecEnv of several envs. The number of copies depends on ``n_eval_episodes`` only, never on the machine,
so a seed gives the same per-episode returns everywhere; an env the user built is played as given.
"""

from __future__ import annotations

import math
import random
import secrets
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import EvaluationError, InvalidArgumentError

if TYPE_CHECKING:
    import gymnasium as gym
    import numpy as np
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

    from .environments import EvaluationEnv
    from .video import VideoInfo

__all__ = ["EvaluationResult", "evaluate_agent", "evaluation_copies", "publisher_deterministic"]

MAX_EVALUATION_COPIES = 8
"""The most env copies an env built from its id is evaluated on at once."""


def evaluation_copies(n_eval_episodes: int) -> int:
    """How many copies of an env built from its id play ``n_eval_episodes`` episodes at once: a function of
    ``n_eval_episodes`` only (never of the CPU count), so that the seeds each episode gets, and so the returns, are
    the same on every machine."""
    return max(1, min(n_eval_episodes, MAX_EVALUATION_COPIES))


class FrameSink(Protocol):
    """Where replay frames go (a :class:`~huggingface_sb3.video.ReplayRecorder`)."""

    max_frames: int | None

    @property
    def full(self) -> bool: ...

    def add_frame(self, frame: np.ndarray) -> bool: ...


@dataclass(frozen=True)
class EvaluationResult:
    """The outcome of an evaluation.

    Attributes:
        episode_returns: the true return of each episode (a Monitor's, when the env has one).
        episode_lengths: the number of steps of each episode.
        deterministic: whether the policy acted deterministically.
        seed: the seed the env (and the policy's randomness) was seeded with.
        eval_datetime: when the evaluation finished (timezone-aware, UTC).
        duration_seconds: wall time of the evaluation, including filming.
        n_envs: how many sub-envs played the episodes at once (sub-env ``i`` is seeded with ``seed + i``); with
            ``seed``, ``n_eval_episodes`` and ``deterministic`` it is what reproducing the returns takes.
    """

    episode_returns: tuple[float, ...]
    episode_lengths: tuple[int, ...]
    deterministic: bool
    seed: int
    eval_datetime: datetime
    duration_seconds: float
    n_envs: int = 1

    @property
    def n_eval_episodes(self) -> int:
        """Number of evaluated episodes."""
        return len(self.episode_returns)

    @property
    def mean_reward(self) -> float:
        """Mean episode return."""
        return float(sum(self.episode_returns) / len(self.episode_returns))

    @property
    def std_reward(self) -> float:
        """Standard deviation of the episode returns (population, as Stable-Baselines3 reports it)."""
        return statistics.pstdev(self.episode_returns)

    def to_json(self) -> dict[str, Any]:
        """The fields of ``results.json`` that describe the evaluation (3.0's fields first)."""
        return {
            "mean_reward": self.mean_reward,
            "std_reward": self.std_reward,
            "is_deterministic": self.deterministic,
            "n_eval_episodes": self.n_eval_episodes,
            "eval_datetime": self.eval_datetime.isoformat(),
            "episode_returns": list(self.episode_returns),
            "episode_lengths": list(self.episode_lengths),
            "seed": self.seed,
            "n_envs": self.n_envs,
            "eval_duration_seconds": round(self.duration_seconds, 3),
        }

    @classmethod
    def from_json(cls, data: Any, *, source: str = "results.json") -> EvaluationResult:
        """The evaluation a ``results.json`` written by :meth:`to_json` describes, its types checked.

        Args:
            data: the parsed JSON (a dict).
            source: what to call the file in errors.

        Files written before ``n_envs`` was recorded read as ``n_envs=1``.

        Raises:
            CorruptArtifactError: ``data`` is not such an object: a field is missing or of the wrong type, the
                returns and lengths differ in number, or there are none (3.0 wrote only mean and std).
        """
        from .errors import CorruptArtifactError

        def bad(why: str) -> CorruptArtifactError:
            return CorruptArtifactError(f"{source} does not describe an evaluation: {why}.")

        if not isinstance(data, dict):
            raise bad(f"it holds {type(data).__name__}, not an object")
        missing = [key for key in _RESULT_KEYS if key not in data]
        if missing:
            raise bad(f"it lacks {', '.join(missing)}")
        returns, lengths = data["episode_returns"], data["episode_lengths"]
        if not isinstance(returns, list) or not returns or not all(is_finite_number(value) for value in returns):
            raise bad("episode_returns must be a non-empty list of numbers")
        if not isinstance(lengths, list) or not all(_is_int(value) and value >= 0 for value in lengths):
            raise bad("episode_lengths must be a list of non-negative integers")
        if len(lengths) != len(returns):
            raise bad(f"{len(returns)} episode_returns but {len(lengths)} episode_lengths")
        if "n_eval_episodes" in data and data["n_eval_episodes"] != len(returns):
            raise bad(f"n_eval_episodes is {data['n_eval_episodes']!r} but there are {len(returns)} episode_returns")
        if not isinstance(data["is_deterministic"], bool):
            raise bad("is_deterministic must be true or false")
        if not _is_int(data["seed"]):
            raise bad("seed must be an integer")
        n_envs = data.get("n_envs", 1)
        if not _is_int(n_envs) or n_envs < 1:
            raise bad("n_envs must be a positive integer")
        duration = data.get("eval_duration_seconds", 0.0)
        if not is_finite_number(duration) or duration < 0:
            raise bad("eval_duration_seconds must be a non-negative number")
        try:
            when = datetime.fromisoformat(data["eval_datetime"])
        except (TypeError, ValueError):
            raise bad("eval_datetime must be an ISO 8601 date and time") from None
        return cls(
            episode_returns=tuple(float(value) for value in returns),
            episode_lengths=tuple(lengths),
            deterministic=data["is_deterministic"],
            seed=data["seed"],
            eval_datetime=when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc),
            duration_seconds=float(duration),
            n_envs=n_envs,
        )


_RESULT_KEYS = ("episode_returns", "episode_lengths", "is_deterministic", "seed", "eval_datetime")


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` is a finite int or float (not a bool): what JSON results may hold as numbers."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def publisher_deterministic(results: Any, env_id: str | None) -> bool:
    """Whether to act deterministically to evaluate an agent the way its publisher did.

    As ``results.json`` records it (its ``is_deterministic``, when that is true or false), else deterministic,
    except for Atari agents, which 3.0, the RL Zoo and ``package_to_hub`` score with stochastic actions.
    """
    from .environments import is_atari

    recorded = results.get("is_deterministic") if isinstance(results, dict) else None
    if isinstance(recorded, bool):
        return recorded
    return not (env_id is not None and is_atari(env_id))


def evaluate_agent(
    model: BaseAlgorithm,
    env: gym.Env | VecEnv,
    *,
    n_eval_episodes: int = 10,
    deterministic: bool = True,
    seed: int | None = None,
    progress: bool = False,
) -> EvaluationResult:
    """Play ``n_eval_episodes`` episodes and return their true returns and lengths.

    Args:
        model: a Stable-Baselines3 (or sb3-contrib) model.
        env: a gymnasium env or a VecEnv. With reward-changing wrappers (Atari), a ``Monitor`` must sit beneath
            them; a ``VecNormalize`` is evaluated on a frozen copy of its statistics (the env is not changed).
        n_eval_episodes: number of episodes to play, split across the sub-envs of a VecEnv as Stable-Baselines3's
            ``evaluate_policy`` splits them. An env built from its id (``load_agent``'s ``agent.env``, possibly
            with its ``VecNormalize``) is played on :func:`evaluation_copies` copies of it instead (the env given
            is not stepped); any other env is played as it is.
        deterministic: use the policy's deterministic actions (Atari agents are usually evaluated with False, as the
            RL Zoo and ``package_to_hub`` do).
        seed: seed of the env and of the policy's randomness; a random one is drawn (and reported) when None.
        progress: show a progress bar.
    """
    from .environments import prepare_eval_env

    evaluation_env = prepare_eval_env(env, env_id=None, model=model, need_frames=False)
    return run_evaluation(
        model,
        evaluation_env,
        n_eval_episodes=n_eval_episodes,
        deterministic=deterministic,
        seed=seed,
        progress=progress,
    )


def run_evaluation(
    model: BaseAlgorithm,
    evaluation_env: EvaluationEnv,
    *,
    n_eval_episodes: int,
    deterministic: bool,
    seed: int | None,
    progress: bool,
    frames: FrameSink | None = None,
) -> EvaluationResult:
    """Evaluate on a prepared env; frames of the first sub-env go to ``frames`` until it is full.

    An env built from its id is played on :func:`evaluation_copies` copies (built for this evaluation, then closed).
    """
    if n_eval_episodes < 1:
        raise InvalidArgumentError(f"n_eval_episodes must be at least 1, not {n_eval_episodes}.")
    seed = secrets.randbelow(2**31) if seed is None else seed
    started = time.perf_counter()
    with evaluation_env.copies(evaluation_copies(n_eval_episodes)) as playing, _seeded_randomness(seed, model):
        returns, lengths = _play(model, playing, n_eval_episodes, deterministic, seed, progress, frames)
        n_envs = playing.venv.num_envs
    return EvaluationResult(
        episode_returns=tuple(returns),
        episode_lengths=tuple(lengths),
        deterministic=deterministic,
        seed=seed,
        eval_datetime=datetime.now(timezone.utc),
        duration_seconds=time.perf_counter() - started,
        n_envs=n_envs,
    )


def evaluate_and_record(
    model: BaseAlgorithm,
    evaluation_env: EvaluationEnv,
    video_path: Path,
    *,
    fps: float,
    max_frames: int,
    n_eval_episodes: int,
    deterministic: bool,
    seed: int | None,
    progress: bool,
) -> tuple[EvaluationResult, VideoInfo]:
    """Evaluate while filming the first sub-env into ``video_path`` (at most ``max_frames`` frames).

    The video file appears only if both succeed; on any failure the encoder is stopped and nothing is left.
    """
    from .video import ReplayRecorder

    recorder = ReplayRecorder(video_path, fps=fps, max_frames=max_frames)
    try:
        evaluation = run_evaluation(
            model,
            evaluation_env,
            n_eval_episodes=n_eval_episodes,
            deterministic=deterministic,
            seed=seed,
            progress=progress,
            frames=recorder,
        )
    except BaseException:
        recorder.abort()
        raise
    return evaluation, recorder.close()


def _play(
    model: BaseAlgorithm,
    evaluation_env: EvaluationEnv,
    n_eval_episodes: int,
    deterministic: bool,
    seed: int,
    progress: bool,
    frames: FrameSink | None,
) -> tuple[list[float], list[int]]:
    import numpy as np
    from tqdm.auto import tqdm

    venv = evaluation_env.venv
    n_envs = venv.num_envs
    targets = np.array([(n_eval_episodes + i) // n_envs for i in range(n_envs)])
    counts = np.zeros(n_envs, dtype=int)
    current_returns, current_lengths = np.zeros(n_envs), np.zeros(n_envs, dtype=int)
    returns: list[float] = []
    lengths: list[int] = []
    venv.seed(seed)
    observations = venv.reset()
    states, episode_starts = None, np.ones(n_envs, dtype=bool)
    with (
        ExitStack() as while_filming,
        tqdm(total=n_eval_episodes, desc="Evaluating", unit="episode", disable=not progress, position=0) as bar,
        tqdm(
            total=frames.max_frames if frames is not None else 0,
            desc="Recording",
            unit="frame",
            disable=not progress or frames is None,
            position=1,
            leave=False,
        ) as frame_bar,
    ):
        if frames is not None:
            while_filming.enter_context(_one_torch_thread())
        filming = frames is not None and _film(evaluation_env, frames, frame_bar)
        while (counts < targets).any() or filming:
            try:
                actions, states = model.predict(
                    observations,  # type: ignore[arg-type]  # SB3 types VecEnvObs wider than predict() (its evaluate_policy ignores it too)
                    state=states,
                    episode_start=episode_starts,
                    deterministic=deterministic,
                )
                observations, rewards, dones, infos = venv.step(actions)
            except Exception as error:
                raise EvaluationError(
                    f"The agent could not be played on the evaluation env: {type(error).__name__}: {error}. Check "
                    "that the env matches the one the agent was trained on (observation and action spaces, wrappers)."
                ) from error
            if filming:
                filming = _film(evaluation_env, frames, frame_bar)
                if not filming:
                    while_filming.close()
            current_returns += rewards
            current_lengths += 1
            episode_starts = dones.copy()
            for index in np.flatnonzero(dones):
                finished = _finished_episode(
                    evaluation_env.monitored, infos[index], current_returns, current_lengths, int(index)
                )
                current_returns[index], current_lengths[index] = 0.0, 0
                if finished is not None and counts[index] < targets[index]:
                    returns.append(finished[0])
                    lengths.append(finished[1])
                    counts[index] += 1
                    bar.update()
    return returns, lengths


def _finished_episode(
    monitored: bool, info: dict[str, Any], returns: np.ndarray, lengths: np.ndarray, index: int
) -> tuple[float, int] | None:
    """The (return, length) of an episode that just ended; None for a life lost in a longer Atari game."""
    if monitored:
        episode = info.get("episode")
        return (float(episode["r"]), int(episode["l"])) if episode is not None else None
    return float(returns[index]), int(lengths[index])


def _film(evaluation_env: EvaluationEnv, frames: FrameSink | None, bar: Any) -> bool:
    """Send the current frame to ``frames``; whether more frames are wanted."""
    if frames is None or frames.full:
        return False
    frame = evaluation_env.grab_frame()
    if frame is None:
        raise EvaluationError(
            "The evaluation env rendered no frame. Make no video: pass video=False. To film, create the env with "
            "render_mode='rgb_array'."
        )
    frames.add_frame(frame)
    bar.update()
    return not frames.full


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Run torch's operators on one thread, then restore the thread count.

    While a replay is filmed, ffmpeg encodes beside the evaluation; torch's other intra-op threads then only spin on
    the cores the encoder needs (on 2 cores, filming 1000 CartPole frames over 8 env copies took 3.4 s with torch's
    2 threads and 1.9 s with one). The policy's small batches gain nothing from more threads meanwhile.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


_GLOBAL_RNG_LOCK = threading.RLock()
"""Held by an evaluation while it seeds, draws from and restores the process-wide RNGs (see _seeded_randomness)."""


@contextmanager
def _seeded_randomness(seed: int, model: BaseAlgorithm) -> Iterator[None]:
    """Seed Python, NumPy, torch and the action space for the evaluation, and restore their states afterwards.

    Evaluations in one process take turns: this holds a process-wide lock from seeding to restoring, so that two
    evaluations in threads (two tasks of one Ray worker, say) never draw from each other's seeded RNGs. Private
    generators would let them run side by side, but Stable-Baselines3 offers no way to pass one: its policies
    sample actions from torch's global generator (``torch.distributions``' ``sample()`` takes none), DQN's
    exploration draws from NumPy's global RNG (``np.random.rand()``) and the action space, so only monkeypatching
    SB3 would do, which breaks with its next release. Taking turns costs little: under the GIL, and with torch's
    own threads, two evaluations in one process gain almost nothing from overlapping. Loading and building envs
    happen outside the lock. Code outside this module that draws from the global RNGs while an evaluation runs (in
    another thread) still perturbs it: evaluate in a process, or a thread, that does not train at the same time.
    """
    with _GLOBAL_RNG_LOCK, _seeded_global_rngs(seed, model):
        yield


@contextmanager
def _seeded_global_rngs(seed: int, model: BaseAlgorithm) -> Iterator[None]:
    import numpy as np
    import torch

    python_state, numpy_state = random.getstate(), np.random.get_state()
    space_rng = getattr(model.action_space, "_np_random", None)
    space_state = space_rng.bit_generator.state if space_rng is not None else None
    with torch.random.fork_rng(devices=[]):
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        model.action_space.seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)
            if space_rng is not None and space_state is not None:
                model.action_space._np_random = space_rng
                space_rng.bit_generator.state = space_state
