"""The real RL Zoo agents kept in ``tests/fixtures/rl-trained-agents`` (see its README for licence and provenance),
and the scores the Zoo published for them."""

import csv
from pathlib import Path

ZOO_AGENTS_DIR = Path(__file__).resolve().parent / "fixtures" / "rl-trained-agents"

# (algo, env id) of every agent there, as ``{algo}/{env_id}_1``.
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


def zoo_experiment(algo: str, env_id: str) -> Path:
    """The experiment folder of one agent, laid out as ``rl_zoo3.train`` leaves it."""
    return ZOO_AGENTS_DIR / algo / f"{env_id}_1"


def zoo_reference(algo: str, env_id: str) -> tuple[float, float]:
    """The mean and std of the episode return that the RL Zoo's benchmark published for this agent."""
    with open(ZOO_AGENTS_DIR / "benchmark_reference.csv", newline="") as file:
        row = next(r for r in csv.DictReader(file) if (r["algo"], r["env_id"]) == (algo, env_id))
    return float(row["mean_reward"]), float(row["std_reward"])
