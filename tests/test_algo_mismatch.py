"""A model_architecture / algo that is not the agent's is refused with the fix, before anything is written or
loaded (issue 10: the card said DQN for a PPO agent, and loading died with an AttributeError)."""

import json
from pathlib import Path

import gymnasium as gym
import pytest

from huggingface_sb3 import load_agent, package_to_hub
from huggingface_sb3.agent_files import algorithm_mismatch
from huggingface_sb3.errors import CorruptArtifactError, HuggingFaceSB3Error, InvalidArgumentError

from .test_cli import cli

CARD_CLAIMING_DQN = """---
library_name: stable-baselines3
tags:
- CartPole-v1
- reinforcement-learning
- stable-baselines3
model-index:
- name: DQN
  results:
  - task:
      type: reinforcement-learning
      name: reinforcement-learning
    dataset:
      name: CartPole-v1
      type: CartPole-v1
    metrics:
    - type: mean_reward
      value: 500.00 +/- 0.00
      name: mean_reward
---
# DQN agent playing CartPole-v1
"""


def _dry_run(model, local_dir, model_architecture, **options):
    return package_to_hub(
        model, "agent", model_architecture, "CartPole-v1", gym.make("CartPole-v1"), "you/agent", "Upload",
        n_eval_episodes=1, video=False, seed=0, progress=False, push=False, local_dir=local_dir, **options,
    )  # fmt: skip


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.fixture(scope="module")
def ppo_zip(tmp_path_factory, ppo_cartpole):
    folder = tmp_path_factory.mktemp("ppo")
    ppo_cartpole.save(folder / "ppo-CartPole-v1")
    return folder / "ppo-CartPole-v1.zip"


@pytest.fixture(scope="module")
def dqn_zip(tmp_path_factory, dqn_cartpole):
    folder = tmp_path_factory.mktemp("dqn")
    dqn_cartpole.save(folder / "dqn-CartPole-v1")
    return folder / "dqn-CartPole-v1.zip"


@pytest.fixture
def mismatched_repo(hub_api, hub_repo_id, ppo_zip):
    """A repo whose card claims DQN beside a PPO zip."""
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=str(ppo_zip), path_in_repo="ppo-CartPole-v1.zip", repo_id=hub_repo_id)
    hub_api.upload_file(path_or_fileobj=CARD_CLAIMING_DQN.encode(), path_in_repo="README.md", repo_id=hub_repo_id)
    return hub_repo_id


# package_to_hub


def test_a_wrong_architecture_is_refused_before_anything_is_written(ppo_cartpole, tmp_path):
    local_dir = tmp_path / "repo"
    with pytest.raises(InvalidArgumentError) as error:
        _dry_run(ppo_cartpole, local_dir, "DQN")
    message = _one_line(error)
    assert "model_architecture='DQN'" in message and "which is a PPO" in message
    assert "model_architecture='PPO'" in message and "leave it out" in message
    assert "--algo" not in message  # Python advice in Python; the command line rewrites it to its flag
    assert not local_dir.exists()


def test_a_wrong_architecture_never_reaches_the_hub(ppo_cartpole, hub_api, hub_repo_id):
    arguments = {"n_eval_episodes": 1, "video": False, "progress": False}
    with pytest.raises(InvalidArgumentError, match="model_architecture='dqn'"):
        package_to_hub(ppo_cartpole, "agent", "dqn", "CartPole-v1", None, hub_repo_id, "Upload", **arguments)
    assert not hub_api.repo_exists(hub_repo_id)

    package_to_hub(ppo_cartpole, "agent", "PPO", "CartPole-v1", None, hub_repo_id, "Upload", **arguments)
    head = hub_api.model_info(hub_repo_id).sha
    with pytest.raises(InvalidArgumentError, match="which is a PPO"):
        package_to_hub(ppo_cartpole, "agent", "A2C", "CartPole-v1", None, hub_repo_id, "Again", **arguments)
    assert hub_api.model_info(hub_repo_id).sha == head


def test_a_dqn_model_named_ppo_is_refused(dqn_cartpole, tmp_path):
    with pytest.raises(InvalidArgumentError) as error:
        _dry_run(dqn_cartpole, tmp_path / "repo", "ppo")
    assert "which is a DQN" in _one_line(error) and "model_architecture='DQN'" in str(error.value)
    assert not (tmp_path / "repo").exists()


@pytest.mark.parametrize("name", ["ppo", "Ppo", "PPO", None])
def test_names_are_case_insensitive_and_none_is_detected(ppo_cartpole, tmp_path, name):
    result = _dry_run(ppo_cartpole, tmp_path / "repo", name)
    results = json.loads((Path(result) / "results.json").read_text())
    assert results["algo"] == (name or "PPO")


