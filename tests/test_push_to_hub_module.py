"""3.0's module huggingface_sb3.push_to_hub: push_to_hub, generate_metadata, and the RL Zoo's helpers."""

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
from huggingface_hub import ModelCard

import huggingface_sb3
from huggingface_sb3.errors import InvalidRepoIdError, MissingFileError
from huggingface_sb3.push_to_hub import _evaluate_agent, _generate_replay, generate_metadata, push_to_hub
from huggingface_sb3.video import probe_video


def test_the_package_attribute_stays_the_function_after_importing_the_module():
    code = (
        "import sys, types, huggingface_sb3.push_to_hub, huggingface_sb3; "
        "from huggingface_sb3.push_to_hub import _evaluate_agent, _generate_replay, generate_metadata; "
        "assert isinstance(sys.modules['huggingface_sb3.push_to_hub'], types.ModuleType); "
        "assert callable(huggingface_sb3.push_to_hub) and not isinstance(huggingface_sb3.push_to_hub, types.ModuleType); "
        "from huggingface_sb3 import EnvironmentName, ModelName, ModelRepoId, load_from_hub, package_to_hub"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_generate_metadata_has_the_3_0_shape():
    metadata = generate_metadata("PPO", "LunarLander-v3", 250.123, 10.5)
    assert metadata["library_name"] == "stable-baselines3"
    assert metadata["tags"] == [
        "LunarLander-v3",
        "deep-reinforcement-learning",
        "reinforcement-learning",
        "stable-baselines3",
    ]
    (model,) = metadata["model-index"]
    assert model["name"] == "PPO"
    (result,) = model["results"]
    assert result["task"] == {"type": "reinforcement-learning", "name": "reinforcement-learning"}
    assert result["dataset"] == {"name": "LunarLander-v3", "type": "LunarLander-v3"}
    assert result["metrics"] == [
        {"type": "mean_reward", "value": "250.12 +/- 10.50", "name": "mean_reward", "verified": False}
    ]


def test_push_to_hub_uploads_a_file_from_any_path_and_keeps_the_card(hub_api, hub_repo_id, tmp_path, monkeypatch):
    hub_api.create_repo(hub_repo_id)
    readme = "---\nlicense: mit\n---\n# Keep me\n"
    hub_api.upload_file(path_or_fileobj=readme.encode(), path_in_repo="README.md", repo_id=hub_repo_id)
    source = tmp_path / "elsewhere" / "ppo-CartPole-v1.zip"
    source.parent.mkdir()
    source.write_bytes(b"zip bytes")
    monkeypatch.chdir(tmp_path)
    commit = push_to_hub(hub_repo_id, str(source), "Add the agent")
    assert commit.oid == hub_api.model_info(hub_repo_id).sha
    assert Path(hub_api.hf_hub_download(hub_repo_id, "ppo-CartPole-v1.zip")).read_bytes() == b"zip bytes"
    assert Path(hub_api.hf_hub_download(hub_repo_id, "README.md")).read_text() == readme
    assert huggingface_sb3.push_to_hub is push_to_hub


def test_push_to_hub_creates_the_repo_and_places_the_file(hub_api, hub_repo_id, tmp_path):
    (tmp_path / "replay.mp4").write_bytes(b"not really a video")
    push_to_hub(hub_repo_id, tmp_path / "replay.mp4", "Add video", path_in_repo="videos/replay.mp4")
    assert "videos/replay.mp4" in hub_api.list_repo_files(hub_repo_id)


def test_push_to_hub_user_errors(hub_repo_id, tmp_path, local_hub):
    before = local_hub.requests_received
    with pytest.raises(MissingFileError, match="no such file"):
        push_to_hub(hub_repo_id, tmp_path / "missing.zip", "x")
    with pytest.raises(InvalidRepoIdError):
        push_to_hub("bad id", tmp_path, "x")
    assert local_hub.requests_received == before


def test_zoo_helpers_keep_their_3_0_signatures(ppo_cartpole, tmp_path):
    mean, std = _evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), 2, True, tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert (results["mean_reward"], results["std_reward"], results["n_eval_episodes"]) == (mean, std, 2)
    assert results["is_deterministic"] is True and "eval_datetime" in results
    _generate_replay(ppo_cartpole, gym.make("CartPole-v1", render_mode="rgb_array"), 25, True, str(tmp_path))
    video = probe_video(tmp_path / "replay.mp4")
    assert (video.codec, video.pix_fmt, video.frames) == ("h264", "yuv420p", 25)


