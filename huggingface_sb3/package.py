"""``package_to_hub``: turn a trained agent into a Hub repo in one commit.

Stages, each writing into one staging folder: check everything local (no request yet) → save the model and
``config.json`` (and the ``VecNormalize`` statistics) → evaluate while filming the replay → copy logs and extra
files → ``results.json`` → read the repo's current state → ``README.md`` → one commit that adds the new files
and deletes what earlier packagings left behind, naming its parent commit. Nothing reaches the Hub until every
local stage has succeeded; with ``push=False`` the folder is the result.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .agent_files import ALGORITHMS, algorithm_name
from .card import render_card
from .card_facts import read_card_facts
from .environments import EvaluationEnv, ensure_registered, is_atari, prepare_eval_env
from .errors import InvalidArgumentError, MissingFileError, UnsupportedModelError
from .evaluation import EvaluationResult, evaluate_and_record, run_evaluation
from .hub_access import check_repo_id, hub_api, hub_errors, require_token
from .model_files import (
    CONFIG,
    README,
    REPLAY,
    RESULTS,
    VEC_NORMALIZE_JSON,
    VEC_NORMALIZE_PICKLE,
    readable_config,
    save_model,
    save_vec_normalize,
    write_json,
)
from .progress import hub_progress_bars, progress_enabled
from .safe_load import read_agent_data
from .system_info import library_versions

if TYPE_CHECKING:
    import gymnasium as gym
    from huggingface_hub import CommitInfo, HfApi, ModelInfo
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

    from .video import VideoInfo

__all__ = ["PackageResult", "package_to_hub"]

logger = logging.getLogger(__name__)

LOGS = "logs"
GENERATED_FILES = (REPLAY, RESULTS, CONFIG, README, VEC_NORMALIZE_PICKLE, VEC_NORMALIZE_JSON)


class PackageResult(str):
    """What ``package_to_hub`` did, frozen. It is the commit URL (as 3.0 returned), or the local folder on a dry run.

    Attributes:
        commit_url: URL of the commit (None on a dry run).
        commit_id: id of the commit (None on a dry run).
        repo_url: URL of the repo (None on a dry run).
        pr_url: URL of the pull request when ``create_pr=True``.
        evaluation: the evaluation result.
        files: the repo paths this packaging wrote.
        deleted: repo paths of earlier packagings removed by the commit.
        local_dir: the kept staging folder (None when it was temporary).
        video: facts about ``replay.mp4`` (None when skipped).
        skipped: optional stages that were skipped, with the reason.
        stage_seconds: wall time of each stage.
    """

    commit_url: str | None
    commit_id: str | None
    repo_url: str | None
    pr_url: str | None
    evaluation: EvaluationResult
    files: tuple[str, ...]
    deleted: tuple[str, ...]
    local_dir: Path | None
    video: VideoInfo | None
    skipped: dict[str, str]
    stage_seconds: dict[str, float]

    def __new__(
        cls,
        value: str,
        *,
        commit_url: str | None,
        commit_id: str | None,
        repo_url: str | None,
        pr_url: str | None,
        evaluation: EvaluationResult,
        files: tuple[str, ...],
        deleted: tuple[str, ...],
        local_dir: Path | None,
        video: VideoInfo | None,
        skipped: dict[str, str],
        stage_seconds: dict[str, float],
    ) -> PackageResult:
        result = super().__new__(cls, value)
        fields = {
            "commit_url": commit_url, "commit_id": commit_id, "repo_url": repo_url, "pr_url": pr_url,
            "evaluation": evaluation, "files": files, "deleted": deleted, "local_dir": local_dir, "video": video,
            "skipped": skipped, "stage_seconds": stage_seconds,
        }  # fmt: skip
        for name, field_value in fields.items():
            object.__setattr__(result, name, field_value)
        return result

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}: a PackageResult is frozen")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}: a PackageResult is frozen")

    @property
    def summary(self) -> str:
        """One line saying what happened: where the agent went, its score, and its video."""
        evaluation = self.evaluation
        if self.pr_url is not None:
            where = f"Opened the pull request {self.pr_url}"
        elif self.commit_url is not None:
            where = f"Pushed to {self.commit_url}"
        else:
            where = f"Wrote {self} (dry run, nothing pushed)"
        if self.video is not None:
            video = f"video {REPLAY} ({self.video.frames} frames)"
        else:
            video = f"no video ({self.skipped['video']})" if "video" in self.skipped else "no video"
        return (
            f"{where}: mean_reward {evaluation.mean_reward:.2f} +/- {evaluation.std_reward:.2f} over "
            f"{evaluation.n_eval_episodes} episodes; {video}."
        )


@dataclass(frozen=True)
class _RemoteState:
    """The repo as it is before the commit: its head at the target revision, its files and its README."""

    exists: bool
    branch_exists: bool
    head: str | None
    files: tuple[str, ...]
    readme: str | None


def package_to_hub(
    model: BaseAlgorithm,
    model_name: str,
    model_architecture: str | None,
    env_id: str,
    eval_env: gym.Env | VecEnv | None,
    repo_id: str,
    commit_message: str,
    is_deterministic: bool = True,
    n_eval_episodes: int = 10,
    token: str | None = None,
    video_length: int = 1000,
    logs: str | Path | None = None,
    *,
    seed: int | None = None,
    private: bool = False,
    revision: str | None = None,
    create_pr: bool = False,
    video: bool = True,
    video_fps: float | None = None,
    local_dir: str | Path | None = None,
    push: bool = True,
    extra_files: Iterable[str | Path] | Mapping[str, str | Path] | None = None,
    tags: Iterable[str] = (),
    license: str | None = None,
    commit_description: str | None = None,
    progress: bool | None = None,
    endpoint: str | None = None,
) -> PackageResult:
    """Evaluate an agent, film a replay, write its model card and push everything to the Hub in one commit.

    Args:
        model: the trained Stable-Baselines3 (or sb3-contrib) model.
        model_name: file name of the saved agent, without ``.zip`` (e.g. ``"ppo-CartPole-v1"``).
        model_architecture: the algorithm's name, e.g. ``"PPO"`` (the card's ``model-index`` name, which the
            RL Zoo reads as the algorithm); case-insensitive, and it must be the model's algorithm. None to use the
            model's.
        env_id: the environment id the agent was trained on (the leaderboard's tag).
        eval_env: the env to evaluate (and film) on: a gymnasium env or a VecEnv, created with
            ``render_mode="rgb_array"`` when a video is wanted; None to build one from ``env_id``.
        repo_id: ``namespace/name`` of the repo (created if missing, after every local stage succeeded).
        commit_message: the commit's title.
        is_deterministic: use deterministic actions (Atari agents are evaluated stochastically, as in 3.0 and the
            RL Zoo).
        n_eval_episodes: number of evaluation episodes.
        token: write token (default: ``HF_TOKEN`` or the saved login).
        video_length: most frames in ``replay.mp4``.
        logs: a folder (e.g. TensorBoard logs) to publish as ``logs/``.
        seed: seed of the evaluation (a random one is drawn and recorded when None).
        private: create the repo as private (an existing repo keeps its visibility).
        revision: branch to commit to (created from ``main`` if missing).
        create_pr: open a pull request with the commit instead of committing to the branch.
        video: film ``replay.mp4``.
        video_fps: frames per second of the video (default: the env's ``render_fps``, else 30).
        local_dir: keep the repo folder here (must be empty or missing); by default a temporary folder.
        push: False for a dry run: build the complete folder in ``local_dir`` and make no request.
        extra_files: more files to publish, as paths (placed at the repo root) or ``{path_in_repo: local_path}``
            (e.g. the RL Zoo's ``config.yml`` and ``env_kwargs.yml``).
        tags: more tags for the card.
        license: the card's license (e.g. ``"mit"``); an existing card's license is kept when None.
        commit_description: the commit's description.
        progress: True to draw progress bars, False for neither bars nor the closing line; None (default) draws
            bars only on a terminal or in a notebook, so that captured output stays clean. Unless False, one
            line says where the agent went, its score and its video (:attr:`PackageResult.summary`).
        endpoint: the Hub to push to (default: ``HF_ENDPOINT``, else huggingface.co), e.g. a ``LocalHub``'s.

    Returns:
        A :class:`PackageResult`, equal to the commit URL (or to the local folder on a dry run).
    """
    timings: dict[str, float] = {}
    with _stage("check", timings):
        model_architecture = _check_model(model, model_name, model_architecture)
        ensure_registered(env_id)
        if push:
            check_repo_id(repo_id)
            token = require_token(token)
        _check_counts(n_eval_episodes, video_length if video else None)
        job = _Job(
            model=model,
            model_name=model_name,
            algo=model_architecture,
            env_id=env_id,
            repo_id=repo_id,
            commit_message=commit_message,
            commit_description=commit_description,
            deterministic=is_deterministic and not is_atari(env_id),
            n_eval_episodes=n_eval_episodes,
            token=token,
            video_frames=video_length if video else 0,
            video_fps=video_fps,
            logs_dir=_existing_dir(logs, "logs") if logs is not None else None,
            extras=_extra_files(extra_files),
            seed=seed,
            private=private,
            revision=revision,
            create_pr=create_pr,
            push=push,
            tags=tuple(tags),
            license=license,
            progress=progress_enabled(progress),
            endpoint=endpoint,
        )
        evaluation_env = prepare_eval_env(eval_env, env_id=env_id, model=model, need_frames=video, seed=seed)
        try:
            staging, keep_staging = _staging_folder(local_dir, push)
        except BaseException:
            evaluation_env.close()
            raise
    try:
        result = _publish(job, evaluation_env, staging, keep_staging, timings)
    finally:
        evaluation_env.close()
        if not keep_staging:
            shutil.rmtree(staging, ignore_errors=True)
    if progress is not False:
        print(result.summary)
    return result


@dataclass(frozen=True)
class _Job:
    """The checked inputs of one packaging."""

    model: BaseAlgorithm
    model_name: str
    algo: str
    env_id: str
    repo_id: str
    commit_message: str
    commit_description: str | None
    deterministic: bool
    n_eval_episodes: int
    token: str | None
    video_frames: int
    video_fps: float | None
    logs_dir: Path | None
    extras: dict[str, Path]
    seed: int | None
    private: bool
    revision: str | None
    create_pr: bool
    push: bool
    tags: tuple[str, ...]
    license: str | None
    progress: bool
    endpoint: str | None


@dataclass(frozen=True)
class _Staged:
    """What the local stages produced, beside the files in the staging folder."""

    zip_name: str
    evaluation: EvaluationResult
    video: VideoInfo | None
    skipped: dict[str, str]


def _publish(
    job: _Job, evaluation_env: EvaluationEnv, staging: Path, keep_staging: bool, timings: dict[str, float]
) -> PackageResult:
    """Write the repo folder, then (unless a dry run) commit it in one commit."""
    with hub_progress_bars(job.progress):
        staged = _write_local_files(job, evaluation_env, staging, timings)
        api = hub_api(job.token, job.endpoint) if job.push else None
        remote = None
        if api is not None:
            with _stage("read_repo", timings):
                remote = _remote_state(api, job.repo_id, job.revision)
        with _stage("card", timings):
            facts = read_card_facts(
                staging, repo_id=job.repo_id, endpoint=job.endpoint, revision=job.revision or "main",
                zip_name=staged.zip_name, env_id=job.env_id, algo=job.algo, wrappers=evaluation_env.wrappers,
            )  # fmt: skip
            existing = remote.readme if remote is not None else None
            readme = render_card(facts, existing=existing, tags=list(job.tags), license=job.license)
            (staging / README).write_text(readme, encoding="utf-8")
        files = tuple(sorted(path.relative_to(staging).as_posix() for path in staging.rglob("*") if path.is_file()))
        commit: CommitInfo | None = None
        deleted: tuple[str, ...] = ()
        if api is not None and remote is not None:
            with _stage("push", timings):
                deleted = _stale_files(remote.files, files, job.model_name)
                commit = _commit(api, job, remote, staging, files, deleted)
    return PackageResult(
        commit.commit_url if commit is not None else str(staging),
        commit_url=commit.commit_url if commit is not None else None,
        commit_id=commit.oid if commit is not None else None,
        repo_url=str(commit.repo_url) if commit is not None else None,
        pr_url=commit.pr_url if commit is not None else None,
        evaluation=staged.evaluation,
        files=files,
        deleted=deleted,
        local_dir=staging if keep_staging else None,
        video=staged.video,
        skipped=staged.skipped,
        stage_seconds=timings,
    )


def _write_local_files(job: _Job, evaluation_env: EvaluationEnv, staging: Path, timings: dict[str, float]) -> _Staged:
    """The model, ``config.json``, statistics, evaluation and replay, logs and extra files, ``results.json``."""
    skipped: dict[str, str] = {}
    with _stage("save", timings):
        zip_path = save_model(job.model, staging, job.model_name)
        versions = library_versions()
        config = readable_config(read_agent_data(zip_path), _sb3_system_info())
        write_json(staging / CONFIG, config)
        if evaluation_env.vec_normalize is not None:
            save_vec_normalize(evaluation_env.vec_normalize, staging)
    with _stage("evaluate_and_record", timings):
        video_info: VideoInfo | None = None
        if job.video_frames:
            evaluation, video_info = evaluate_and_record(
                job.model, evaluation_env, staging / REPLAY, fps=job.video_fps or evaluation_env.render_fps,
                max_frames=job.video_frames, n_eval_episodes=job.n_eval_episodes, deterministic=job.deterministic,
                seed=job.seed, progress=job.progress,
            )  # fmt: skip
        else:
            evaluation = run_evaluation(
                job.model, evaluation_env, n_eval_episodes=job.n_eval_episodes, deterministic=job.deterministic,
                seed=job.seed, progress=job.progress,
            )  # fmt: skip
            skipped["video"] = "video=False was passed"
    with _stage("copy_files", timings):
        if job.logs_dir is not None:
            shutil.copytree(job.logs_dir, staging / LOGS)
        for path_in_repo, source in job.extras.items():
            target = staging / path_in_repo
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        results = {
            **evaluation.to_json(),
            "env_id": job.env_id,
            "algo": job.algo,
            "library_versions": versions,
            "skipped": skipped,
        }
        if video_info is not None:
            results["video"] = {
                "frames": video_info.frames,
                "fps": video_info.fps,
                "width": video_info.width,
                "height": video_info.height,
            }
        write_json(staging / RESULTS, results)
    return _Staged(zip_path.name, evaluation, video_info, skipped)


@contextmanager
def _stage(name: str, timings: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    logger.debug("stage %s started", name)
    yield
    timings[name] = round(time.perf_counter() - started, 4)


def _check_model(model: object, model_name: object, model_architecture: object) -> str:
    """Check the arguments naming the model; the algorithm's name for the card (the model's when None)."""
    from stable_baselines3.common.base_class import BaseAlgorithm

    if not isinstance(model, BaseAlgorithm):
        raise UnsupportedModelError(
            f"package_to_hub needs a Stable-Baselines3 model (PPO, DQN, SAC, ...), not {type(model).__name__}. "
            "Pass the model object returned by e.g. PPO(...).learn(...) or PPO.load(...)."
        )
    if not isinstance(model_name, str) or not model_name or any(char in model_name for char in '/\\:*?"<>|'):
        raise InvalidArgumentError(
            f"Invalid model_name {model_name!r}: use a plain file name without extension, e.g. 'ppo-CartPole-v1'."
        )
    actual = _model_algorithm(model)
    if model_architecture is None:
        return actual
    if not isinstance(model_architecture, str) or not model_architecture:
        raise InvalidArgumentError(
            f"Invalid model_architecture {model_architecture!r}: pass the algorithm's name, e.g. {actual!r}."
        )
    wanted = algorithm_name(model_architecture) or model_architecture
    if wanted.lower() not in {cls.__name__.lower() for cls in type(model).__mro__}:
        kind = actual if type(model).__name__ == actual else f"{type(model).__name__} (a {actual})"
        raise InvalidArgumentError(
            f"model_architecture={model_architecture!r} does not match the model, which is a {kind}. Pass "
            f"model_architecture={actual!r}, or leave it out (None) so it is detected. "
            "Nothing was written."
        )
    return model_architecture


def _model_algorithm(model: object) -> str:
    """The name of the model's algorithm: its class, or the nearest known algorithm it subclasses."""
    known = {name for _, name in ALGORITHMS.values()}
    return next((cls.__name__ for cls in type(model).__mro__ if cls.__name__ in known), type(model).__name__)


def _check_counts(n_eval_episodes: int, video_length: int | None) -> None:
    if not isinstance(n_eval_episodes, int) or n_eval_episodes < 1:
        raise InvalidArgumentError(f"n_eval_episodes must be a positive integer, not {n_eval_episodes!r}.")
    if video_length is not None and (not isinstance(video_length, int) or video_length < 1):
        raise InvalidArgumentError(
            f"video_length must be a positive number of frames, not {video_length!r} (or pass video=False)."
        )


def _existing_dir(path: str | Path, what: str) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise MissingFileError(f"The {what} folder {folder} does not exist. Pass an existing folder, or None.")
    return folder


def _extra_files(extra_files: Iterable[str | Path] | Mapping[str, str | Path] | None) -> dict[str, Path]:
    if extra_files is None:
        return {}
    pairs = (
        [(str(name), Path(source)) for name, source in extra_files.items()]
        if isinstance(extra_files, Mapping)
        else [(Path(source).name, Path(source)) for source in extra_files]
    )
    for path_in_repo, source in pairs:
        if not source.is_file():
            raise MissingFileError(f"The extra file {source} does not exist. Check the path.")
        parts = path_in_repo.split("/")
        if (
            path_in_repo.startswith("/")
            or "\\" in path_in_repo
            or any(part in ("", ".", "..", ".git") for part in parts)
        ):
            raise InvalidArgumentError(
                f"Invalid path in the repo {path_in_repo!r} for {source}: use a relative path like 'config.yml'."
            )
        if path_in_repo in GENERATED_FILES or path_in_repo.split("/")[0] == LOGS:
            raise InvalidArgumentError(
                f"The extra file {source} would replace {path_in_repo!r}, which package_to_hub writes itself. "
                "Give it another name."
            )
    return dict(pairs)


def _staging_folder(local_dir: str | Path | None, push: bool) -> tuple[Path, bool]:
    if local_dir is None:
        if not push:
            raise InvalidArgumentError("A dry run (push=False) needs local_dir=..., the folder to build the repo in.")
        return Path(tempfile.mkdtemp(prefix="huggingface-sb3-")), False
    folder = Path(local_dir).resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidArgumentError(
            f"local_dir {folder} exists and is not an empty folder. Pass a new or empty folder, so that the repo "
            "folder holds only this packaging."
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder, True


def _sb3_system_info() -> dict[str, str]:
    from stable_baselines3.common.utils import get_system_info

    return get_system_info(print_info=False)[0]


def _remote_state(api: HfApi, repo_id: str, revision: str | None) -> _RemoteState:
    """Read the repo before committing (a missing repo or branch is not an error: they are created)."""
    from huggingface_hub import errors as hub

    with hub_errors(repo_id, endpoint=api.endpoint, revision=revision):
        try:
            info = api.model_info(repo_id, revision=revision or "main")
        except hub.RevisionNotFoundError:
            base = api.model_info(repo_id)
            return _RemoteState(
                True, False, base.sha, tuple(s.rfilename for s in base.siblings or ()), _readme(api, repo_id, base)
            )
        except hub.RepositoryNotFoundError:
            api.whoami()
            return _RemoteState(False, False, None, (), None)
        return _RemoteState(
            True, True, info.sha, tuple(s.rfilename for s in info.siblings or ()), _readme(api, repo_id, info)
        )


def _readme(api: HfApi, repo_id: str, info: ModelInfo) -> str | None:
    if README not in {sibling.rfilename for sibling in info.siblings or ()}:
        return None
    path = api.hf_hub_download(repo_id, README, revision=info.sha)
    return Path(path).read_text(encoding="utf-8")


def _stale_files(remote_files: Iterable[str], new_files: Iterable[str], model_name: str) -> tuple[str, ...]:
    """Files of earlier packagings that this one replaces: the unzipped model folder 3.0 pushed by accident, old
    logs, and generated files this packaging does not write again. Anything else (added by hand) stays."""
    new = set(new_files)
    stale = [
        path
        for path in remote_files
        if path not in new
        and (path in GENERATED_FILES or path.startswith(f"{LOGS}/") or path.startswith(f"{model_name}/"))
    ]
    return tuple(sorted(stale))


def _commit(
    api: HfApi, job: _Job, remote: _RemoteState, staging: Path, files: tuple[str, ...], deleted: tuple[str, ...]
) -> CommitInfo:
    """Create the repo and branch if needed, then one commit of every file (and the deletions)."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    with hub_errors(job.repo_id, endpoint=api.endpoint, revision=job.revision):
        head = remote.head
        if not remote.exists:
            api.create_repo(job.repo_id, private=job.private, exist_ok=True)
            head = api.model_info(job.repo_id).sha
        if job.revision is not None and not remote.branch_exists:
            api.create_branch(job.repo_id, branch=job.revision, revision=head, exist_ok=True)
        operations: list[CommitOperationAdd | CommitOperationDelete] = [CommitOperationDelete(path) for path in deleted]
        operations += [CommitOperationAdd(path, staging / path) for path in files]
        return api.create_commit(
            job.repo_id,
            operations=operations,
            commit_message=job.commit_message,
            commit_description=job.commit_description,
            revision=job.revision,
            create_pr=job.create_pr,
            parent_commit=head,
        )
