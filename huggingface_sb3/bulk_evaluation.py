"""Evaluate many agents: one record per source, in one process or on Ray, each failure recorded, never raised.

:func:`evaluate_source` loads one agent with the safe loader (:func:`.loading.load_agent`), evaluates it on the env
the agent expects and compares the result with the score its card claims (:func:`.card_claim.read_claim`). Whatever
goes wrong with that source (a corrupt or malicious zip, a missing env or dependency, a Hub error, any other
exception) becomes the record's ``error``. :func:`evaluate_many` runs it over many sources, serially or as Ray tasks
(``pip install "huggingface-sb3[ray]"``), and yields each record as soon as it is done.

Every source is evaluated with the same given seed, and the evaluation seeds only for its own duration (and restores
what it seeded), so the per-episode returns do not depend on the backend, the worker count or the order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import InvalidArgumentError
from .evaluation import is_finite_number

if TYPE_CHECKING:
    from .environments import EvaluationEnv
    from .loading import LoadedAgent

__all__ = ["SourceEvaluation", "evaluate_many", "evaluate_source", "list_author_sources"]

_PHASES = ("download", "load", "evaluate")


@dataclass(frozen=True)
class SourceEvaluation:
    """One source's evaluation, or why it failed.

    Attributes:
        source: the source as given (a repo id or a local path).
        revision: the commit evaluated (None for a local path, or when the source failed before it was resolved).
        algo: the algorithm's class name, e.g. ``"PPO"`` (None when loading failed).
        env_id: the environment id (None when loading failed or the agent names none).
        mean_reward: the measured mean episode return (None when not evaluated).
        std_reward: the measured standard deviation of the episode returns (None when not evaluated).
        episode_returns: the return of each episode (empty when not evaluated).
        n_eval_episodes: the number of episodes asked for.
        deterministic: whether the policy acted deterministically (None when not decided before a failure).
        seed: the seed of the evaluation (the same for every source of a run).
        claimed: the ``(mean, std)`` the model card claims, None when it claims none (or loading failed).
        claim_holds: whether the measured score supports the claim (:meth:`.CardClaim.holds_for`), None without both.
        sha256: SHA-256 of the agent's zip (None when loading failed).
        placeholders: entries of the zip that could not be read safely and were replaced.
        error: None, or the failure on one line: ``"ErrorClass: message"``.
        seconds: wall seconds of each phase, ``{"download": .., "load": .., "evaluate": ..}``: resolving the
            revision and fetching the files the loader reads, loading the model and building its env, playing the
            episodes. A phase that was not reached (after a failure, or ``download`` for a local path) counts 0.
    """

    source: str
    revision: str | None
    algo: str | None
    env_id: str | None
    mean_reward: float | None
    std_reward: float | None
    episode_returns: tuple[float, ...]
    n_eval_episodes: int
    deterministic: bool | None
    seed: int
    claimed: tuple[float, float] | None
    claim_holds: bool | None
    sha256: str | None
    placeholders: tuple[str, ...]
    error: str | None
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_PHASES, 0.0))

    @property
    def ok(self) -> bool:
        """Whether the source was evaluated (no error)."""
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        """The fields of ``huggingface-sb3 evaluate --json`` (without ``video``), plus ``error`` and ``seconds``."""
        return {
            "source": self.source,
            "revision": self.revision,
            "algo": self.algo,
            "env_id": self.env_id,
            "mean_reward": self.mean_reward,
            "std_reward": self.std_reward,
            "episode_returns": list(self.episode_returns),
            "n_eval_episodes": self.n_eval_episodes,
            "deterministic": self.deterministic,
            "seed": self.seed,
            "claimed": list(self.claimed) if self.claimed is not None else None,
            "claim_holds": self.claim_holds,
            "sha256": self.sha256,
            "placeholders": list(self.placeholders),
            "error": self.error,
            "seconds": {phase: round(value, 6) for phase, value in self.seconds.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> SourceEvaluation:
        """The record a :meth:`to_json` object describes (e.g. a line of ``evaluate --output``), its types checked.

        Raises:
            InvalidArgumentError: ``data`` is not such an object (a field missing or of the wrong type).
        """
        if not isinstance(data, dict):
            raise InvalidArgumentError(f"An evaluation record must be a JSON object, not {type(data).__name__}.")
        checked = _Fields(data)
        claimed = checked.optional("claimed", list)
        if claimed is not None and (len(claimed) != 2 or not all(is_finite_number(value) for value in claimed)):
            raise checked.bad("claimed", "a [mean, std] pair of numbers or null")
        seconds = checked.optional("seconds", dict) or {}
        if not all(isinstance(key, str) and is_finite_number(value) for key, value in seconds.items()):
            raise checked.bad("seconds", "an object of numbers")
        returns = checked.required("episode_returns", list)
        if not all(is_finite_number(value) for value in returns):
            raise checked.bad("episode_returns", "a list of numbers")
        placeholders = checked.optional("placeholders", list) or []
        if not all(isinstance(value, str) for value in placeholders):
            raise checked.bad("placeholders", "a list of strings")
        return cls(
            source=checked.required("source", str),
            revision=checked.optional("revision", str),
            algo=checked.optional("algo", str),
            env_id=checked.optional("env_id", str),
            mean_reward=checked.number("mean_reward"),
            std_reward=checked.number("std_reward"),
            episode_returns=tuple(float(value) for value in returns),
            n_eval_episodes=checked.required("n_eval_episodes", int),
            deterministic=checked.optional("deterministic", bool),
            seed=checked.required("seed", int),
            claimed=(float(claimed[0]), float(claimed[1])) if claimed is not None else None,
            claim_holds=checked.optional("claim_holds", bool),
            sha256=checked.optional("sha256", str),
            placeholders=tuple(placeholders),
            error=checked.optional("error", str),
            seconds={**dict.fromkeys(_PHASES, 0.0), **{key: float(value) for key, value in seconds.items()}},
        )


class _Fields:
    """Typed reads of a record's JSON object, with one error wording."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def bad(self, key: str, expected: str) -> InvalidArgumentError:
        return InvalidArgumentError(f"The evaluation record's {key!r} must be {expected}, not {self.data.get(key)!r}.")

    def optional(self, key: str, kind: type) -> Any:
        value = self.data.get(key)
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise self.bad(key, f"{kind.__name__} or null")
        return value

    def required(self, key: str, kind: type) -> Any:
        value = self.optional(key, kind)
        if value is None:
            raise self.bad(key, kind.__name__)
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is not None and not is_finite_number(value):
            raise self.bad(key, "a number or null")
        return float(value) if value is not None else None


