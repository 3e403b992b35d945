"""Train PPO on CartPole-v1, push it to the Hub with a replay video and model card, then load it back and evaluate it.

    python examples/train_cartpole.py
    python examples/train_cartpole.py --steps 100000 --repo-id your-name/ppo-CartPole-v1

It pushes to the Hub named by HF_ENDPOINT (default huggingface.co) when a token is configured (HF_TOKEN or
`hf auth login`); otherwise, or with --local-hub, it starts an embedded local Hub that lives as long as the script,
so it runs with no account and no network. The repo folder, replay.mp4 included, is kept in --output-dir.

The default budget (50,000 steps) finishes in under a minute on two CPU cores and usually reaches CartPole's
maximum score of 500 already; a real run uses about 100,000 steps (the RL Zoo's budget) to reach 500 reliably.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # render frames without a display
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ENV_ID = "CartPole-v1"
ALGO = "PPO"
MODEL_NAME = f"{ALGO.lower()}-{ENV_ID}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: the step budget, where to push, and how to evaluate."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=50_000,
        help="training steps (default: %(default)s, about a minute; a real run: ~100000 to reach 500 reliably)",
    )
    parser.add_argument("--repo-id", help=f"repo to push to (default: YOUR-USER/{MODEL_NAME})")
    parser.add_argument("--n-eval-episodes", type=int, default=10, help="evaluation episodes (default: %(default)s)")
    parser.add_argument("--video-length", type=int, default=1000, help="frames in replay.mp4 (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of training and evaluation (default: %(default)s)")
    parser.add_argument("--local-hub", action="store_true", help="push to an embedded local Hub even with a token")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(f"{MODEL_NAME}-repo"),
        help="new or empty folder to keep the repo folder (and its video) in (default: ./%(default)s)",
    )
    parser.add_argument("--verbose", action="store_true", help="print Stable-Baselines3's training tables")
    parser.add_argument(
        "--keep-serving",
        action="store_true",
        help="with the embedded local Hub: keep it serving the model page until Ctrl-C",
    )
    args = parser.parse_args(argv)
    if args.steps < 1 or args.n_eval_episodes < 1 or args.video_length < 1:
        parser.error("--steps, --n-eval-episodes and --video-length must be positive")
    if args.output_dir.exists() and (not args.output_dir.is_dir() or any(args.output_dir.iterdir())):
        parser.error(f"--output-dir {args.output_dir} is not empty: pass a new or empty folder")
    return args


def main(argv: list[str] | None = None) -> int:
    """Train, package and push, load back and evaluate; the exit status."""
    args = parse_args(argv)

    from stable_baselines3 import PPO

    from huggingface_sb3 import evaluate_agent, load_agent, package_to_hub
    from huggingface_sb3.hub_target import hub_target, serve_until_interrupted

    with hub_target(local=args.local_hub) as target, tempfile.TemporaryDirectory() as scratch:
        if target.is_local:
            reason = "--local-hub was passed" if args.local_hub else "No Hugging Face token configured"
            lifetime = "until Ctrl-C" if args.keep_serving else "while this script runs; --keep-serving keeps it up"
            print(f"{reason}: pushing to an embedded local Hub at {target.endpoint} (it serves {lifetime}).")
        else:
            print(f"Pushing to {target.endpoint} as {target.user}.")
        repo_id = args.repo_id or f"{target.user}/{MODEL_NAME}"

        print(f"Training {ALGO} on {ENV_ID} for {args.steps} steps...")
        model = PPO("MlpPolicy", ENV_ID, seed=args.seed, device="cpu", verbose=int(args.verbose))
        model.learn(total_timesteps=args.steps)

        print(f"Evaluating, filming and pushing to {repo_id}...")
        result = package_to_hub(
            model=model,
            model_name=MODEL_NAME,
            model_architecture=ALGO,
            env_id=ENV_ID,
            eval_env=None,  # built from env_id, rendering rgb_array frames for the video
            repo_id=repo_id,
            commit_message=f"{ALGO} on {ENV_ID}, {args.steps} steps",
            n_eval_episodes=args.n_eval_episodes,
            video_length=args.video_length,
            seed=args.seed,
            local_dir=args.output_dir,
            token=target.token,
            endpoint=target.endpoint,
        )
        model.get_env().close()
        # package_to_hub printed one line: the commit URL, the score on the card and the video.
        print(f"  model page: {result.repo_url}")
        print(f"  files: {', '.join(result.files)}")
        print(f"  video: {result.video.path.resolve()}")

        print(f"Loading {repo_id} back from the Hub...")
        agent = load_agent(
            repo_id,
            revision=result.commit_id,
            token=target.token,
            endpoint=target.endpoint,
            cache_dir=scratch if target.is_local else None,  # keep the embedded Hub's files out of the HF cache
        )
        agent_env = agent.require_env()  # raises, naming the cause, if it cannot be built here
        reloaded = evaluate_agent(agent.model, agent_env, n_eval_episodes=args.n_eval_episodes, seed=args.seed)
        agent_env.close()
        print(
            f"Loaded {agent.algo} agent (sha256 {agent.sha256[:12]}...) scores "
            f"{reloaded.mean_reward:.2f} +/- {reloaded.std_reward:.2f} over {reloaded.n_eval_episodes} episodes."
        )
        if args.keep_serving and target.is_local:
            serve_until_interrupted(result.repo_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