def test_card_text_names_the_agent(ppo_cartpole, hub_repo_id):
    huggingface_sb3.package_to_hub(
        ppo_cartpole, "ppo-CartPole-v1", "PPO", "CartPole-v1", gym.make("CartPole-v1"), hub_repo_id, "Upload",
        n_eval_episodes=1, video=False, progress=False,
    )  # fmt: skip
    assert ModelCard.load(hub_repo_id).text.count("# PPO agent playing CartPole-v1") == 1


def test_a_replay_without_the_renderers_package_is_a_clear_error(ppo_cartpole, tmp_path, monkeypatch):
    """rl_zoo3 does not install pygame: filming CartPole then fails in gymnasium; say what to install."""
    from huggingface_sb3.errors import EnvironmentNotRenderableError

    monkeypatch.setitem(sys.modules, "pygame", None)  # `import pygame` now fails, as where it is not installed
    with pytest.raises(EnvironmentNotRenderableError, match=r"video=False.*huggingface-sb3\[classic-control\]"):
        _generate_replay(ppo_cartpole, gym.make("CartPole-v1", render_mode="rgb_array"), 5, True, tmp_path)
    assert not (tmp_path / "replay.mp4").exists()


def test_every_name_of_3_0_and_the_fork_is_kept(ppo_cartpole, tmp_path):
    """The names huggingface_sb3 3.0 and sb3-team-hf-integration 3.2 define in huggingface_sb3.push_to_hub."""
    from huggingface_hub import ModelCardData

    from huggingface_sb3.load_from_hub import load_from_hub
    from huggingface_sb3.push_to_hub import (
        _add_logdir,
        _copy_file,
        _generate_config,
        _generate_metadata,
        _generate_model_card,
        _save_model_card,
        entry_point,
        is_atari,
    )

    assert load_from_hub is huggingface_sb3.load_from_hub
    metadata = _generate_metadata("PPO", "CartPole-v1", 1.0, 0.5)
    assert isinstance(metadata, ModelCardData) and metadata.to_dict() == generate_metadata(
        "PPO", "CartPole-v1", 1.0, 0.5
    )
    card = _generate_model_card("PPO", "CartPole-v1", 1.0, 0.5)  # the fork's ModelCard, 3.0's (text, metadata)
    text, as_dict = card
    assert card.data.to_dict() == as_dict == generate_metadata("PPO", "CartPole-v1", 1.0, 0.5)
    assert "# **PPO** Agent playing **CartPole-v1**" in text
    _save_model_card(tmp_path, text, as_dict)
    assert ModelCard.load(tmp_path / "README.md").data.to_dict()["model-index"][0]["name"] == "PPO"

    ppo_cartpole.save(tmp_path / "ppo-CartPole-v1")
    _generate_config("ppo-CartPole-v1", tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["n_steps"] == 128 and "system_info" in config
    assert not (tmp_path / "ppo-CartPole-v1").exists()  # 3.0 left an unzipped copy of the model beside the zip
    assert ":serialized:" not in json.dumps(config)

    (tmp_path / "tb" / "run_1").mkdir(parents=True)
    (tmp_path / "tb" / "run_1" / "events").write_text("e")
    _add_logdir(tmp_path / "repo", tmp_path / "tb")
    assert (tmp_path / "repo" / "logs" / "run_1" / "events").read_text() == "e"
    _copy_file(tmp_path / "config.json", tmp_path / "repo")
    assert (tmp_path / "repo" / "config.json").is_file()
    assert entry_point("CartPole-v1").endswith("CartPoleEnv") and is_atari("CartPole-v1") is False
