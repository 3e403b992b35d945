"""``huggingface-sb3 evaluate`` over many agents: through the real command, against the session's local Hub."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd

from huggingface_sb3 import package_to_hub
from huggingface_sb3.bulk_evaluation import SourceEvaluation
from huggingface_sb3.leaderboard import write_leaderboard

BIN = Path(sys.executable).parent


def evaluate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "huggingface-sb3"), "evaluate", *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


@pytest.fixture(scope="module")
def published(ppo_cartpole, dqn_cartpole, local_hub):
    """Two agents of the session's user, pushed as package_to_hub pushes them."""
    repos = []
    for model, algo in ((ppo_cartpole, "PPO"), (dqn_cartpole, "DQN")):
        repo_id = f"{local_hub.user}/many-{algo.lower()}-CartPole-v1"
        package_to_hub(
            model, f"{algo.lower()}-CartPole-v1", algo, "CartPole-v1", None, repo_id, "Upload", n_eval_episodes=2,
            video=False, seed=0, progress=False, token=local_hub.token, endpoint=local_hub.endpoint,
        )  # fmt: skip
        repos.append(repo_id)
    return repos


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_many_sources_stream_records_and_one_failure_does_not_stop_the_others(published, local_hub, tmp_path):
    missing = f"{local_hub.user}/no-such-agent"
    output, board = tmp_path / "run.jsonl", tmp_path / "board.md"
    done = evaluate(*published, missing, "--n-eval-episodes", "2", "--seed", "3", "--output", str(output),
                    "--leaderboard", str(board), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stderr
    records = {record["source"]: record for record in _records(output)}
    assert set(records) == {*published, missing}
    for repo_id in published:
        assert records[repo_id]["error"] is None and len(records[repo_id]["revision"]) == 40
        assert records[repo_id]["seed"] == 3 and len(records[repo_id]["episode_returns"]) == 2
        assert records[repo_id]["claimed"] is not None and records[repo_id]["claim_holds"] is not None
    assert "RepoNotFoundError" in records[missing]["error"] and "\n" not in records[missing]["error"]
    lines = done.stdout.splitlines()
    assert sum(line.startswith("ok ") for line in lines) == 2 and any(line.startswith("FAILED") for line in lines)
    assert lines[-1].startswith("2 evaluated, 1 failed; seed 3")
    table = board.read_text()
    assert table.startswith("| repo | algo | env | claimed | measured | verdict |")
    assert all(f"| {repo_id} |" in table for repo_id in published) and "error: RepoNotFoundError" in table


def test_resume_keeps_unchanged_agents_and_redoes_changed_or_failed_ones(published, hub_api, tmp_path):
    output = tmp_path / "run.jsonl"
    first = evaluate(*published, "--n-eval-episodes", "1", "--seed", "0", "--output", str(output), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = evaluate(*published, "--n-eval-episodes", "1", "--seed", "0", "--output", str(output), "--resume",
                     cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0 and again.stdout.splitlines()[-1].startswith("0 evaluated, 0 failed, 2 kept from")
    assert len(_records(output)) == 2
    hub_api.create_commit(published[0], [CommitOperationAdd("notes.md", b"changed\n")], commit_message="notes")
    third = evaluate(*published, "--n-eval-episodes", "1", "--seed", "0", "--output", str(output), "--resume",
                     cwd=tmp_path)  # fmt: skip
    assert third.returncode == 0 and third.stdout.splitlines()[-1].startswith("1 evaluated, 0 failed, 1 kept from")
    records = _records(output)
    assert len(records) == 3 and records[-1]["source"] == published[0]
    assert records[-1]["revision"] == hub_api.model_info(published[0]).sha


def test_sources_come_from_a_file_and_from_an_author(published, local_hub, hub_api, tmp_path):
    listing = tmp_path / "agents.txt"
    listing.write_text(f"# agents to check\n{published[0]}\n\n{published[0]}  # twice: evaluated once\n")
    from_file = evaluate("--sources-file", str(listing), "--n-eval-episodes", "1", "--json", cwd=tmp_path)
    assert from_file.returncode == 0, from_file.stderr
    assert [json.loads(line)["source"] for line in from_file.stdout.splitlines()] == [published[0]]

    other = f"{local_hub.user}/many-not-an-agent"
    hub_api.create_repo(other, exist_ok=True)  # no stable-baselines3 card: not listed
    by_author = evaluate("--author", local_hub.user, "--n-eval-episodes", "1", "--json", cwd=tmp_path)
    sources = {json.loads(line)["source"] for line in by_author.stdout.splitlines()}
    assert set(published) <= sources and other not in sources


def test_options_for_one_source_are_refused_with_several(published, tmp_path):
    done = evaluate(*published, "--record", "x.mp4", cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.strip().count("\n") == 0
    assert "--record applies to one source" in done.stderr
    resume = evaluate(*published, "--resume", cwd=tmp_path)
    assert resume.returncode == 1 and "--resume needs --output" in resume.stderr


def test_the_html_leaderboard_escapes_what_strangers_wrote(tmp_path):
    record = SourceEvaluation.from_json(
        {
            "source": "evil/<script>alert(1)</script>", "revision": None, "algo": None, "env_id": None,
            "mean_reward": None, "std_reward": None, "episode_returns": [], "n_eval_episodes": 1,
            "deterministic": None, "seed": 0, "claimed": None, "claim_holds": None, "sha256": None,
            "placeholders": [], "error": "CorruptArtifactError: <img src=x onerror=alert(2)>", "seconds": {},
        }
    )  # fmt: skip
    board = tmp_path / "board.html"
    write_leaderboard([record], board)
    page = board.read_text()
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page


@pytest.mark.slow
def test_ray_gives_the_same_returns_as_serial(published, tmp_path):
    serial = evaluate(*published, "--n-eval-episodes", "3", "--seed", "7", "--stochastic", "--json", cwd=tmp_path)
    on_ray = evaluate(*published, "--n-eval-episodes", "3", "--seed", "7", "--stochastic", "--json",
                      "--backend", "ray", "--workers", "2", cwd=tmp_path)  # fmt: skip
    assert serial.returncode == 0 and on_ray.returncode == 0, on_ray.stderr

    def returns(done: subprocess.CompletedProcess[str]) -> dict[str, list[float]]:
        return {(record := json.loads(line))["source"]: record["episode_returns"] for line in done.stdout.splitlines()}

    assert returns(serial) == returns(on_ray)
    assert "WARNING" not in on_ray.stderr and "INFO" not in on_ray.stderr, on_ray.stderr  # Ray's start-up notices