def error_line(error: BaseException) -> str:
    """An error on one line: ``"ErrorClass: message"`` (the message's whitespace collapsed). A package error is
    named by its class in :mod:`.errors` (``RepoNotFoundError``, not the HTTP variant the Hub answers raise)."""
    from .errors import HuggingFaceSB3Error

    name = type(error).__name__
    if isinstance(error, HuggingFaceSB3Error):
        name = next(kind.__name__ for kind in type(error).__mro__ if kind.__module__ == HuggingFaceSB3Error.__module__)
    message = " ".join(str(error).split())
    return f"{name}: {message}" if message else name


def failed_record(source: str, *, seed: int, n_eval_episodes: int, error: str) -> SourceEvaluation:
    """The record of a source that failed before anything about it was known (e.g. its worker died)."""
    return SourceEvaluation(
        source=source, revision=None, algo=None, env_id=None, mean_reward=None, std_reward=None, episode_returns=(),
        n_eval_episodes=n_eval_episodes, deterministic=None, seed=seed, claimed=None, claim_holds=None, sha256=None,
        placeholders=(), error=error,
    )  # fmt: skip


def evaluate_source(
    source: str,
    *,
    revision: str | None = None,
    n_eval_episodes: int = 10,
    seed: int = 0,
    deterministic: bool | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    trust_remote_code: bool = False,
    cache_dir: str | Path | None = None,
) -> SourceEvaluation:
    """Load one agent safely, evaluate it on CPU, and compare with its card's claim; never raises for the source.

    For a repo id, one request to the Hub resolves the revision to a commit and lists the files with their
    checksums; the loader then downloads (into the cache) and verifies only the files it reads: the agent's zip,
    the model card, ``results.json``, the RL Zoo's YAML files and normalisation statistics, never the replay video.
    ``seconds["download"]`` is the time spent on those requests, ``seconds["load"]`` the rest of the loading.

    Args:
        source: a repo id (``namespace/name``), or a local zip or RL Zoo experiment folder.
        revision: branch, tag or commit id (default: ``main``).
        n_eval_episodes: episodes to play.
        seed: seed of the env and of the policy's randomness.
        deterministic: deterministic actions; None evaluates as the publisher did
            (:func:`.evaluation.publisher_deterministic`).
        token: token for private repos (default: ``HF_TOKEN`` or the saved login).
        endpoint: the Hub (default: ``HF_ENDPOINT``, else huggingface.co).
        trust_remote_code: load with plain Stable-Baselines3, which runs any code in the files. Only for trusted repos.
        cache_dir: download cache (default: the Hugging Face cache).

    Returns:
        The record; ``error`` says why the source failed, if it did (every exception is caught, not only this
        package's errors: one source must never stop the others).
    """
    partial: dict[str, Any] = {}
    seconds = dict.fromkeys(_PHASES, 0.0)
    try:
        return _evaluate(
            source, partial, seconds, revision=revision, n_eval_episodes=n_eval_episodes, seed=seed,
            deterministic=deterministic, token=token, endpoint=endpoint, trust_remote_code=trust_remote_code,
            cache_dir=cache_dir,
        )  # fmt: skip
    except Exception as error:
        failed = failed_record(source, seed=seed, n_eval_episodes=n_eval_episodes, error=error_line(error))
        return dataclasses.replace(failed, **partial, seconds=seconds)


