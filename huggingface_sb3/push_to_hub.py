"""3.0's module ``huggingface_sb3.push_to_hub``: ``package_to_hub``, ``push_to_hub``, ``generate_metadata``, and the
helpers the RL Zoo imports from here (``_evaluate_agent``, ``_generate_replay``) with their 3.0 signatures.

The package attribute ``huggingface_sb3.push_to_hub`` is the *function* (as in 3.0), while
``from huggingface_sb3.push_to_hub import ...`` reaches this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .card import generate_metadata
from .errors import MissingFileError
from .hub_access import check_repo_id, hub_api, hub_errors, require_token
from .package import package_to_hub

if TYPE_CHECKING:
    import gymnasium as gym
    from huggingface_hub import CommitInfo
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

__all__ = ["generate_metadata", "package_to_hub", "push_to_hub"]


def push_to_hub(
    repo_id: str,
    filename: str | Path,
    commit_message: str,
    token: str | None = None,
    *,
    path_in_repo: str | None = None,
    revision: str | None = None,
    private: bool = False,
    create_pr: bool = False,
    endpoint: str | None = None,
) -> CommitInfo:
    """Upload one file to a repo (created if missing), leaving every other file, the model card included, as it is.

    Args:
        repo_id: ``namespace/name`` of the repo.
        filename: the file to upload, by any path (relative paths are relative to the working directory).
        commit_message: the commit's title.
        token: write token (default: ``HF_TOKEN`` or the saved login).
        path_in_repo: where to put it in the repo (default: the file's name at the root).
        revision: branch to commit to (default: ``main``).
        private: create the repo as private if it does not exist.
        create_pr: open a pull request instead of committing to the branch.
        endpoint: the Hub to push to (default: ``HF_ENDPOINT``, else huggingface.co).

    Returns:
        The commit (a string equal to the commit URL, with ``.oid``, ``.pr_url``, ...).
    """
    check_repo_id(repo_id)
    source = Path(filename)
    if not source.is_file():
        raise MissingFileError(f"Cannot upload {source}: no such file (resolved to {source.resolve()}).")
    api = hub_api(require_token(token), endpoint)
    with hub_errors(repo_id, endpoint=endpoint, revision=revision):
        api.create_repo(repo_id, private=private, exist_ok=True)
        return api.upload_file(
            path_or_fileobj=source,
            path_in_repo=path_in_repo or source.name,
            repo_id=repo_id,
            commit_message=commit_message,
            revision=revision,
            create_pr=create_pr,
        )


def _evaluate_agent(
    model: BaseAlgorithm,
    eval_env: gym.Env | VecEnv,
    n_eval_episodes: int,
    is_deterministic: bool,
    local_path: str | Path,
) -> tuple[float, float]:
    """3.0's helper (the RL Zoo calls it): evaluate, write ``results.json`` into ``local_path``, return (mean, std)."""
    from .evaluation import evaluate_agent
    from .model_files import write_json

    result = evaluate_agent(model, eval_env, n_eval_episodes=n_eval_episodes, deterministic=is_deterministic)
    write_json(Path(local_path) / "results.json", result.to_json())
    return result.mean_reward, result.std_reward


def _generate_replay(
    model: BaseAlgorithm,
    eval_env: gym.Env | VecEnv,
    video_length: int,
    is_deterministic: bool,
    local_path: str | Path,
) -> None:
    """3.0's helper (the RL Zoo calls it): film ``video_length`` frames of the agent into ``local_path/replay.mp4``.

    Unlike 3.0, a failure raises (VideoEncodingError, EnvironmentNotRenderableError) instead of being printed.
    """
    from .environments import prepare_eval_env
    from .evaluation import evaluate_and_record

    evaluation_env = prepare_eval_env(eval_env, env_id=None, model=model, need_frames=True)
    evaluate_and_record(
        model,
        evaluation_env,
        Path(local_path) / "replay.mp4",
        fps=evaluation_env.render_fps,
        max_frames=video_length,
        n_eval_episodes=1,
        deterministic=is_deterministic,
        seed=None,
        progress=False,
    )
