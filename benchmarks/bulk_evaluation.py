"""Many agents evaluated serially vs on Ray with 2 workers (``evaluate_many``), from a local Hub.

    python benchmarks/bulk_evaluation.py
    python benchmarks/bulk_evaluation.py --runs 2 --episodes 10 30

The agents, a mix like the Hub's: the 11 real RL Zoo agents of ``tests/fixtures/rl-trained-agents`` (pushed as the
Zoo pushes them: zip, YAML files, statistics and a card with the Zoo's published score), plus agents trained here on
the spot and pushed with ``package_to_hub`` (no video): 10 on classic-control envs, 4 PPO on LunarLander-v3 (the
Deep RL course's first unit, the most common SB3 agent on the Hub) and 2 DQN on Pong (its Atari unit), all to a
``LocalHub`` running in its own process on a temporary data dir. The agents trained here are short-trained, so they
play long episodes (a lander that hovers, a Pong player that loses 21-0), as many published agents do.

Each timed run is a fresh Python process with an empty Hugging Face cache, so both sides pay the same costs:
importing torch and Stable-Baselines3 (once in the serial process, once per Ray worker), resolving and downloading
every repo, loading, evaluating. The Ray side's wall time includes starting and stopping the local Ray. The fastest
of ``--runs`` runs per side is kept; the two sides must give identical per-episode returns.

Goal (issue #12): Ray with 2 workers on this 2-core machine takes <= 0.60x the serial wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("RAY_DEDUP_LOGS", "1")

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "tests" / "fixtures" / "rl-trained-agents"
ZOO_AGENTS = (
    ("a2c", "CartPole-v1"),
    ("a2c", "Pendulum-v1"),
    ("ars", "Acrobot-v1"),
    ("ars", "MountainCarContinuous-v0"),
    ("dqn", "CartPole-v1"),
    ("ppo", "CartPole-v1"),
    ("ppo", "MountainCarContinuous-v0"),
    ("qrdqn", "CartPole-v1"),
    ("sac", "Pendulum-v1"),
    ("tqc", "MountainCarContinuous-v0"),
    ("trpo", "Acrobot-v1"),
)
# (algo, env id, training steps, seed) of the agents trained here.
TRAINED = (
    ("PPO", "CartPole-v1", 8192, 0),
    ("PPO", "CartPole-v1", 8192, 1),
    ("A2C", "CartPole-v1", 8192, 0),
    ("A2C", "CartPole-v1", 8192, 1),
    ("DQN", "CartPole-v1", 8192, 0),
    ("PPO", "Acrobot-v1", 4096, 0),
    ("A2C", "Acrobot-v1", 4096, 0),
    ("PPO", "Pendulum-v1", 4096, 0),
    ("A2C", "Pendulum-v1", 4096, 0),
    ("PPO", "MountainCar-v0", 4096, 0),
    ("PPO", "LunarLander-v3", 8192, 0),
    ("PPO", "LunarLander-v3", 8192, 1),
    ("PPO", "LunarLander-v3", 8192, 2),
    ("PPO", "LunarLander-v3", 8192, 3),
    ("DQN", "PongNoFrameskip-v4", 2000, 0),
    ("DQN", "PongNoFrameskip-v4", 2000, 1),
)
ATARI_DQN = {"buffer_size": 10_000, "learning_starts": 1_000}  # a replay buffer that fits a benchmark's memory
PHASES = ("download", "load", "evaluate")


def zoo_card(algo: str, env_id: str) -> str:
    """The card the RL Zoo pushes, reduced to what is read back: the library and the published score."""
    import csv

    with open(ZOO / "benchmark_reference.csv", newline="") as file:
        row = next(r for r in csv.DictReader(file) if (r["algo"], r["env_id"]) == (algo, env_id))
    claim = f"{float(row['mean_reward']):.2f} +/- {float(row['std_reward']):.2f}"
    return (
        "---\nlibrary_name: stable-baselines3\ntags:\n- stable-baselines3\n- deep-reinforcement-learning\n"
        f"- {env_id}\nmodel-index:\n- name: {algo.upper()}\n  results:\n  - task:\n      type: reinforcement-learning\n"
        f"    dataset:\n      name: {env_id}\n      type: {env_id}\n    metrics:\n    - type: mean_reward\n"
        f"      value: {claim}\n      name: mean_reward\n---\n# {algo.upper()} on {env_id} (RL Zoo)\n"
    )


def push_agents(hub: Any, staging: Path) -> list[str]:
    """Push the Zoo's agents and train and push the small ones; their repo ids."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.endpoint, token=hub.token)
    ids = []
    for algo, env_id in ZOO_AGENTS:
        folder = staging / f"{algo}-{env_id}"
        folder.mkdir(parents=True)
        experiment = ZOO / algo / f"{env_id}_1"
        shutil.copy(experiment / f"{env_id}.zip", folder / f"{algo}-{env_id}.zip")
        for extra in (experiment / env_id).iterdir():
            shutil.copy(extra, folder / extra.name)
        (folder / "README.md").write_text(zoo_card(algo, env_id))
        repo_id = f"{hub.user}/{algo}-{env_id}"
        api.create_repo(repo_id)
        api.upload_folder(folder_path=folder, repo_id=repo_id)
        ids.append(repo_id)
    import stable_baselines3

    from huggingface_sb3 import package_to_hub

    for algo, env_id, steps, seed in TRAINED:
        started = time.perf_counter()
        model = train(getattr(stable_baselines3, algo), env_id, steps, seed)
        repo_id = f"{hub.user}/{algo.lower()}-{env_id}-s{seed}-trained"
        package_to_hub(
            model, f"{algo.lower()}-{env_id}", algo, env_id, None, repo_id, "Trained for the benchmark",
            n_eval_episodes=5, seed=seed, video=False, progress=False, token=hub.token, endpoint=hub.endpoint,
        )  # fmt: skip
        print(f"  trained and pushed {repo_id} ({steps} steps, {time.perf_counter() - started:.1f} s)", flush=True)
        ids.append(repo_id)
    return ids


