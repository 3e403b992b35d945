"""Time and HTTP requests of ``load_agent`` on a CartPole agent from the local Hub, cold and warm, and the cost of the
safe path beside ``trust_remote_code=True`` on the same file.

    python benchmarks/load_agent.py
    python benchmarks/load_agent.py --repeats 20

Two agents: one pushed by ``package_to_hub`` (a current SB3 file), and the RL Zoo's published PPO CartPole-v1
(saved with SB3 1.0 under ``gym``; its schedules become placeholders), from ``tests/fixtures/rl-trained-agents``.
"cold" is an empty cache, "warm" the same cache with the revision pinned to the commit. Requests are counted by the
local Hub, file downloads among them by their ``/resolve/`` paths.

Targets (issue #4): a warm load sends no file-body request; the safe path costs at most 1.2x the trusted one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from huggingface_sb3 import LocalHub

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "rl-trained-agents" / "ppo" / "CartPole-v1_1"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def hub_loads(hub: LocalHub, repo_id: str, cache: Path) -> list[str]:
    """Rows for a cold load of ``repo_id`` and a warm one pinned to the commit the cold one resolved."""
    from huggingface_sb3 import load_agent

    rows, revision = [], None
    for label in ("cold", "warm"):
        before = hub.requests_received
        started = time.perf_counter()
        agent = load_agent(
            repo_id, revision=revision, cache_dir=cache, device="cpu", endpoint=hub.endpoint, token=hub.token
        )
        seconds = time.perf_counter() - started
        revision = agent.revision
        count = hub.requests_received - before
        requests = hub.recent_requests[-count:] if count else []
        downloads = sum(1 for method, path in requests if method == "GET" and "/resolve/" in path)
        rows.append(f"{label:<5} {seconds * 1000:8.1f} ms  {count:3d} requests  {downloads:3d} file downloads")
    return rows


def safe_versus_trusted(zip_path: Path, repeats: int) -> str:
    """Median seconds of the safe and the trusted load of one local file, interleaved, as a line of text."""
    from huggingface_sb3 import load_agent

    safe, trusted = [], []
    for _ in range(repeats):
        safe.append(timed(lambda: load_agent(zip_path, env_id="CartPole-v1", device="cpu")))
        try:
            trusted.append(
                timed(lambda: load_agent(zip_path, env_id="CartPole-v1", device="cpu", trust_remote_code=True))
            )
        except ImportError as error:
            return f"safe {statistics.median(safe) * 1000:.1f} ms; trusted fails ({type(error).__name__}: {error})"
    ratio = statistics.median(safe) / statistics.median(trusted)
    return (
        f"safe {statistics.median(safe) * 1000:.1f} ms, trusted {statistics.median(trusted) * 1000:.1f} ms"
        f" -> {ratio:.2f}x (target <= 1.20x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="loads of each kind for the safe/trusted ratio")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    from huggingface_hub import CommitOperationAdd, HfApi
    from stable_baselines3 import PPO

    from huggingface_sb3 import LocalHub, load_agent, package_to_hub

    model = PPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu").learn(2048)
    with tempfile.TemporaryDirectory() as scratch, LocalHub() as hub:
        folder = Path(scratch)
        package_to_hub(
            model, "ppo-CartPole-v1", "PPO", "CartPole-v1", None, f"{hub.user}/new-agent", "bench",
            n_eval_episodes=1, video=False, progress=False, endpoint=hub.endpoint, token=hub.token,
        )  # fmt: skip
        load_agent(f"{hub.user}/new-agent", cache_dir=folder / "warm-up", endpoint=hub.endpoint, device="cpu")
        agents = {"package_to_hub agent": (f"{hub.user}/new-agent", None)}
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        api.create_repo(f"{hub.user}/zoo-agent")
        api.create_commit(
            f"{hub.user}/zoo-agent",
            operations=[
                CommitOperationAdd("ppo-CartPole-v1.zip", FIXTURE / "CartPole-v1.zip"),
                CommitOperationAdd("args.yml", FIXTURE / "CartPole-v1" / "args.yml"),
                CommitOperationAdd("config.yml", FIXTURE / "CartPole-v1" / "config.yml"),
            ],
            commit_message="zoo layout",
        )
        agents["RL Zoo agent (SB3 1.0, gym era)"] = (f"{hub.user}/zoo-agent", FIXTURE / "CartPole-v1.zip")
        for label, (repo_id, _) in agents.items():
            print(f"{label}, from the local Hub:")
            for row in hub_loads(hub, repo_id, folder / repo_id.replace("/", "--")):
                print("  " + row)
        model.save(folder / "new-agent")
        files = {"package_to_hub agent": folder / "new-agent.zip"}
        files.update({label: path for label, (_, path) in agents.items() if path is not None})
        for label, path in files.items():
            print(f"{label}, local file, median of {args.repeats}: {safe_versus_trusted(path, args.repeats)}")


if __name__ == "__main__":
    main()
