"""Looking at a model page after the fact: ``huggingface-sb3 preview DIR`` on a dry run's folder, and the training
example's ``--keep-serving``. Both serve until Ctrl-C, so they run as subprocesses that get a SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import gymnasium as gym
import pytest
import requests

from huggingface_sb3 import package_to_hub

BIN = Path(sys.executable).parent
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SERVING = re.compile(r"keeps serving: open (\S+) in a browser")


@contextmanager
def serving(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, stop: signal.Signals = signal.SIGINT
) -> Iterator[tuple[str, list[str]]]:
    """Start ``command``, wait for the line naming the page it serves; yield that URL and the lines so far; then
    stop it with ``stop`` (Ctrl-C's SIGINT, or SIGTERM as ``kill`` sends) and check it stopped cleanly."""
    process = subprocess.Popen(
        command, cwd=cwd, env={**(env or os.environ), "SDL_VIDEODRIVER": "dummy"}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            found = SERVING.search(line)
            if found:
                break
        else:
            pytest.fail(f"{command[0]} ended without serving:\n" + "\n".join(lines))
        yield found.group(1), lines
    finally:
        process.send_signal(stop)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert "Stopped." in rest


def test_preview_serves_a_dry_runs_model_page(ppo_cartpole, tmp_path):
    folder = tmp_path / "ppo-CartPole-v1 (dry run)"
    result = package_to_hub(
        ppo_cartpole, "ppo-CartPole-v1", "PPO", "CartPole-v1", gym.make("CartPole-v1", render_mode="rgb_array"),
        "you/ppo-CartPole-v1", "Upload", n_eval_episodes=2, video_length=20, seed=0, progress=False, push=False,
        local_dir=folder,
    )  # fmt: skip
    with serving([str(BIN / "huggingface-sb3"), "preview", str(folder)], cwd=tmp_path) as (url, lines):
        assert url.endswith("/you/ppo-CartPole-v1"), "served as the repo the card was written for"
        page = requests.get(url, timeout=30)
        assert page.status_code == 200
        evaluation = result.evaluation
        assert f"{evaluation.mean_reward:.2f} ± {evaluation.std_reward:.2f}" in page.text
        assert 'src="/you/ppo-CartPole-v1/resolve/main/replay.mp4"' in page.text, "the card's replay plays here"
        assert {name for name in result.files} <= set(re.findall(r'data-path="([^"]+)"', page.text))
    assert any(f"Previewing {folder}" in line for line in lines)


def test_preview_names_a_folder_without_a_card_after_the_folder(tmp_path):
    folder = tmp_path / "my agent"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello\n")
    with serving([str(BIN / "huggingface-sb3"), "preview", str(folder)], cwd=tmp_path) as (url, _):
        assert url.endswith("/local-user/my-agent"), url
        assert 'data-path="notes.txt"' in requests.get(url, timeout=30).text


def test_preview_refuses_a_missing_folder_in_one_line(tmp_path):
    done = subprocess.run(
        [str(BIN / "huggingface-sb3"), "preview", str(tmp_path / "nope")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "does not exist" in done.stderr


@pytest.mark.slow
def test_the_training_example_keeps_serving_its_model_page(tmp_path, local_hub):
    env = {key: value for key, value in os.environ.items() if key != "HF_TOKEN"}
    env["HF_HOME"] = str(tmp_path / "hf-home")  # no token: the embedded local Hub
    command = [sys.executable, str(EXAMPLES / "train_cartpole.py"), "--steps", "64", "--n-eval-episodes", "1",
               "--video-length", "10", "--keep-serving"]  # fmt: skip
    with serving(command, cwd=tmp_path, env=env, stop=signal.SIGTERM) as (url, lines):
        assert any(line == f"  model page: {url}" for line in lines), lines
        page = requests.get(url, headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200 and "<video" in page.text