def train(algo: Any, env_id: str, steps: int, seed: int) -> Any:
    """An agent trained for ``steps`` steps: on the RL Zoo's Atari preprocessing and 4 stacked frames for a game."""
    from huggingface_sb3.environments import is_atari

    if not is_atari(env_id):
        return algo("MlpPolicy", env_id, seed=seed, device="cpu").learn(steps)
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    env = VecFrameStack(make_atari_env(env_id, n_envs=1, seed=seed), n_stack=4)
    return algo("CnnPolicy", env, seed=seed, device="cpu", **ATARI_DQN).learn(steps)


def one_run(backend: str, sources: list[str], episodes: int) -> dict[str, Any]:
    """Evaluate every source in this (fresh) process; wall seconds and the records."""
    from huggingface_sb3.bulk_evaluation import evaluate_many

    started = time.perf_counter()
    records = list(evaluate_many(sources, backend=backend, workers=2, n_eval_episodes=episodes, seed=0))  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    return {"wall": wall, "records": [record.to_json() for record in records]}


def timed_run(backend: str, sources_file: Path, episodes: int, env: dict[str, str]) -> dict[str, Any]:
    """One run in a fresh process with an empty cache."""
    home = tempfile.mkdtemp(prefix="bench-hf-home-")
    try:
        output = subprocess.run(
            [sys.executable, __file__, "--one-run", backend, "--sources-file", str(sources_file),
             "--episodes", str(episodes)],
            env={**env, "HF_HOME": home}, check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def family(env_id: str) -> str:
    """The kind of env, for the per-agent costs: Atari, Box2D (LunarLander) or classic control."""
    return "Atari" if "NoFrameskip" in env_id else "LunarLander" if env_id.startswith("LunarLander") else "classic"


def phase_means(records: list[dict[str, Any]]) -> str:
    """The mean seconds of each phase over the evaluated agents, overall and by kind of env."""
    ok = [record for record in records if record["error"] is None]
    lines = []
    for kind in ("all", "classic", "LunarLander", "Atari"):
        chosen = [r for r in ok if kind == "all" or family(r["env_id"]) == kind]
        if chosen:
            means = "  ".join(
                f"{phase} {statistics.fmean(r['seconds'][phase] for r in chosen):6.3f}" for phase in PHASES
            )
            lines.append(f"    {kind:<12} {len(chosen):>3}   {means}")
    return "\n".join(lines)


def report(sources: list[str], episodes: int, runs: dict[str, list[dict[str, Any]]], ray_version: str) -> None:
    """Print one workload's comparison: walls, ratio, identical results, per-agent phase costs."""
    import platform

    best = {backend: min(done, key=lambda run: run["wall"]) for backend, done in runs.items()}
    returns = {
        backend: {r["source"]: (r["error"], r["episode_returns"]) for r in run["records"]}
        for backend, run in best.items()
    }
    failed = [r["source"] + ": " + r["error"] for r in best["serial"]["records"] if r["error"]]
    print()
    print(f"{len(sources)} agents, {episodes} episodes each, seed 0; {os.cpu_count()} CPUs; ray {ray_version}, "
          f"Python {platform.python_version()}; fastest of {len(runs['serial'])} runs per side, each in a fresh "
          "process with an empty cache")  # fmt: skip
    print(f"evaluated {len(sources) - len(failed)}, failed {len(failed)}" + "".join(f"\n  {f}" for f in failed))
    print(f"identical results (errors and per-episode returns) serial vs Ray: {returns['serial'] == returns['ray']}")
    for backend, label, note in (
        ("serial", "serial        ", ""),
        ("ray", "Ray, 2 workers", "; including Ray's start and stop"),
    ):
        walls = ", ".join(f"{run['wall']:.1f}" for run in runs[backend])
        print(f"{label}   {best[backend]['wall']:6.1f} s   (runs: {walls}{note})")
    ratio = best["ray"]["wall"] / best["serial"]["wall"]
    print(f"Ray / serial     {ratio:6.2f}   (goal <= 0.60: {'met' if ratio <= 0.60 else 'NOT met'})")
    print("mean seconds per evaluated agent:")
    for backend, label in (("serial", "serial"), ("ray", "Ray (in its task)")):
        print(f"  {label}\n{phase_means(best[backend]['records'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per side (the fastest is kept)")
    parser.add_argument(
        "--episodes", type=int, nargs="+", default=[10], help="evaluation episodes per agent; several values "
        "compare several workloads on the same agents (default: 10)",
    )  # fmt: skip
    parser.add_argument("--one-run", choices=("serial", "ray"), help=argparse.SUPPRESS)
    parser.add_argument("--sources-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        sources = args.sources_file.read_text().split()
        print(json.dumps(one_run(args.one_run, sources, args.episodes[0])))
        return

    import ray

    from huggingface_sb3 import LocalHub

    workloads: dict[int, dict[str, list[dict[str, Any]]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-bulk-") as scratch,
        LocalHub(Path(scratch) / "hub", in_subprocess=True) as hub,
    ):
        print(f"Pushing {len(ZOO_AGENTS)} RL Zoo agents and training {len(TRAINED)} more ...", flush=True)
        sources = push_agents(hub, Path(scratch) / "staging")
        sources_file = Path(scratch) / "sources.txt"
        sources_file.write_text("\n".join(sources))
        env = {**os.environ, **hub.client_env()}
        for episodes in args.episodes:
            runs = workloads[episodes] = {"serial": [], "ray": []}
            for index in range(args.runs):
                for backend in runs:
                    run = timed_run(backend, sources_file, episodes, env)
                    runs[backend].append(run)
                    print(f"  {episodes} episodes, run {index + 1} {backend:<6} {run['wall']:6.1f} s", flush=True)
    for episodes, runs in workloads.items():
        report(sources, episodes, runs, ray.__version__)


if __name__ == "__main__":
    main()
