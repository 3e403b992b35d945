"""The Hugging Face Deep RL Course, unit 1, as students run it: train PPO on LunarLander, ``package_to_hub`` with the
course's exact arguments and env shape, then ``load_from_hub`` + ``PPO.load(..., custom_objects=...)`` and
``evaluate_policy``. Only the training budget is smaller (the course trains for 1M steps). LunarLander needs
``gymnasium[box2d]``, part of the test extra."""

import json
from pathlib import Path

import gymnasium as gym
import pytest
from huggingface_hub import ModelCard
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from huggingface_sb3 import load_from_hub, package_to_hub
from huggingface_sb3.video import probe_video

ENV_ID = "LunarLander-v3"  # the course's LunarLander-v2 is LunarLander-v3 in gymnasium 1.x


@pytest.mark.slow
def test_the_deep_rl_course_unit_1_flow(hub_api, hub_repo_id, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the course saves the model in the working directory
    env = make_vec_env(ENV_ID, n_envs=4)
    model = PPO(policy="MlpPolicy", env=env, n_steps=64, batch_size=64, n_epochs=4, gamma=0.999, gae_lambda=0.98,
                ent_coef=0.01, verbose=0, device="cpu")  # fmt: skip
    model.learn(total_timesteps=256)
    model_name = f"ppo-{ENV_ID}"
    model.save(model_name)

    # Unit 1's "Publish our trained model on the Hub" cell, word for word but for the ids.
    env_id = ENV_ID
    model_architecture = "PPO"
    repo_id = hub_repo_id
    commit_message = "Upload PPO LunarLander-v3 trained agent"
    eval_env = DummyVecEnv([lambda: Monitor(gym.make(env_id, render_mode="rgb_array"))])
    result = package_to_hub(
        model=model,
        model_name=model_name,
        model_architecture=model_architecture,
        env_id=env_id,
        eval_env=eval_env,
        repo_id=repo_id,
        commit_message=commit_message,
    )

    assert result.endswith(f"/{repo_id}/commit/{hub_api.model_info(repo_id).sha}")
    files = set(hub_api.list_repo_files(repo_id))
    assert {f"{model_name}.zip", "README.md", "results.json", "replay.mp4", "config.json"} <= files
    video = probe_video(Path(hub_api.hf_hub_download(repo_id, "replay.mp4")))
    assert (video.codec, video.pix_fmt, video.width % 2, video.height % 2) == ("h264", "yuv420p", 0, 0)
    assert video.frames == 1000  # the default video_length
    results = json.loads(Path(hub_api.hf_hub_download(repo_id, "results.json")).read_text())
    assert results["n_eval_episodes"] == 10 and results["is_deterministic"] is True

    # What the course leaderboard reads: the env tag and model-index[0].results[0].metrics[0].value.
    card = ModelCard.load(hub_api.hf_hub_download(repo_id, "README.md"))
    assert ENV_ID in card.data.tags and card.data.library_name == "stable-baselines3"
    value = card.data.to_dict()["model-index"][0]["results"][0]["metrics"][0]["value"]
    mean, std = (float(part) for part in value.split("+/-"))
    assert (mean, std) == (round(results["mean_reward"], 2), round(results["std_reward"], 2))

    # Unit 1's "Load a saved LunarLander model from the Hub" cell.
    filename = f"{model_name}.zip"
    custom_objects = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0}
    checkpoint = load_from_hub(repo_id, filename)
    loaded = PPO.load(checkpoint, custom_objects=custom_objects, print_system_info=True)
    eval_env = Monitor(gym.make(ENV_ID))
    mean_reward, std_reward = evaluate_policy(loaded, eval_env, n_eval_episodes=2, deterministic=True)
    assert isinstance(mean_reward, float) and isinstance(std_reward, float)
    observation, _ = eval_env.reset(seed=0)
    assert (
        loaded.predict(observation, deterministic=True)[0] == model.predict(observation, deterministic=True)[0]
    ).all()
