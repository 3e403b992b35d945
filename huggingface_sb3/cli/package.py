"""``push-to-hub`` (= ``huggingface-sb3 package``): evaluate a saved agent, film it, write its card, push it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, MissingFileError
from ._common import add_hub_options, add_output_options, formatter, progress_of, report

DESCRIPTION = """\
Package a saved Stable-Baselines3 agent and push it to the Hub in one commit: the zip, an evaluation
(results.json), a replay video (replay.mp4), a model card (README.md), config.json, and the VecNormalize
statistics when the agent uses them. Nothing is pushed unless every step succeeds."""

EXAMPLES = """\
examples:
  push-to-hub ppo-CartPole-v1.zip --env-id CartPole-v1 --repo-id your-name/ppo-CartPole-v1
  push-to-hub agent.zip --env-id Pendulum-v1 --algo A2C --vec-normalize vec_normalize.pkl --repo-id you/a2c-Pendulum
  push-to-hub --zoo-folder logs/ --algo ppo --env-id CartPole-v1 --repo-id your-name/ppo-CartPole-v1
  push-to-hub agent.zip --env-id CartPole-v1 --repo-id you/test --dry-run --local-dir ./repo   (nothing is sent)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``push-to-hub``."""
    parser.add_argument("zip", nargs="?", type=Path, help="the saved agent (model.save output)")
    parser.add_argument("--zoo-folder", type=Path, help="an RL Zoo log folder instead of a zip (with --algo)")
    parser.add_argument("--exp-id", type=int, default=0, help="RL Zoo experiment id (default: the latest)")
    parser.add_argument("--env-id", required=True, help="the environment id the agent was trained on")
    parser.add_argument("--repo-id", required=True, help="namespace/name of the repo (created if missing)")
    parser.add_argument("--algo", help="the algorithm, e.g. PPO (default: read from the zip)")
    parser.add_argument("--model-name", help="file name of the zip in the repo (default: {algo}-{env})")
    parser.add_argument("--env-kwargs", default="{}", help="keyword arguments for gymnasium.make, as JSON")
    parser.add_argument("--vec-normalize", type=Path, help="VecNormalize statistics file the agent was trained with")
    parser.add_argument("--logs", type=Path, help="a folder to publish as logs/ (e.g. TensorBoard logs)")
    evaluation = parser.add_argument_group("evaluation and video")
    evaluation.add_argument("--n-eval-episodes", type=int, default=10, help="evaluation episodes (default: 10)")
    evaluation.add_argument("--seed", type=int, help="evaluation seed (default: random, recorded)")
    evaluation.add_argument("--stochastic", action="store_true", help="act stochastically (Atari always is)")
    evaluation.add_argument("--video-length", type=int, default=1000, help="frames of replay.mp4 (default: 1000)")
    evaluation.add_argument("--no-video", action="store_true", help="do not film a replay")
    push = parser.add_argument_group("push")
    push.add_argument("--commit-message", help="commit title (default: 'Upload {algo} agent for {env}')")
    push.add_argument("--private", action="store_true", help="create the repo as private")
    push.add_argument("--revision", help="branch to commit to (created if missing)")
    push.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
    push.add_argument("--tags", nargs="*", default=[], help="more tags for the model card")
    push.add_argument("--license", help="license of the model card, e.g. mit")
    push.add_argument("--local-dir", type=Path, help="keep the repo folder here (new or empty folder)")
    push.add_argument("--dry-run", action="store_true", help="build the folder in --local-dir and send nothing")
    add_hub_options(parser)
    add_output_options(parser)
    parser.set_defaults(run=run)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``package`` to the root command."""
    parser = commands.add_parser(
        "package", help="evaluate, film, write the card and push a saved agent (= push-to-hub)",
        description=DESCRIPTION, epilog=EXAMPLES, formatter_class=formatter(),
    )  # fmt: skip
    add_arguments(parser)


def _zoo_experiment(folder: Path, algo: str, env_id: str, exp_id: int) -> tuple[Path, dict[str, Path]]:
    """The zip of an RL Zoo experiment and its files to publish (config.yml, args.yml, env_kwargs.yml)."""
    runs = sorted(
        (path for path in (folder / algo.lower()).glob(f"{env_id}_*") if path.name.rsplit("_", 1)[-1].isdigit()),
        key=lambda path: int(path.name.rsplit("_", 1)[-1]),
    )
    chosen = [path for path in runs if path.name == f"{env_id}_{exp_id}"] if exp_id else runs[-1:]
    if not chosen or not (chosen[0] / f"{env_id}.zip").is_file():
        raise MissingFileError(
            f"No RL Zoo experiment {folder}/{algo.lower()}/{env_id}_{exp_id or '<latest>'}/{env_id}.zip. "
            "Check --zoo-folder, --algo, --env-id and --exp-id."
        )
    settings = chosen[0] / env_id
    from ..agent_files import ZOO_FILES

    extras = {name: settings / name for name in ZOO_FILES if (settings / name).is_file()}
    return chosen[0] / f"{env_id}.zip", extras


