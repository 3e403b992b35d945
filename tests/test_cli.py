"""The command line through its real entry points, in subprocesses, against the session's local Hub."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from huggingface_sb3.video import probe_video

from ._zoo_agents import zoo_experiment

BIN = Path(sys.executable).parent


def cli(*args, env=None, cwd=None):
    """Run a console script of the package; returns the completed process."""
    command, *rest = args
    return subprocess.run([str(BIN / command), *rest], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


@pytest.fixture(scope="module")
def saved_agent(tmp_path_factory, ppo_cartpole):
    folder = tmp_path_factory.mktemp("agent")
    ppo_cartpole.save(folder / "ppo-CartPole-v1")
    return folder / "ppo-CartPole-v1.zip"


@pytest.fixture(scope="module")
def published(saved_agent, local_hub, hub_api):
    """A repo pushed once with push-to-hub (shared by the read-only tests)."""
    repo_id = f"{local_hub.user}/cli-published"
    hub_api.delete_repo(repo_id, missing_ok=True)
    result = cli("push-to-hub", str(saved_agent), "--env-id", "CartPole-v1", "--repo-id", repo_id,
                 "--n-eval-episodes", "2", "--video-length", "10", "--seed", "3", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    yield repo_id, json.loads(result.stdout)
    hub_api.delete_repo(repo_id, missing_ok=True)


def test_push_to_hub_packages_and_pushes(published, hub_api):
    repo_id, payload = published
    assert payload["commit_id"] == hub_api.model_info(repo_id).sha
    assert set(payload["files"]) == {"README.md", "config.json", "ppo-CartPole-v1.zip", "replay.mp4", "results.json"}
    assert payload["n_eval_episodes"] == 2 and payload["seed"] == 3 and payload["deterministic"] is True


def test_package_subcommand_dry_run_sends_nothing(saved_agent, hub_repo_id, hub_api, tmp_path):
    result = cli("huggingface-sb3", "package", str(saved_agent), "--env-id", "CartPole-v1", "--repo-id", hub_repo_id,
                 "--n-eval-episodes", "1", "--video-length", "5", "--dry-run", "--local-dir", str(tmp_path / "repo"),
                 "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "(dry run, nothing pushed)" in result.stdout and (tmp_path / "repo" / "replay.mp4").is_file()
    assert not hub_api.repo_exists(hub_repo_id)


def test_push_to_hub_from_an_rl_zoo_folder(hub_repo_id, hub_api, tmp_path):
    experiment = tmp_path / "logs" / "ppo" / "MountainCarContinuous-v0_1"
    shutil.copytree(zoo_experiment("ppo", "MountainCarContinuous-v0"), experiment)
    result = cli("push-to-hub", "--zoo-folder", str(tmp_path / "logs"), "--algo", "ppo", "--env-id",
                 "MountainCarContinuous-v0", "--repo-id", hub_repo_id, "--n-eval-episodes", "1", "--no-video", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = set(hub_api.list_repo_files(hub_repo_id))
    assert {
        "ppo-MountainCarContinuous-v0.zip",
        "config.yml",
        "args.yml",
        "vec_normalize.pkl",
        "vec_normalize.json",
    } <= files
    assert json.loads(result.stdout)["mean_reward"] > 60  # normalised with the experiment's statistics
    # what was pushed (saved from an agent with placeholders for its old schedules) loads again on the safe path
    evaluated = cli("huggingface-sb3", "evaluate", hub_repo_id, "--n-eval-episodes", "1", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["mean_reward"] > 60


def test_load_from_hub_downloads_the_agent_files(published, tmp_path):
    repo_id, _ = published
    result = cli("load-from-hub", repo_id, "--local-dir", str(tmp_path / "agent"), "--json")
    assert result.returncode == 0, result.stderr
    names = {Path(path).name for path in json.loads(result.stdout)["files"]}
    assert names == {"README.md", "config.json", "ppo-CartPole-v1.zip", "results.json"}
    one = cli("huggingface-sb3", "pull", repo_id, "results.json")
    assert one.returncode == 0 and json.loads(Path(one.stdout.strip()).read_text())["n_eval_episodes"] == 2


def test_evaluate_compares_with_the_card_and_records(published, tmp_path):
    repo_id, payload = published
    result = cli("huggingface-sb3", "evaluate", repo_id, "--n-eval-episodes", "2", "--seed", "3",
                 "--record", str(tmp_path / "eval.mp4"), "--video-length", "15", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["mean_reward"] == pytest.approx(payload["mean_reward"])  # same seed, same episodes
    assert report["claim_holds"] is True and report["claimed"] == [
        round(payload["mean_reward"], 2),
        round(payload["std_reward"], 2),
    ]
    assert probe_video(tmp_path / "eval.mp4").frames == 15
    text = cli("huggingface-sb3", "evaluate", repo_id, "--n-eval-episodes", "1")
    assert "the claim holds" in text.stdout or "does NOT hold" in text.stdout
    assert "\r" not in text.stderr and "Evaluating" not in text.stderr, "no progress bars in captured output"


def test_record_writes_a_video(published, tmp_path):
    repo_id, _ = published
    result = cli("huggingface-sb3", "record", repo_id, "--output", str(tmp_path / "r.mp4"), "--video-length", "12",
                 "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    video = probe_video(tmp_path / "r.mp4")
    assert (video.codec, video.frames, video.width, video.height) == ("h264", 12, 600, 400)


def test_card_validate_and_write(published, tmp_path):
    repo_id, _ = published
    assert cli("huggingface-sb3", "card", "validate", repo_id).returncode == 0
    broken = tmp_path / "README.md"
    broken.write_text("---\nlibrary_name: stable-baselines3\ntags: [x]\n---\n# no model-index\n")
    result = cli("huggingface-sb3", "card", "validate", str(broken))
    assert result.returncode == 1 and "model-index must hold exactly one model" in result.stdout
    folder = tmp_path / "repo"
    assert cli("load-from-hub", repo_id, "--local-dir", str(folder)).returncode == 0
    (folder / "README.md").write_text("# Mine\n\nKeep this.\n")
    written = cli("huggingface-sb3", "card", "write", str(folder), "--repo-id", repo_id)
    assert written.returncode == 0, written.stderr
    text = (folder / "README.md").read_text()
    assert "Keep this." in text and "model-index" in text
    assert cli("huggingface-sb3", "card", "validate", str(folder / "README.md")).returncode == 0


def test_push_uploads_files_as_they_are(hub_repo_id, hub_api, tmp_path):
    (tmp_path / "notes.md").write_text("notes")
    result = cli("huggingface-sb3", "push", hub_repo_id, str(tmp_path / "notes.md"), "--json")
    assert result.returncode == 0, result.stderr
    assert "notes.md" in hub_api.list_repo_files(hub_repo_id)


def test_user_errors_are_one_line_and_exit_1(tmp_path):
    result = cli("push-to-hub", str(tmp_path / "missing.zip"), "--env-id", "CartPole-v1", "--repo-id", "you/x")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    debug = cli(
        "push-to-hub", str(tmp_path / "missing.zip"), "--env-id", "CartPole-v1", "--repo-id", "you/x", "--debug"
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    missing_repo = cli("huggingface-sb3", "evaluate", "local-user/does-not-exist")
    assert missing_repo.returncode == 1 and "not found" in missing_repo.stderr


def test_a_push_without_token_explains_how_to_log_in(saved_agent, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "HF_TOKEN"}
    env["HF_HOME"] = str(tmp_path / "empty-home")
    result = cli("push-to-hub", str(saved_agent), "--env-id", "CartPole-v1", "--repo-id", "you/x", "--no-video",
                 "--n-eval-episodes", "1", env=env)  # fmt: skip
    assert result.returncode == 1 and "hf auth login" in result.stderr


def test_bad_usage_exits_2():
    assert cli("push-to-hub", "agent.zip").returncode == 2  # --env-id and --repo-id are required
    assert cli("huggingface-sb3", "no-such-command").returncode == 2
    assert cli("huggingface-sb3", "evaluate").returncode == 2


@pytest.mark.parametrize(
    "args",
    [
        ["huggingface-sb3"],
        ["huggingface-sb3", "package"],
        ["huggingface-sb3", "pull"],
        ["huggingface-sb3", "push"],
        ["huggingface-sb3", "evaluate"],
        ["huggingface-sb3", "record"],
        ["huggingface-sb3", "card"],
        ["huggingface-sb3", "card", "write"],
        ["huggingface-sb3", "card", "validate"],
        ["huggingface-sb3", "hub", "serve"],
        ["push-to-hub"],
        ["load-from-hub"],
    ],
)
def test_help_on_every_level_has_examples(args):
    result = cli(*args, "--help")
    assert result.returncode == 0 and "examples:" in result.stdout
