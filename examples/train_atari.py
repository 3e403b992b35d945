"""Train DQN or PPO on an Atari game, push it to the Hub with a replay video and model card, then load it back and
evaluate it.

    python examples/train_atari.py
    python examples/train_atari.py --algo ppo --env-id PongNoFrameskip-v4 --steps 10000000 --repo-id your-name/ppo-Pong

The games come from ale-py (pip install "huggingface-sb3[atari]"). The agent sees the RL Zoo's preprocessing:
stable_baselines3's AtariWrapper (84x84 grayscale, frame skip, reward clipping, end of episode on life loss) and a
stack of the last 4 frames (VecFrameStack); the hyperparameters are the RL Zoo's. package_to_hub evaluates and
films the agent on whole games with their true scores (not the clipped rewards and lost lives it trained on), in
an env it builds from the game's id.

It pushes to the Hub named by HF_ENDPOINT (default huggingface.co) when a token is configured (HF_TOKEN or
`hf auth login`); otherwise, or with --local-hub, it starts an embedded local Hub that lives as long as the script,
so it runs with no account and no network. The repo folder, replay.mp4 included, is kept in --output-dir.

The default budget (10,000 steps) finishes in about a minute on two CPU cores, which shows the whole workflow but
is far too short to learn a game: a real run needs about 10 million steps (10M is the RL Zoo's budget; hours on a
GPU). Budgets below the RL Zoo's warm-up and rollout sizes get smaller ones, so that --steps is what is trained.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # render frames without a display
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

DEFAULT_ENV_ID = "BreakoutNoFrameskip-v4"
FRAME_STACK = 4
PPO_ENVS = 8


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: the algorithm, game and step budget, where to push, and how to evaluate."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--algo", choices=("dqn", "ppo"), default="dqn", help="algorithm (default: %(default)s)")
    parser.add_argument("--env-id", default=DEFAULT_ENV_ID, help="Atari game id (default: %(default)s)")
    parser.add_argument(
        "--steps",
        type=int,
        default=10_000,
        help="training steps (default: %(default)s, about a minute; a real run: ~10000000)",
    )
    parser.add_argument("--repo-id", help="repo to push to (default: YOUR-USER/ALGO-ENV_ID)")
    parser.add_argument("--n-eval-episodes", type=int, default=10, help="evaluation episodes (default: %(default)s)")
    parser.add_argument("--video-length", type=int, default=1000, help="frames in replay.mp4 (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of training and evaluation (default: %(default)s)")
    parser.add_argument("--local-hub", action="store_true", help="push to an embedded local Hub even with a token")
    parser.add_argument(
        "--output-dir",
        type=Path,
        help="new or empty folder to keep the repo folder (and its video) in (default: ./ALGO-ENV_ID-repo)",
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
    args.model_name = f"{args.algo}-{args.env_id}"
    args.output_dir = args.output_dir or Path(f"{args.model_name}-repo")
    if args.output_dir.exists() and (not args.output_dir.is_dir() or any(args.output_dir.iterdir())):
        parser.error(f"--output-dir {args.output_dir} is not empty: pass a new or empty folder")
    return args


def make_model(algo: str, env_id: str, steps: int, seed: int, verbose: int) -> BaseAlgorithm:
    """A DQN or PPO agent with the RL Zoo's Atari hyperparameters, on AtariWrapper-ed games with 4 stacked frames."""
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.utils import LinearSchedule
    from stable_baselines3.common.vec_env import VecFrameStack

    if algo == "dqn":
        env = VecFrameStack(make_atari_env(env_id, n_envs=1, seed=seed), n_stack=FRAME_STACK)
        return DQN(
            "CnnPolicy",
            env,
            buffer_size=min(100_000, steps),
            learning_starts=min(100_000, steps // 2),  # the RL Zoo's warm-up, or half of a shorter budget
            learning_rate=1e-4,
            batch_size=32,
            target_update_interval=1000,
            train_freq=4,
            exploration_fraction=0.1,
            exploration_final_eps=0.01,
            seed=seed,
            device="cpu",
            verbose=verbose,
        )
    env = VecFrameStack(make_atari_env(env_id, n_envs=PPO_ENVS, seed=seed), n_stack=FRAME_STACK)
    n_steps = max(8, min(128, steps // PPO_ENVS))  # the RL Zoo's rollout of 128 steps, or a shorter one
    return PPO(
        "CnnPolicy",
        env,
        n_steps=n_steps,
        n_epochs=4,
        batch_size=min(256, n_steps * PPO_ENVS),
        learning_rate=LinearSchedule(2.5e-4, 0.0, 1.0),  # a schedule object, which loads back without pickled code
        clip_range=LinearSchedule(0.1, 0.0, 1.0),
        vf_coef=0.5,
        ent_coef=0.01,
        seed=seed,
        device="cpu",
        verbose=verbose,
    )


def main(argv: list[str] | None = None) -> int:
    """Train, package and push, load back and evaluate; the exit status."""
    args = parse_args(argv)

    import ale_py
    import gymnasium

    from huggingface_sb3 import evaluate_agent, load_agent, package_to_hub
    from huggingface_sb3.hub_target import hub_target, serve_until_interrupted

    gymnasium.register_envs(ale_py)
    algo = args.algo.upper()

    with hub_target(local=args.local_hub) as target, tempfile.TemporaryDirectory() as scratch:
        if target.is_local:
            reason = "--local-hub was passed" if args.local_hub else "No Hugging Face token configured"
            lifetime = "until Ctrl-C" if args.keep_serving else "while this script runs; --keep-serving keeps it up"
            print(f"{reason}: pushing to an embedded local Hub at {target.endpoint} (it serves {lifetime}).")
        else:
            print(f"Pushing to {target.endpoint} as {target.user}.")
        repo_id = args.repo_id or f"{target.user}/{args.model_name}"

        print(f"Training {algo} on {args.env_id} for {args.steps} steps...")
        model = make_model(args.algo, args.env_id, args.steps, args.seed, verbose=int(args.verbose))
        model.learn(total_timesteps=args.steps)

        print(f"Evaluating, filming and pushing to {repo_id}...")
        result = package_to_hub(
            model=model,
            model_name=args.model_name,
            model_architecture=algo,
            env_id=args.env_id,
            eval_env=None,  # built from env_id: the Atari preprocessing, the policy's frame stack, rgb_array frames
            repo_id=repo_id,
            commit_message=f"{algo} on {args.env_id}, {args.steps} steps",
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
        # Atari agents are scored with stochastic actions (as on the card and in the RL Zoo), over whole games.
        reloaded = evaluate_agent(
            agent.model, agent_env, n_eval_episodes=args.n_eval_episodes, deterministic=False, seed=args.seed
        )
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
