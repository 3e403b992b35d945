"""The RL Zoo (rl_zoo3 2.9.2, from the package index) with this package, in a fresh virtual environment set up by the
README's "With the RL Zoo" block: its own train, push_to_hub, load_from_hub and enjoy scripts, unchanged, against
the session's local Hub."""

import json
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd

from huggingface_sb3 import load_agent
from huggingface_sb3.card import leaderboard_problems
from huggingface_sb3.evaluation import evaluate_agent
from huggingface_sb3.video import probe_video

from ._venvs import ROOT, create_venv, readme_bash_block, run
from ._zoo_agents import zoo_experiment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """The ``bin`` folder of a fresh venv where the README's RL Zoo block ran (rl_zoo3 from the index)."""
    bin_dir = create_venv(tmp_path_factory.mktemp("zoo") / "venv")
    result = run(
        bin_dir, "bash", "-euo", "pipefail", "-c", readme_bash_block("With the RL Zoo"), cwd=ROOT, timeout=1800
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return bin_dir


def zoo_run(bin_dir, *arguments, cwd, local_hub, timeout=600):
    """``python -m rl_zoo3.<script> ...`` in the Zoo's venv, pointed at the local Hub."""
    return run(bin_dir, "python", "-m", *arguments, cwd=cwd, timeout=timeout, HF_ENDPOINT=local_hub.endpoint,
               HF_TOKEN=local_hub.token, HF_HOME=str(cwd / "hf-home"), SDL_VIDEODRIVER="dummy")  # fmt: skip


def test_the_readme_block_makes_this_package_the_one_rl_zoo3_imports(zoo):
    result = run(zoo, "python", "-c", "import huggingface_sb3, rl_zoo3.push_to_hub, rl_zoo3.load_from_hub; "
                 "print(huggingface_sb3.__file__)")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == ROOT / "huggingface_sb3" / "__init__.py"
    assert run(zoo, "pip", "show", "sb3-team-hf-integration").returncode != 0
    version = run(zoo, "huggingface-sb3", "--version")
    assert version.returncode == 0 and version.stdout.startswith("huggingface-sb3 4."), version.stderr


@pytest.fixture(scope="module")
def trained(zoo, tmp_path_factory, local_hub):
    """A folder where ``rl_zoo3.train`` trained PPO on CartPole-v1 and A2C on Pendulum-v1 with VecNormalize."""
    folder = tmp_path_factory.mktemp("zoo-train")
    for arguments in (
        ("--algo", "ppo", "--env", "CartPole-v1", "-n", "2000"),
        ("--algo", "a2c", "--env", "Pendulum-v1", "-n", "400", "-params", "normalize:True", "n_envs:2"),
    ):
        result = zoo_run(zoo, "rl_zoo3.train", *arguments, "-f", "logs", "--seed", "0", cwd=folder, local_hub=local_hub)
        assert result.returncode == 0, result.stderr[-3000:]
    return folder


def _push(zoo, trained, local_hub, repo_name, algo, env_id, *extra):
    return zoo_run(zoo, "rl_zoo3.push_to_hub", "--algo", algo, "--env", env_id, "-f", "logs", "-orga", local_hub.user,
                   "--repo-name", repo_name, *extra, cwd=trained, local_hub=local_hub)  # fmt: skip


def _load(zoo, folder, local_hub, repo_name, algo, env_id):
    return zoo_run(zoo, "rl_zoo3.load_from_hub", "--algo", algo, "--env", env_id, "-orga", local_hub.user, "-name",
                   repo_name, "-f", "downloaded", cwd=folder, local_hub=local_hub)  # fmt: skip


def test_train_push_load_and_enjoy(zoo, trained, local_hub, hub_api, new_repo_id, tmp_path):
    repo_id = new_repo_id()
    repo_name = repo_id.split("/")[1]
    pushed = _push(zoo, trained, local_hub, repo_name, "ppo", "CartPole-v1", "-n", "200")
    assert pushed.returncode == 0, pushed.stderr[-3000:]

    files = set(hub_api.list_repo_files(repo_id))
    assert {"ppo-CartPole-v1.zip", "config.yml", "args.yml", "env_kwargs.yml", "train_eval_metrics.zip",
            "results.json", "replay.mp4", "README.md"} <= files  # fmt: skip
    video = probe_video(Path(hub_api.hf_hub_download(repo_id, "replay.mp4")))
    assert (video.codec, video.pix_fmt, video.frames) == ("h264", "yuv420p", 200)  # no system ffmpeg here
    results = json.loads(Path(hub_api.hf_hub_download(repo_id, "results.json")).read_text())
    assert results["n_eval_episodes"] == 10 and len(results["episode_returns"]) == 10
    assert leaderboard_problems(Path(hub_api.hf_hub_download(repo_id, "README.md")).read_text()) == []

    loaded = _load(zoo, tmp_path, local_hub, repo_name, "ppo", "CartPole-v1")
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "No normalization file" in loaded.stdout  # vec_normalize.pkl is optional: 3.0's HTTPError is caught
    experiment = tmp_path / "downloaded" / "ppo" / "CartPole-v1_1"
    assert (experiment / "CartPole-v1.zip").is_file() and (experiment / "CartPole-v1" / "env_kwargs.yml").is_file()

    enjoyed = zoo_run(zoo, "rl_zoo3.enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", "downloaded", "--no-render",
                      "-n", "300", cwd=tmp_path, local_hub=local_hub)  # fmt: skip
    assert enjoyed.returncode == 0, enjoyed.stderr[-3000:]
    assert "Mean reward" in enjoyed.stdout

    agent = load_agent(repo_id, device="cpu")  # what the Zoo pushed also loads on the safe path
    assert (agent.algo, agent.env_id, agent.placeholders) == ("PPO", "CartPole-v1", ())
    assert evaluate_agent(agent.model, agent.env, n_eval_episodes=1, seed=0).mean_reward > 0


def test_an_agent_with_normalization_statistics(zoo, trained, local_hub, hub_api, new_repo_id, tmp_path):
    repo_id = new_repo_id()
    repo_name = repo_id.split("/")[1]
    pushed = _push(zoo, trained, local_hub, repo_name, "a2c", "Pendulum-v1", "--no-render")
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    assert "vec_normalize.pkl" in hub_api.list_repo_files(repo_id)

    loaded = _load(zoo, tmp_path, local_hub, repo_name, "a2c", "Pendulum-v1")
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "No normalization file" not in loaded.stdout
    assert (tmp_path / "downloaded" / "a2c" / "Pendulum-v1_1" / "Pendulum-v1" / "vecnormalize.pkl").is_file()
    enjoyed = zoo_run(zoo, "rl_zoo3.enjoy", "--algo", "a2c", "--env", "Pendulum-v1", "-f", "downloaded", "--no-render",
                      "-n", "250", cwd=tmp_path, local_hub=local_hub)  # fmt: skip
    assert enjoyed.returncode == 0, enjoyed.stderr[-3000:]

    agent = load_agent(repo_id, device="cpu")
    assert type(agent.env).__name__ == "VecNormalize" and agent.env.training is False


def test_a_repo_without_the_zoos_metrics_stops_with_a_clear_error(zoo, local_hub, hub_api, hub_repo_id, tmp_path):
    """rl_zoo3.load_from_hub requires train_eval_metrics.zip (only vec_normalize.pkl is optional), as with 3.0."""
    folder = zoo_experiment("ppo", "CartPole-v1")
    hub_api.create_repo(hub_repo_id)
    hub_api.create_commit(
        hub_repo_id,
        operations=[
            CommitOperationAdd("ppo-CartPole-v1.zip", folder / "CartPole-v1.zip"),
            CommitOperationAdd("config.yml", folder / "CartPole-v1" / "config.yml"),
            CommitOperationAdd("args.yml", folder / "CartPole-v1" / "args.yml"),
            CommitOperationAdd("env_kwargs.yml", b"{}\n"),
        ],
        commit_message="Zoo files without train_eval_metrics.zip",
    )
    loaded = _load(zoo, tmp_path, local_hub, hub_repo_id.split("/")[1], "ppo", "CartPole-v1")
    assert loaded.returncode != 0
    assert f"{hub_repo_id} has no file 'train_eval_metrics.zip' at revision main" in loaded.stderr
    assert not (tmp_path / "downloaded").exists()
