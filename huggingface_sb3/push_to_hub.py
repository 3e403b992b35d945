"""3.0's module ``huggingface_sb3.push_to_hub``: ``package_to_hub``, ``push_to_hub``, ``generate_metadata``, and every
helper that huggingface_sb3 3.0 and the SB3 team's fork (``sb3-team-hf-integration`` 3.2) defined here, with their
signatures: the RL Zoo imports ``_evaluate_agent``, ``_generate_replay`` and ``generate_metadata``; the fork added
``_generate_metadata`` and ``entry_point``.

The helpers keep their callers' contracts but not the old bugs: ``_generate_config`` no longer leaves an unzipped
copy of the model beside the zip, nor republishes its pickles; a replay that cannot be made raises instead of being
printed; ``_copy_file`` copies the path it is given (3.0 looked the name up in the working directory).

The package attribute ``huggingface_sb3.push_to_hub`` is the *function* (as in 3.0), while
``from huggingface_sb3.push_to_hub import ...`` reaches this module.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .card import generate_metadata
from .environments import entry_point, is_atari  # 3.0's is_atari and the fork's entry_point (no more `import gym`)
from .errors import MissingFileError
from .hub_access import check_repo_id, hub_api, hub_errors, require_token
from .package import package_to_hub

if TYPE_CHECKING:
    import gymnasium as gym
    from huggingface_hub import CommitInfo, ModelCard, ModelCardData
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

__all__ = ["entry_point", "generate_metadata", "is_atari", "package_to_hub", "push_to_hub"]


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


def _generate_config(model: str, local_path: str | Path) -> None:
    """3.0's helper: write ``config.json`` (the agent's hyperparameters and system info) for the zip
    ``local_path/{model}.zip``, without its pickled blobs."""
    import stable_baselines3

    from .model_files import readable_config, write_json
    from .safe_load import read_agent_data

    name = model if model.endswith(".zip") else f"{model}.zip"
    zip_path = Path(local_path) / name
    if not zip_path.is_file():
        raise MissingFileError(f"Cannot write config.json: no model zip at {zip_path}. Save the model there first.")
    system_info = stable_baselines3.get_system_info(print_info=False)[0]
    write_json(Path(local_path) / "config.json", readable_config(read_agent_data(zip_path), system_info))


def _generate_metadata(model_name: str, env_id: str, mean_reward: float, std_reward: float) -> ModelCardData:
    """The fork's helper: :func:`generate_metadata` as ``huggingface_hub``'s ``ModelCardData``."""
    from huggingface_hub import ModelCardData

    return ModelCardData(**generate_metadata(model_name, env_id, mean_reward, std_reward))


def _generate_model_card(model_name: str, env_id: str, mean_reward: float, std_reward: float) -> ModelCard:
    """3.0's and the fork's helper: a minimal model card with the leaderboard metadata.

    Returns a ``ModelCard`` (the fork's contract) that also unpacks as 3.0's ``(card text, metadata dict)``.
    """
    from huggingface_hub import ModelCard

    class _CardAndMetadata(ModelCard):
        def __iter__(self) -> Iterator[Any]:
            return iter((self.text, self.data.to_dict()))

    metadata = _generate_metadata(model_name, env_id, mean_reward, std_reward)
    body = (
        f"\n# **{model_name}** Agent playing **{env_id}**\n\nThis is a trained model of a **{model_name}** agent "
        f"playing **{env_id}** using the [stable-baselines3 library](https://github.com/DLR-RM/stable-baselines3).\n"
    )
    return _CardAndMetadata(f"---\n{metadata.to_yaml()}\n---\n{body}")


def _save_model_card(repo_dir: str | Path, generated_model_card: str, metadata: dict[str, Any]) -> None:
    """3.0's helper: write ``README.md`` in ``repo_dir`` (an existing one keeps its text) with ``metadata``."""
    from huggingface_hub.repocard import metadata_save

    readme = Path(repo_dir) / "README.md"
    if not readme.exists():
        readme.write_text(str(generated_model_card), encoding="utf-8")
    metadata_save(readme, metadata)


def _add_logdir(local_path: str | Path, logdir: str | Path) -> None:
    """3.0's helper: copy the TensorBoard folder ``logdir`` to ``local_path/logs`` (replacing an older copy)."""
    source, target = Path(logdir), Path(local_path) / "logs"
    if not source.is_dir():
        raise MissingFileError(f"Cannot add the logs: {source} is not a folder. Pass the TensorBoard log folder.")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)


def _copy_file(filepath: str | Path, dst_directory: str | Path) -> None:
    """3.0's helper: copy ``filepath`` into ``dst_directory``."""
    source = Path(filepath)
    if not source.is_file():
        raise MissingFileError(f"Cannot copy {source}: no such file (resolved to {source.resolve()}).")
    shutil.copy(source, Path(dst_directory) / source.name)
