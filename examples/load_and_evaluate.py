"""Load a Stable-Baselines3 agent from the Hub (or a local folder), evaluate it and record a replay video.

    python examples/load_and_evaluate.py                               # sb3/ppo-CartPole-v1 from huggingface.co
    python examples/load_and_evaluate.py sb3/dqn-BreakoutNoFrameskip-v4 --n-eval-episodes 3 --video breakout.mp4
    python examples/load_and_evaluate.py ./ppo-CartPole-v1-repo       # a repo folder on disk
    python examples/load_and_evaluate.py local-user/ppo-CartPole-v1 --endpoint http://127.0.0.1:8787

The default repo, sb3/ppo-CartPole-v1, is on huggingface.co, so it needs network access to huggingface.co (and an
HF_ENDPOINT that is unset or points there). Public repos need no token; for a private one, set HF_TOKEN or run
`hf auth login`. The agent is loaded without running code from its files: load_agent reads them with an
allow-list and checks the zip against the Hub's checksum. It rebuilds the env the agent was trained on (Atari
preprocessing and frame stack, VecNormalize statistics) and plays it the way the publisher evaluated it
(results.json records whether actions were deterministic; Atari agents are scored with stochastic actions).

--trust-remote-code loads the files with plain Stable-Baselines3 instead, which unpickles them: a malicious or
tampered repo can then run any code on your machine, with your permissions. Use it only for repos whose authors
you trust, and only when the safe loader refuses a file (its message says so).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # render frames without a display
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

DEFAULT_REPO = "sb3/ppo-CartPole-v1"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: which agent, from where, and how to evaluate and film it."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "repo",
        nargs="?",
        default=DEFAULT_REPO,
        help="repo id on the Hub, or a local .zip or repo folder (default: %(default)s, needs huggingface.co)",
    )
    parser.add_argument("--revision", help="branch, tag or commit id (default: main)")
    parser.add_argument(
        "--endpoint",
        default=os.environ.get("HF_ENDPOINT"),
        help="the Hub to load from (default: HF_ENDPOINT, else https://huggingface.co)",
    )
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="load with plain Stable-Baselines3, which can run code from the files: only for repos you trust",
    )
    parser.add_argument("--n-eval-episodes", type=int, default=10, help="evaluation episodes (default: %(default)s)")
    parser.add_argument("--video-length", type=int, default=1000, help="frames in the video (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the evaluation (default: %(default)s)")
    parser.add_argument(
        "--video", type=Path, default=Path("replay.mp4"), help="where to write the replay (default: %(default)s)"
    )
    parser.add_argument(
        "--output-dir", type=Path, help="folder for a relative --video path (default: the working directory)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.n_eval_episodes < 1 or args.video_length < 1:
        parser.error("--n-eval-episodes and --video-length must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    """Load, evaluate while filming, and report; the exit status."""
    args = parse_args(argv)

    from huggingface_sb3 import HuggingFaceSB3Error, load_agent
    from huggingface_sb3.card_claim import read_claim
    from huggingface_sb3.environments import prepare_eval_env
    from huggingface_sb3.evaluation import evaluate_and_record, publisher_deterministic
    from huggingface_sb3.progress import progress_enabled

    where = "disk" if Path(args.repo).exists() else args.endpoint or "https://huggingface.co"
    print(f"Loading {args.repo} from {where}...")
    try:
        agent = load_agent(
            args.repo,
            revision=args.revision,
            endpoint=args.endpoint,
            trust_remote_code=args.trust_remote_code,
            render_mode="rgb_array",  # so that the env can film the replay
        )
    except HuggingFaceSB3Error as error:
        print(f"Cannot load {args.repo}: {error}", file=sys.stderr)
        return 1
    at = f" at {agent.revision}" if agent.revision else ""
    print(f"Loaded a {agent.algo} agent for {agent.env_id} ({agent.filename}{at}, sha256 {agent.sha256[:12]}...).")
    if agent.placeholders:
        print(f"  parts that could not be read safely were replaced: {', '.join(agent.placeholders)}")
    try:
        agent_env = agent.require_env()
    except HuggingFaceSB3Error as error:
        print(error, file=sys.stderr)
        return 1

    # Evaluate as the publisher did (results.json records it); Atari agents are scored with stochastic actions.
    deterministic = publisher_deterministic(agent.results, agent.env_id)
    video_path = (args.output_dir or Path.cwd()) / args.video
    video_path.parent.mkdir(parents=True, exist_ok=True)
    kind = "deterministic" if deterministic else "stochastic"
    print(f"Evaluating {args.n_eval_episodes} episodes ({kind} actions) and recording {args.video_length} frames...")
    evaluation_env = prepare_eval_env(agent_env, env_id=agent.env_id, model=agent.model, need_frames=True)
    try:
        evaluation, video = evaluate_and_record(
            agent.model,
            evaluation_env,
            video_path,
            fps=evaluation_env.render_fps,
            max_frames=args.video_length,
            n_eval_episodes=args.n_eval_episodes,
            deterministic=deterministic,
            seed=args.seed,
            progress=progress_enabled(False if args.quiet else None),  # bars only on a terminal
        )
    finally:
        agent_env.close()
    print(
        f"Mean reward: {evaluation.mean_reward:.2f} +/- {evaluation.std_reward:.2f} "
        f"over {evaluation.n_eval_episodes} episodes (seed {evaluation.seed})."
    )
    claim = read_claim(agent.card)  # the card's "mean +/- std" mean_reward, read as the CLI reads it
    if claim is not None:
        print(f"The model card claims: {claim.mean:.2f} +/- {claim.std:.2f}")
    print(f"Replay: {video.path.resolve()} ({video.frames} frames, {video.width}x{video.height}, {video.fps:g} fps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
