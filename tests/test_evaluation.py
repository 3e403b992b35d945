"""evaluate_agent: true returns, seeds, determinism, wrappers, and the user's env left alone."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor

from huggingface_sb3 import EvaluationResult, evaluate_agent
from huggingface_sb3.errors import EvaluationError, InvalidArgumentError


def test_result_fields_and_reproducibility(ppo_cartpole):
    first = evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), n_eval_episodes=4, seed=11)
    again = evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), n_eval_episodes=4, seed=11)
    assert isinstance(first, EvaluationResult)
    assert first.episode_returns == again.episode_returns and first.n_eval_episodes == 4
    assert first.mean_reward == pytest.approx(np.mean(first.episode_returns))
    assert first.std_reward == pytest.approx(np.std(first.episode_returns))
    assert first.seed == 11 and first.deterministic is True
    assert first.eval_datetime.tzinfo is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.seed = 3  # type: ignore[misc]


def test_stochastic_evaluation_is_reproducible_and_restores_global_randomness(ppo_cartpole):
    import torch

    np.random.seed(123)
    torch.manual_seed(123)
    expected_numpy, expected_torch = np.random.rand(), torch.rand(1).item()
    np.random.seed(123)
    torch.manual_seed(123)
    one = evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), n_eval_episodes=3, deterministic=False, seed=5)
    assert (np.random.rand(), torch.rand(1).item()) == (expected_numpy, expected_torch)
    two = evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), n_eval_episodes=3, deterministic=False, seed=5)
    assert one.episode_returns == two.episode_returns and one.deterministic is False


def test_a_seed_is_drawn_and_reported_when_none_is_given(ppo_cartpole):
    result = evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), n_eval_episodes=1)
    assert isinstance(result.seed, int)
    assert (
        evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), n_eval_episodes=1, seed=result.seed).episode_returns
        == result.episode_returns
    )


def test_vec_envs_split_episodes_across_sub_envs(ppo_cartpole):
    result = evaluate_agent(ppo_cartpole, make_vec_env("CartPole-v1", n_envs=3), n_eval_episodes=7, seed=0)
    assert result.n_eval_episodes == 7 and all(length > 0 for length in result.episode_lengths)


def test_monitor_returns_are_used_beneath_reward_clipping(ppo_cartpole):
    class DoubleReward(gym.RewardWrapper):
        def reward(self, reward):
            return 2 * reward

    wrapped = DoubleReward(Monitor(gym.make("CartPole-v1")))
    result = evaluate_agent(ppo_cartpole, wrapped, n_eval_episodes=2, seed=0)
    assert result.episode_returns == tuple(float(length) for length in result.episode_lengths)


def test_reward_changing_wrappers_without_monitor_are_refused(ppo_cartpole):
    clipped = gym.wrappers.TransformReward(gym.make("CartPole-v1"), lambda reward: reward / 10)
    with pytest.raises(EvaluationError, match="Monitor"):
        evaluate_agent(ppo_cartpole, clipped, n_eval_episodes=1)


def test_atari_wrapper_without_monitor_is_refused_when_the_env_id_is_unknown():
    import ale_py
    from stable_baselines3 import DQN

    gym.register_envs(ale_py)
    env = AtariWrapper(gym.make("BreakoutNoFrameskip-v4"))
    model = DQN("CnnPolicy", env, buffer_size=100, learning_starts=0, device="cpu")
    with pytest.raises(EvaluationError, match="Monitor"):
        evaluate_agent(model, env, n_eval_episodes=1)


def test_zero_episodes_is_refused(ppo_cartpole):
    with pytest.raises(InvalidArgumentError):
        evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), n_eval_episodes=0)


def test_concurrent_evaluations_in_threads_get_the_returns_of_a_lone_run(ppo_cartpole):
    """Two evaluations of one model and seed in two threads (as two tasks of one Ray worker would run) must not
    draw from each other's seeded RNGs: stochastic actions make every draw count."""
    import threading

    def evaluate():
        return evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), n_eval_episodes=4, deterministic=False, seed=3)

    alone = evaluate().episode_returns
    start, results, errors = threading.Barrier(2), {}, []

    def run(name):
        try:
            start.wait()
            results[name] = evaluate().episode_returns
        except BaseException as error:  # surfaced below: pytest does not see errors in threads
            errors.append(error)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == {"a": alone, "b": alone}
