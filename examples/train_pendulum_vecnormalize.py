"""Train SAC on Pendulum-v1 with normalised observations and rewards (VecNormalize), push it to the Hub with its
normalisation statistics, then load it back and evaluate it.

    python examples/train_pendulum_vecnormalize.py
    python examples/train_pendulum_vecnormalize.py --steps 20000 --repo-id your-name/sac-Pendulum-v1

An agent trained in a VecNormalize env only works with the same statistics, so they are part of the agent:
package_to_hub publishes them (vec_normalize.json, and the SB3 pickle vec_normalize.pkl) after evaluating the agent
on a frozen copy of the training env (your env is not changed), and load_agent wraps the env it builds in them.

It pushes to the Hub named by HF_ENDPOINT (default huggingface.co) when a token is configured (HF_TOKEN or
`hf auth login`); otherwise, or with --local-hub, it starts an embedded local Hub that lives as long as the script,
so it runs with no account and no network. The repo folder, replay.mp4 included, is kept in --output-dir.

The default budget (5,000 steps) finishes in about a minute on two CPU cores and already swings the pendulum up in
most episodes (about -260 on average; a solved agent scores about -150); a real run uses about 20,000 steps (the
RL Zoo's budget for SAC; on-policy A2C needs about 1 million).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # render frames without a display
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ENV_ID = "Pendulum-v1"
ALGO = "SAC"
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
        default=5_000,
        help="training steps (default: %(default)s, about a minute; a real run: ~20000)",
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

    import numpy as np
    from stable_baselines3 import SAC
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

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

        print(f"Training {ALGO} on {ENV_ID} (VecNormalize) for {args.steps} steps...")
        # rgb_array rendering costs nothing while training, and lets package_to_hub film this env.
        env = VecNormalize(make_vec_env(ENV_ID, n_envs=1, seed=args.seed, env_kwargs={"render_mode": "rgb_array"}))
        model = SAC("MlpPolicy", env, learning_rate=1e-3, seed=args.seed, device="cpu", verbose=int(args.verbose))
        model.learn(total_timesteps=args.steps)

        print(f"Evaluating, filming and pushing to {repo_id}...")
        result = package_to_hub(
            model=model,
            model_name=MODEL_NAME,
            model_architecture=ALGO,
            env_id=ENV_ID,
            eval_env=env,  # evaluated on a frozen copy of its statistics, which are published with the agent
            repo_id=repo_id,
            commit_message=f"{ALGO} on {ENV_ID} with VecNormalize, {args.steps} steps",
            n_eval_episodes=args.n_eval_episodes,
            video_length=args.video_length,
            seed=args.seed,
            local_dir=args.output_dir,
            token=target.token,
            endpoint=target.endpoint,
        )
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
        # The env load_agent built is wrapped in the published statistics, frozen (training=False).
        agent_env = agent.require_env()  # raises, naming the cause, if it cannot be built here
        same = isinstance(agent_env, VecNormalize) and np.allclose(agent_env.obs_rms.mean, env.obs_rms.mean)
        print(f"  its env: {type(agent_env).__name__}, with the training statistics: {'yes' if same else 'NO'}")
        env.close()
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