def _close_envs(*envs: Any) -> None:
    """Close the envs this command built (the agent's, and the one ``--vec-normalize`` wraps), each once."""
    for env in {id(env): env for env in envs if env is not None}.values():
        env.close()


def run(args: argparse.Namespace) -> int:
    """Load the agent safely, build its env (filming frames), and package it."""
    from ..environments import make_env
    from ..loading import load_agent
    from ..naming import EnvironmentName, ModelName
    from ..package import package_to_hub
    from ..safe_load import load_vec_normalize

    extras: dict[str, Path] = {}
    if args.zoo_folder is not None:
        if not args.algo:
            raise InvalidArgumentError("--zoo-folder needs --algo (e.g. --algo ppo).")
        zip_path, extras = _zoo_experiment(args.zoo_folder, args.algo, args.env_id, args.exp_id)
    elif args.zip is not None:
        zip_path = args.zip
    else:
        raise InvalidArgumentError("Give the agent's zip (or --zoo-folder with --algo).")
    if not zip_path.is_file():
        raise MissingFileError(f"{zip_path} does not exist. Give the file written by model.save().")
    env_kwargs = _json_object(args.env_kwargs)
    video = not args.no_video
    agent = load_agent(
        zip_path, algo=args.algo, env_id=args.env_id, env_kwargs=env_kwargs,
        render_mode="rgb_array" if video else None, device="cpu",
    )  # fmt: skip
    if args.vec_normalize is None:
        eval_env = agent.require_env()
    else:
        if not args.vec_normalize.is_file():
            raise MissingFileError(f"{args.vec_normalize} does not exist. Give the VecNormalize statistics file.")
        kwargs = {**env_kwargs, **({"render_mode": "rgb_array"} if video else {})}
        eval_env = load_vec_normalize(args.vec_normalize, make_env(args.env_id, model=agent.model, env_kwargs=kwargs))
    model_name = args.model_name or ModelName(agent.algo.lower(), EnvironmentName(args.env_id))
    try:
        result = package_to_hub(
            agent.model,
            model_name,
            agent.algo,
            args.env_id,
            eval_env,
            args.repo_id,
            args.commit_message or f"Upload {agent.algo} agent for {args.env_id}",
            is_deterministic=not args.stochastic,
            n_eval_episodes=args.n_eval_episodes,
            token=args.token,
            video_length=args.video_length,
            logs=args.logs,
            seed=args.seed,
            private=args.private,
            revision=args.revision,
            create_pr=args.create_pr,
            video=video,
            local_dir=args.local_dir,
            push=not args.dry_run,
            extra_files=extras,
            tags=args.tags,
            license=args.license,
            progress=progress_of(args),
            endpoint=args.endpoint,
        )
    finally:
        _close_envs(eval_env, agent.env)
    evaluation = result.evaluation
    payload: dict[str, Any] = {
        "commit_url": result.commit_url,
        "commit_id": result.commit_id,
        "repo_url": result.repo_url,
        "pr_url": result.pr_url,
        "local_dir": result.local_dir,
        "files": list(result.files),
        "deleted": list(result.deleted),
        "mean_reward": evaluation.mean_reward,
        "std_reward": evaluation.std_reward,
        "n_eval_episodes": evaluation.n_eval_episodes,
        "deterministic": evaluation.deterministic,
        "seed": evaluation.seed,
        "video": str(result.video.path) if result.video and result.local_dir else None,
        "skipped": result.skipped,
    }
    lines = [result.summary] if args.quiet else []  # else package_to_hub printed it
    lines += [f"Evaluated with seed {evaluation.seed}; the repo's files:", *(f"  {name}" for name in result.files)]
    if payload["video"]:
        lines.append(f"Video: {payload['video']}")
    report(args, lines, payload)
    return 0


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise InvalidArgumentError(
            f"--env-kwargs is not JSON ({error}); e.g. --env-kwargs '{{\"continuous\": true}}'."
        ) from None
    if not isinstance(value, dict):
        raise InvalidArgumentError("--env-kwargs must be a JSON object, e.g. '{\"continuous\": true}'.")
    return value
