"""``huggingface-sb3 evaluate`` and ``record``: load an agent safely, then evaluate it or film it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._common import add_hub_options, add_output_options, formatter, looks_like_path, progress_of, report
from ._evaluate_many import add_arguments as add_many_arguments
from ._evaluate_many import run_many, wants_many

if TYPE_CHECKING:
    from ..loading import LoadedAgent

EVALUATE_EXAMPLES = """\
examples:
  huggingface-sb3 evaluate sb3/ppo-CartPole-v1
  huggingface-sb3 evaluate sb3/ppo-CartPole-v1 --n-eval-episodes 20 --seed 0 --record replay.mp4
  huggingface-sb3 evaluate ./logs/ppo/CartPole-v1_1 --json
  huggingface-sb3 evaluate sb3/ppo-CartPole-v1 sb3/dqn-CartPole-v1 --seed 0 --leaderboard board.md
  huggingface-sb3 evaluate --author sb3 --backend ray --workers 8 --output sb3.jsonl --resume --leaderboard sb3.html
"""
RECORD_EXAMPLES = """\
examples:
  huggingface-sb3 record sb3/ppo-CartPole-v1 --output replay.mp4
  huggingface-sb3 record ./ppo-CartPole-v1.zip --env-id CartPole-v1 --video-length 500
"""


def _add_source_arguments(parser: argparse.ArgumentParser, *, many: bool) -> None:
    if many:
        parser.add_argument("sources", nargs="*", help="repo ids, or local zips or RL Zoo experiment folders")
    else:
        parser.add_argument("source", help="a repo id, or a local zip or RL Zoo experiment folder")
    parser.add_argument("--revision", help="branch, tag or commit id (default: main)")
    parser.add_argument("--algo", help="the algorithm (default: found from the repo)")
    parser.add_argument("--env-id", help="the environment id (default: found from the repo)")
    parser.add_argument("--seed", type=int, help="seed (default: random, printed)")
    determinism = parser.add_mutually_exclusive_group()
    determinism.add_argument("--deterministic", action="store_true", default=None, help="deterministic actions")
    determinism.add_argument("--stochastic", action="store_true", help="stochastic actions")
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="load with plain Stable-Baselines3, which runs any code in the files: only for repos you trust",
    )
    add_hub_options(parser)
    add_output_options(parser)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``evaluate`` and ``record`` to the root command."""
    evaluate = commands.add_parser(
        "evaluate", help="evaluate agents and compare with the scores their cards claim",
        description="Load agents safely, evaluate them, and print each result beside the score its card claims. "
        "With several sources (or --author, --sources-file), each is evaluated with the same seed, serially or on "
        "Ray; one that fails is reported and does not stop the others; the exit code is 1 when any failed.",
        epilog=EVALUATE_EXAMPLES, formatter_class=formatter(),
    )  # fmt: skip
    _add_source_arguments(evaluate, many=True)
    evaluate.add_argument("--n-eval-episodes", type=int, default=10, help="episodes (default: 10)")
    evaluate.add_argument("--record", type=Path, help="also film the first episodes into this .mp4 (one source)")
    evaluate.add_argument("--video-length", type=int, default=1000, help="most frames filmed (default: 1000)")
    add_many_arguments(evaluate)
    evaluate.set_defaults(run=run_evaluate, usage_error=evaluate.error)
    record = commands.add_parser(
        "record", help="film a replay of an agent", description="Load an agent safely and film it into an .mp4.",
        epilog=RECORD_EXAMPLES, formatter_class=formatter(),
    )  # fmt: skip
    _add_source_arguments(record, many=False)
    record.add_argument("--output", type=Path, default=Path("replay.mp4"), help="video file (default: replay.mp4)")
    record.add_argument("--video-length", type=int, default=1000, help="frames (default: 1000)")
    record.set_defaults(run=run_record)


