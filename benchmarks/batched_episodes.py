"""Episodes played on several env copies at once (batched policy inference) vs one after another, in one process.

An env built from its id (``load_agent``'s, ``package_to_hub(eval_env=None)``'s, ``huggingface-sb3 evaluate``'s) is
evaluated on ``evaluation_copies(n_eval_episodes)`` copies (8 at most); "sequential" plays the same env with one
copy, as before. Two real agents: a PPO trained here on CartPole-v1 for a few thousand steps, and the RL Zoo's PPO
CartPole-v1 kept in ``tests/fixtures/rl-trained-agents`` (loaded with ``load_agent``). Each side is timed on
``run_evaluation`` alone (building the first env is the same for both; building the extra copies is counted), the
runs interleaved, the fastest of ``--repeats`` kept. Torch uses one thread (``--threads``), as an evaluation worker
does.

    python benchmarks/batched_episodes.py
    python benchmarks/batched_episodes.py --repeats 5 --episodes 10 50 100
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

ZOO_AGENT = ROOT / "tests" / "fixtures" / "rl-trained-agents" / "ppo" / "CartPole-v1_1"


def _agents(train_steps: int) -> list[tuple[str, Any, Any]]:
    """(label, model, env to adopt: None to build it from the id) of each agent."""
    from stable_baselines3 import PPO

    from huggingface_sb3 import load_agent

    trained = PPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu").learn(train_steps)
    zoo = load_agent(ZOO_AGENT, device="cpu")
    return [
        (f"PPO CartPole-v1, trained here ({train_steps} steps)", trained, None),
        ("RL Zoo ppo/CartPole-v1_1 (load_agent)", zoo.model, zoo.env),
    ]


def _run(model: Any, env: Any, n_episodes: int, batched: bool, seed: int) -> tuple[float, Any]:
    from huggingface_sb3.environments import prepare_eval_env
    from huggingface_sb3.evaluation import run_evaluation

    evaluation_env = prepare_eval_env(env, env_id="CartPole-v1", model=model, need_frames=False)
    if not batched:
        evaluation_env = dataclasses.replace(evaluation_env, rebuild=None)  # play the one env built, as before
    try:
        started = time.perf_counter()
        result = run_evaluation(
            model, evaluation_env, n_eval_episodes=n_episodes, deterministic=True, seed=seed, progress=False
        )
        return time.perf_counter() - started, result
    finally:
        evaluation_env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    agents = _agents(args.train_steps)
    print(f"torch threads: {torch.get_num_threads()}, CPUs: {os.cpu_count()}, fastest of {args.repeats} runs a side\n")
    header = (
        f"{'agent':<46} {'episodes':>8} {'n_envs':>6} {'sequential s':>12} {'batched s':>10} {'ratio':>6}  mean return"
    )
    print(header)
    print("-" * len(header))
    for label, model, env in agents:
        _run(model, env, 2, True, args.seed)  # warm up: imports, first forward pass
        for n_episodes in args.episodes:
            best: dict[bool, float] = {False: float("inf"), True: float("inf")}
            results: dict[bool, Any] = {}
            for _ in range(args.repeats):
                for batched in (False, True):
                    seconds, results[batched] = _run(model, env, n_episodes, batched, args.seed)
                    best[batched] = min(best[batched], seconds)
            sequential, batched_result = results[False], results[True]
            print(
                f"{label:<46} {n_episodes:>8} {batched_result.n_envs:>6} {best[False]:>12.3f} {best[True]:>10.3f} "
                f"{best[True] / best[False]:>6.2f}  {sequential.mean_reward:.1f} seq / {batched_result.mean_reward:.1f} "
                f"batched ({sum(batched_result.episode_lengths)} steps)"
            )


if __name__ == "__main__":
    main()