def test_sb3_contrib_algorithms_are_checked_too(tmp_path):
    from sb3_contrib import QRDQN

    model = QRDQN("MlpPolicy", "CartPole-v1", learning_starts=0, buffer_size=100, seed=0, device="cpu")
    _dry_run(model, tmp_path / "ok", "qrdqn")
    with pytest.raises(InvalidArgumentError) as error:
        _dry_run(model, tmp_path / "wrong", "DQN")
    assert "which is a QRDQN" in _one_line(error) and "model_architecture='QRDQN'" in str(error.value)
    assert not (tmp_path / "wrong").exists()


def test_a_subclass_may_be_named_after_its_algorithm(tmp_path):
    from stable_baselines3 import PPO

    class TunedPPO(PPO):
        pass

    model = TunedPPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, seed=0, device="cpu")
    _dry_run(model, tmp_path / "ppo", "PPO")
    _dry_run(model, tmp_path / "tuned", "TunedPPO")
    with pytest.raises(InvalidArgumentError, match=r"which is a TunedPPO \(a PPO\)\. Pass model_architecture='PPO'"):
        _dry_run(model, tmp_path / "wrong", "SAC")


# load_agent


def test_an_explicit_algo_that_does_not_match_the_zip_is_refused(ppo_zip, dqn_zip):
    with pytest.raises(InvalidArgumentError) as error:
        load_agent(ppo_zip, algo="DQN", device="cpu")
    message = _one_line(error)
    assert "algo='DQN'" in message and "PPO agent" in message and "ActorCriticPolicy" in message
    assert "algo='PPO'" in message and "leave it out" in message

    with pytest.raises(InvalidArgumentError, match=r"DQN agent \(policy stable_baselines3\.dqn\.policies\.DQNPolicy"):
        load_agent(dqn_zip, algo="ppo", device="cpu")
    with pytest.raises(InvalidArgumentError, match=r"algo='A2C'.*PPO agent"):
        load_agent(ppo_zip, algo="A2C", device="cpu")

    assert load_agent(ppo_zip, algo="ppo", device="cpu").algo == "PPO"
    assert load_agent(dqn_zip, device="cpu").algo == "DQN"


def test_a_card_claiming_another_algorithm_is_refused(mismatched_repo):
    with pytest.raises(CorruptArtifactError) as error:
        load_agent(mismatched_repo, device="cpu")
    message = _one_line(error)
    assert f"README.md of {mismatched_repo} claims the algorithm 'DQN'" in message
    assert "ppo-CartPole-v1.zip is a PPO agent" in message and "ActorCriticPolicy" in message
    assert "algo='PPO'" in message
    assert isinstance(error.value, HuggingFaceSB3Error) and not isinstance(error.value, AttributeError)

    agent = load_agent(mismatched_repo, algo="PPO", device="cpu")  # the fix the message names
    assert agent.algo == "PPO" and type(agent.model).__name__ == "PPO"


def test_data_that_cannot_tell_does_not_block():
    assert algorithm_mismatch("DQN", {}) is None
    assert algorithm_mismatch("DQN", {"policy_class": {"__module__": "my_project.policies"}}) is None
    assert algorithm_mismatch("MyAlgo", {"policy_class": {"__module__": "stable_baselines3.dqn.policies"}}) is None
    td3_module = {"__module__": "stable_baselines3.td3.policies"}
    ddpg_like = {"policy_class": td3_module, "policy_delay": 1, "target_noise_clip": 0.0}
    assert algorithm_mismatch("TD3", ddpg_like) is None  # a TD3 agent may have DDPG's settings
    assert algorithm_mismatch("DDPG", {"policy_class": td3_module, "policy_delay": 2}) == "TD3"
    recurrent = {"policy_class": {"__module__": "sb3_contrib.common.recurrent.policies"}}
    assert algorithm_mismatch("ppo_lstm", recurrent) is None and algorithm_mismatch("PPO", recurrent) == "RecurrentPPO"


# command line


def test_evaluate_on_a_mismatched_repo_exits_1_with_one_line(mismatched_repo):
    result = cli("huggingface-sb3", "evaluate", mismatched_repo, "--n-eval-episodes", "1")
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "claims the algorithm 'DQN'" in result.stderr and "Pass --algo PPO to load it" in result.stderr
    assert "algo=" not in result.stderr
    assert "Traceback" not in result.stderr and "AttributeError" not in result.stderr


def test_push_to_hub_with_a_wrong_algo_exits_1_and_pushes_nothing(ppo_zip, hub_api, hub_repo_id):
    result = cli("push-to-hub", str(ppo_zip), "--algo", "dqn", "--env-id", "CartPole-v1", "--repo-id", hub_repo_id,
                 "--n-eval-episodes", "1", "--no-video")  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "--algo dqn does not match" in result.stderr and "Pass --algo PPO, or leave it out" in result.stderr
    assert "algo=" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not hub_api.repo_exists(hub_repo_id)