def _load(args: argparse.Namespace, *, film: bool) -> LoadedAgent:
    from ..errors import MissingFileError
    from ..loading import load_agent

    source = args.source
    if looks_like_path(source):
        source = str(Path(source).expanduser())
        if not Path(source).exists():
            raise MissingFileError(
                f"The local file {args.source} does not exist. Give an agent's zip or an RL Zoo experiment folder, "
                "or a repo id such as 'sb3/ppo-CartPole-v1'."
            )
    agent = load_agent(
        source, revision=args.revision, algo=args.algo, env_id=args.env_id,
        render_mode="rgb_array" if film else None, device="cpu", trust_remote_code=args.trust_remote_code,
        token=args.token, endpoint=args.endpoint,
    )  # fmt: skip
    agent.require_env()
    return agent


def _deterministic(args: argparse.Namespace, agent: LoadedAgent) -> bool:
    """As asked, else as the published evaluation was run, else deterministic (stochastic for Atari)."""
    from ..evaluation import publisher_deterministic

    if args.stochastic or args.deterministic:
        return not args.stochastic
    return publisher_deterministic(agent.results, agent.env_id)


def _play(args: argparse.Namespace, agent: LoadedAgent, n_episodes: int, video: Path | None) -> tuple[Any, Any]:
    from ..environments import prepare_eval_env
    from ..evaluation import evaluate_and_record, run_evaluation
    from ..progress import progress_enabled

    evaluation_env = prepare_eval_env(agent.env, env_id=agent.env_id, model=agent.model, need_frames=video is not None)
    options = {
        "n_eval_episodes": n_episodes,
        "deterministic": _deterministic(args, agent),
        "seed": args.seed,
        "progress": progress_enabled(progress_of(args)),
    }
    if video is None:
        return run_evaluation(agent.model, evaluation_env, **options), None
    return evaluate_and_record(
        agent.model, evaluation_env, video, fps=evaluation_env.render_fps, max_frames=args.video_length, **options
    )


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate and print the result beside the card's claim (for many sources: see :mod:`._evaluate_many`)."""
    if wants_many(args):
        return run_many(args)
    args.source = args.sources[0]
    agent = _load(args, film=args.record is not None)
    result, video = _play(args, agent, args.n_eval_episodes, args.record)
    from ..card_claim import read_claim

    stated = read_claim(agent.card)
    claim = (stated.mean, stated.std) if stated else None
    holds = stated.holds_for(result.mean_reward, result.std_reward) if stated else None
    lines = [
        f"{agent.algo} on {agent.env_id} ({agent.source}{' @ ' + agent.revision[:12] if agent.revision else ''}): "
        f"{result.mean_reward:.2f} ± {result.std_reward:.2f} over {result.n_eval_episodes} episodes "
        f"(seed {result.seed}, {'deterministic' if result.deterministic else 'stochastic'})",
    ]
    if claim:
        verdict = "holds" if holds else "does NOT hold"
        lines.append(f"The card claims {claim[0]:.2f} +/- {claim[1]:.2f}: the claim {verdict}.")
    else:
        lines.append("The card claims no score.")
    if video is not None:
        lines.append(f"Video: {video.path} ({video.frames} frames, {video.width}x{video.height})")
    if agent.placeholders:
        lines.append(f"Replaced entries that could not be read safely: {', '.join(agent.placeholders)}.")
    report(args, lines, {
        "source": agent.source, "revision": agent.revision, "algo": agent.algo, "env_id": agent.env_id,
        "mean_reward": result.mean_reward, "std_reward": result.std_reward, "episode_returns": result.episode_returns,
        "n_eval_episodes": result.n_eval_episodes, "deterministic": result.deterministic, "seed": result.seed,
        "claimed": claim, "claim_holds": holds, "video": str(video.path) if video else None,
        "sha256": agent.sha256, "placeholders": agent.placeholders,
    })  # fmt: skip
    return 0


def run_record(args: argparse.Namespace) -> int:
    """Film the agent."""
    agent = _load(args, film=True)
    result, video = _play(args, agent, 1, args.output)
    report(
        args,
        [
            f"Video: {video.path} ({video.frames} frames, {video.width}x{video.height}, {video.fps:g} fps, "
            f"seed {result.seed})"
        ],
        {
            "video": str(video.path),
            "seed": result.seed,
            "frames": video.frames,
            "width": video.width,
            "height": video.height,
            "fps": video.fps,
        },
    )
    return 0