def _evaluate(
    source: str,
    partial: dict[str, Any],
    seconds: dict[str, float],
    *,
    revision: str | None,
    n_eval_episodes: int,
    seed: int,
    deterministic: bool | None,
    token: str | None,
    endpoint: str | None,
    trust_remote_code: bool,
    cache_dir: str | Path | None,
) -> SourceEvaluation:
    """:func:`evaluate_source`, raising on failure; ``partial`` collects what was learnt, ``seconds`` the phases."""
    from .card_claim import read_claim
    from .environments import prepare_eval_env
    from .evaluation import publisher_deterministic, run_evaluation
    from .loading import load_agent_files, open_agent_files
    from .progress import hub_progress_bars

    loaded = time.perf_counter()
    agent: LoadedAgent | None = None
    evaluation_env: EvaluationEnv | None = None
    with hub_progress_bars(False):  # a bar per file would garble a run's output
        files = open_agent_files(source, revision=revision, token=token, cache_dir=cache_dir, endpoint=endpoint)
    partial["revision"] = files.revision  # known before loading can fail
    try:
        with hub_progress_bars(False):
            agent = load_agent_files(
                files, filename=None, algo=None, env_id=None, env=None, env_kwargs=None, render_mode=None,
                device="cpu", trust_remote_code=trust_remote_code,
            )  # fmt: skip
        stated = read_claim(agent.card)
        partial.update(
            revision=agent.revision, algo=agent.algo, env_id=agent.env_id, sha256=agent.sha256,
            placeholders=agent.placeholders, claimed=(stated.mean, stated.std) if stated else None,
        )  # fmt: skip
        evaluation_env = prepare_eval_env(
            agent.require_env(), env_id=agent.env_id, model=agent.model, need_frames=False
        )
        if deterministic is None:
            deterministic = publisher_deterministic(agent.results, agent.env_id)
        partial["deterministic"] = deterministic
        evaluating = time.perf_counter()
        seconds["load"] = evaluating - loaded - files.download_seconds
        result = run_evaluation(
            agent.model, evaluation_env, n_eval_episodes=n_eval_episodes, deterministic=deterministic, seed=seed,
            progress=False,
        )  # fmt: skip
        seconds["evaluate"] = time.perf_counter() - evaluating
    finally:
        seconds["download"] = files.download_seconds
        if not seconds["load"]:
            seconds["load"] = time.perf_counter() - loaded - files.download_seconds
        _close(evaluation_env, agent)
    return SourceEvaluation(
        source=source, revision=agent.revision, algo=agent.algo, env_id=agent.env_id, mean_reward=result.mean_reward,
        std_reward=result.std_reward, episode_returns=result.episode_returns, n_eval_episodes=n_eval_episodes,
        deterministic=result.deterministic, seed=result.seed, claimed=partial["claimed"],
        claim_holds=stated.holds_for(result.mean_reward, result.std_reward) if stated else None,
        sha256=agent.sha256, placeholders=agent.placeholders, error=None, seconds=seconds,
    )  # fmt: skip


