"""Server time of the local Hub's web pages beside the API answers that carry the same facts.

    python benchmarks/pages.py
    python benchmarks/pages.py --repos 500 --files 1000 --commits 100 --repeats 7

It fills a local Hub (in a temporary data directory) with one repo of ``--files`` files over ``--commits`` commits
and a model card, and ``--repos`` repos with a card each (as package_to_hub writes them, each claiming a score).
Then it times, from a client on 127.0.0.1, the fastest of ``--repeats`` GETs of:

- the model page ``/{repo}`` beside ``GET /api/models/{repo}`` (the repo's info, which the client reads);
- the index ``/`` beside ``GET /api/models?cardData=1`` (every repo with its card's metadata);
- the commits and commit pages, and the folder page of the large repo.

The first request of each is reported apart ("first"): it fills the caches (rendered cards, index rows), which
later requests only check against the repos' current commits.

Target (issue #11): the model page and the index each answer in at most 50 ms.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

BODY = """# PPO agent playing {env}

A **PPO** agent playing **{env}**, trained with Stable-Baselines3.

| metric | value |
|---|---|
| mean reward ± std | {mean:.2f} ± {std:.2f} |
"""
ENVS = ("CartPole-v1", "LunarLander-v3", "Pendulum-v1", "BreakoutNoFrameskip-v4")


def card(env: str, mean: float, std: float) -> bytes:
    """A model card as package_to_hub writes its metadata (the claim in ``model-index``), with a short body."""
    import yaml

    from huggingface_sb3.card import generate_metadata

    metadata = yaml.safe_dump(generate_metadata("PPO", env, mean, std), sort_keys=False)
    return f"---\n{metadata}---\n{BODY.format(env=env, mean=mean, std=std)}".encode()


def fastest(get: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Milliseconds of the first call and the fastest of ``repeats`` later ones."""
    started = time.perf_counter()
    get()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        get()
        times.append((time.perf_counter() - started) * 1000)
    return first, min(times)


def fill(api, user: str, repos: int, files: int, commits: int) -> str:
    """The large repo's id, after creating it and ``repos`` small ones."""
    from huggingface_hub import CommitOperationAdd

    large = f"{user}/large"
    api.create_repo(large)
    per_commit = max(1, files // commits)
    for number in range(commits):
        operations = [
            CommitOperationAdd(f"data/part-{number:03d}/file-{index:04d}.txt", f"{number}-{index}\n".encode())
            for index in range(per_commit)
        ]
        if number == commits - 1:
            operations.append(CommitOperationAdd("README.md", card("CartPole-v1", 500.0, 0.0)))
        api.create_commit(large, operations, commit_message=f"Commit {number}")
    for number in range(repos):
        repo_id = f"{user}/agent-{number:04d}"
        api.create_repo(repo_id)
        readme = card(ENVS[number % len(ENVS)], number * 1.5, number % 7)
        api.create_commit(repo_id, [CommitOperationAdd("README.md", readme)], commit_message="Upload agent")
    return large


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import requests
    from huggingface_hub import HfApi

    from huggingface_sb3 import LocalHub

    with tempfile.TemporaryDirectory() as data_dir, LocalHub(data_dir) as hub:
        api = HfApi(endpoint=hub.endpoint, token=hub.token)
        started = time.perf_counter()
        large = fill(api, hub.user, args.repos, args.files, args.commits)
        print(f"filled: {args.repos} repos, {large} with {args.files} files over {args.commits} commits "
              f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
        session = requests.Session()
        session.headers["Accept"] = "text/html"
        head = api.model_info(large).sha

        def get(path: str) -> Callable[[], object]:
            def request() -> None:
                response = session.get(f"{hub.endpoint}{path}", timeout=120)
                response.raise_for_status()

            return request

        rows = [
            ("model page /{large}", f"/{large}", f"/api/models/{large}"),
            ("index /", "/", "/api/models?cardData=1"),
            ("commits /{large}/commits/main", f"/{large}/commits/main", f"/api/models/{large}/commits/main"),
            ("commit /{large}/commit/{head}", f"/{large}/commit/{head}", None),
            ("folder /{large}/tree/main/data", f"/{large}/tree/main/data", f"/api/models/{large}/tree/main/data"),
        ]
        print(f"{'page':<34} {'first ms':>9} {'page ms':>8} {'API ms':>8} {'page/API':>9}")
        for label, page, baseline in rows:
            first, best = fastest(get(page), args.repeats)
            if baseline is not None:
                _, api_best = fastest(get(baseline), args.repeats)
                print(f"{label:<34} {first:9.1f} {best:8.1f} {api_best:8.1f} {best / api_best:9.2f}")
            else:
                print(f"{label:<34} {first:9.1f} {best:8.1f} {'':>8} {'':>9}")
        print("target: model page and index <= 50 ms (page ms, fastest of the repeats)")


if __name__ == "__main__":
    main()
