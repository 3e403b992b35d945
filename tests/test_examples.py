"""The example scripts run end to end, in a fast mode (tiny budgets, one evaluation episode, 20 video frames).

Each runs in a subprocess that inherits the session's HF_ENDPOINT and HF_TOKEN, so the examples push to the test
session's local Hub as they would push to huggingface.co with a configured token.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FAST = ("--n-eval-episodes", "1", "--video-length", "20")
TRAINING_EXAMPLES = ("train_cartpole.py", "train_atari.py", "train_pendulum_vecnormalize.py")
AGENT_FILES = {"README.md", "config.json", "replay.mp4", "results.json"}


def run_example(name: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``examples/name`` with ``args`` in ``cwd``; its standard output (the test fails on a non-zero exit).

    The output is captured, not a terminal: no progress bar may be drawn into it.
    """
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        env={**(env if env is not None else os.environ), "SDL_VIDEODRIVER": "dummy"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{name} exited with {result.returncode}\n{result.stdout}\n{result.stderr}"
    captured = result.stdout + result.stderr
    assert "\r" not in captured and "\x1b[" not in captured, f"progress bars in captured output:\n{captured}"
    return result.stdout


@pytest.mark.parametrize(
    ("name", "real_run"),
    [
        ("train_cartpole.py", "100,000 steps"),
        ("train_atari.py", "10 million steps"),
        ("train_pendulum_vecnormalize.py", "20,000 steps"),
        ("load_and_evaluate.py", "needs network access to huggingface.co"),
    ],
)
def test_help_says_what_a_real_run_needs(name: str, real_run: str, tmp_path: Path) -> None:
    output = run_example(name, "--help", cwd=tmp_path)
    assert real_run in " ".join(output.split())
    assert "--output-dir" in output


@pytest.mark.parametrize("name", TRAINING_EXAMPLES)
def test_training_examples_refuse_a_non_empty_output_dir_before_training(name: str, tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "old.txt").write_text("keep me")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--output-dir", "repo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "is not empty" in result.stderr
    assert "Training" not in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "args", "model_file", "more_files"),
    [
        ("train_cartpole.py", ("--steps", "256"), "ppo-CartPole-v1.zip", set()),
        ("train_atari.py", ("--steps", "64"), "dqn-BreakoutNoFrameskip-v4.zip", set()),
        ("train_atari.py", ("--algo", "ppo", "--steps", "64"), "ppo-BreakoutNoFrameskip-v4.zip", set()),
        (
            "train_pendulum_vecnormalize.py",
            ("--steps", "256"),
            "sac-Pendulum-v1.zip",
            {"vec_normalize.json", "vec_normalize.pkl"},
        ),
    ],
)
def test_training_example_pushes_to_the_configured_hub_and_loads_back(
    name: str,
    args: tuple[str, ...],
    model_file: str,
    more_files: set[str],
    tmp_path: Path,
    local_hub,
    hub_api,
    hub_repo_id: str,
) -> None:
    output_dir = tmp_path / "repo"
    output = run_example(name, *args, *FAST, "--repo-id", hub_repo_id, "--output-dir", str(output_dir), cwd=tmp_path)

    assert f"Pushing to {local_hub.endpoint} as {local_hub.user}." in output
    assert "embedded local Hub" not in output
    summary = rf"^Pushed to {re.escape(local_hub.endpoint)}/{hub_repo_id}/commit/[0-9a-f]{{40}}: mean_reward \S+ \+/- \S+ over 1 episodes; video replay\.mp4 \(20 frames\)\.$"
    assert re.search(summary, output, re.MULTILINE), output
    assert "rollout/" not in output and "time/" not in output  # SB3's training tables only with --verbose
    expected = {model_file, *AGENT_FILES, *more_files}
    assert set(hub_api.list_repo_files(hub_repo_id)) - {".gitattributes"} == expected  # the Hub adds .gitattributes
    assert f"files: {', '.join(sorted(expected))}" in output
    video = output_dir / "replay.mp4"
    assert video.stat().st_size > 0
    assert f"video: {video.resolve()}" in output
    assert "over 1 episodes." in output.splitlines()[-1]
    if more_files:
        assert "with the training statistics: yes" in output


@pytest.mark.slow
@pytest.mark.parametrize("how", ["--local-hub", "no token"])
def test_train_cartpole_starts_an_embedded_hub(how: str, tmp_path: Path, local_hub) -> None:
    env = dict(os.environ)
    if how == "no token":
        del env["HF_TOKEN"]
        env["HF_HOME"] = str(tmp_path / "empty-hf-home")  # no saved login either
    args = ("--local-hub",) if how == "--local-hub" else ()
    output = run_example("train_cartpole.py", "--steps", "256", *FAST, *args, cwd=tmp_path, env=env)

    reason = "--local-hub was passed" if how == "--local-hub" else "No Hugging Face token configured"
    first = output.splitlines()[0]
    assert first.startswith(f"{reason}: pushing to an embedded local Hub at http://127.0.0.1:")
    assert first.endswith("(it serves while this script runs; --keep-serving keeps it up).")
    embedded = first.split(" at ", 1)[1].split(" ", 1)[0]
    assert embedded != local_hub.endpoint
    assert f"Pushed to {embedded}/local-user/ppo-CartPole-v1/commit/" in output
    video = tmp_path / "ppo-CartPole-v1-repo" / "replay.mp4"  # the default --output-dir
    assert video.is_file()
    assert f"video: {video.resolve()}" in output
    assert f"model page: {embedded}/local-user/ppo-CartPole-v1" in output
    assert "Loaded PPO agent" in output


@pytest.mark.slow
def test_load_and_evaluate_plays_a_published_agent_and_records_it(
    tmp_path: Path, ppo_cartpole, local_hub, hub_repo_id: str
) -> None:
    from huggingface_sb3 import package_to_hub

    published = package_to_hub(
        ppo_cartpole,
        "ppo-CartPole-v1",
        "PPO",
        "CartPole-v1",
        None,
        hub_repo_id,
        "Tiny PPO",
        n_eval_episodes=1,
        video=False,
        local_dir=tmp_path / "repo",
        progress=False,
    )
    claim = f"{published.evaluation.mean_reward:.2f} +/- {published.evaluation.std_reward:.2f}"
    endpoint = ("--endpoint", local_hub.endpoint)
    output = run_example(
        "load_and_evaluate.py", hub_repo_id, "--revision", published.commit_id, *endpoint, *FAST, "--quiet",
        "--output-dir", "out", cwd=tmp_path,
    )  # fmt: skip

    assert f"Loading {hub_repo_id} from {local_hub.endpoint}..." in output
    assert f"at {published.commit_id}" in output
    assert "Mean reward: " in output
    assert f"The model card claims: {claim}" in output
    video = tmp_path / "out" / "replay.mp4"
    assert video.stat().st_size > 0
    assert f"Replay: {video.resolve()} (20 frames" in output

    output = run_example("load_and_evaluate.py", "repo", *FAST, "--video", "from-disk.mp4", cwd=tmp_path)
    assert "Loading repo from disk..." in output
    assert f"The model card claims: {claim}" in output
    assert f"Replay: {(tmp_path / 'from-disk.mp4').resolve()} (20 frames" in output


def test_load_and_evaluate_explains_a_missing_repo(tmp_path: Path, local_hub) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "load_and_evaluate.py"), f"{local_hub.user}/no-such-agent"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"Cannot load {local_hub.user}/no-such-agent: Repository" in result.stderr
    assert "not found" in result.stderr
    assert not (tmp_path / "replay.mp4").exists()