def _close(evaluation_env: EvaluationEnv | None, agent: LoadedAgent | None) -> None:
    """Close the envs built for the evaluation; a failure to close does not change the source's outcome."""
    with contextlib.suppress(Exception):
        if evaluation_env is not None:
            evaluation_env.close()
    with contextlib.suppress(Exception):
        if agent is not None and agent.env is not None:
            agent.env.close()


def evaluate_many(
    sources: Iterable[str],
    *,
    backend: Literal["serial", "ray"] = "serial",
    workers: int | None = None,
    ray_address: str | None = None,
    n_eval_episodes: int = 10,
    seed: int = 0,
    deterministic: bool | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    trust_remote_code: bool = False,
) -> Iterator[SourceEvaluation]:
    """Evaluate every source (:func:`evaluate_source`), yielding each record as it finishes.

    ``sources`` is read lazily, and the Ray backend keeps at most ``2 * workers`` tasks in flight, collecting them
    with ``ray.wait`` as they finish, so memory does not grow with the number of sources.

    Args:
        sources: repo ids or local paths.
        backend: ``"serial"`` (one after another, in this process, in order) or ``"ray"`` (as finished).
        workers: Ray: CPUs of the local Ray started here (default: this machine's); with ``ray_address``, the
            in-flight window is sized for this many workers (default: the cluster's CPUs). Ignored when serial.
        ray_address: join this Ray cluster (e.g. ``"auto"`` or ``"ray://head:10001"``) instead of starting a local
            Ray. A Ray already initialised in this process is used as it is. Only a Ray started here is shut down
            (when the iteration ends, fails or is closed).
        n_eval_episodes, seed, deterministic, token, endpoint, trust_remote_code: as :func:`evaluate_source`; the
            same seed for every source.

    Each Ray task asks for one CPU, runs torch, OpenMP and MKL on one thread, and is retried once if its worker
    dies; a source whose worker died twice gets a record with the error. ``token`` goes to the tasks as an
    argument; ``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HOME``, ``HF_HUB_CACHE``, ``HF_HUB_OFFLINE`` and
    ``HF_HUB_DISABLE_TELEMETRY``, when set here, are set in the workers too (on a cluster, ``HF_HOME`` and
    ``HF_HUB_CACHE`` must then be paths valid on every node).

    Raises:
        InvalidArgumentError: an unknown backend, or fewer than one worker or episode.
        MissingDependencyError: the Ray backend without Ray installed (raised at the call, before any source).
    """
    if backend not in ("serial", "ray"):
        raise InvalidArgumentError(f"backend must be 'serial' or 'ray', not {backend!r}.")
    if workers is not None and workers < 1:
        raise InvalidArgumentError(f"workers must be at least 1, not {workers}.")
    if n_eval_episodes < 1:
        raise InvalidArgumentError(f"n_eval_episodes must be at least 1, not {n_eval_episodes}.")
    options: dict[str, Any] = {
        "n_eval_episodes": n_eval_episodes, "seed": seed, "deterministic": deterministic, "token": token,
        "endpoint": endpoint, "trust_remote_code": trust_remote_code,
    }  # fmt: skip
    if backend == "serial":
        return (evaluate_source(source, **options) for source in sources)
    from ._bulk_ray import import_ray, run_on_ray

    return run_on_ray(import_ray(), sources, options, workers=workers, ray_address=ray_address)


def list_author_sources(author: str, *, token: str | None = None, endpoint: str | None = None) -> list[str]:
    """The ids of every Stable-Baselines3 model repo of a user or organisation, sorted.

    Args:
        author: the user or organisation.
        token: token to see private repos (default: ``HF_TOKEN`` or the saved login).
        endpoint: the Hub (default: ``HF_ENDPOINT``, else huggingface.co).

    Raises:
        HubRequestError, HubAccessError: the Hub could not list them.
    """
    from .hub_access import hub_api, hub_errors

    with hub_errors(author, endpoint=endpoint):
        return sorted(
            model.id for model in hub_api(token, endpoint).list_models(author=author, filter="stable-baselines3")
        )
