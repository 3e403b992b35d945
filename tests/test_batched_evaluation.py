"""Episodes played on several env copies at once: only for an env built from its id, as many copies as
``evaluation_copies(n_eval_episodes)`` says (never the CPU count), true returns, filming, VecNormalize, Atari."""

import copy
import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_atari_env, make_vec_env
from stable_baselines3.common.vec_env import VecFrameStack, VecNormalize

from huggingface_sb3 import EvaluationResult, evaluate_agent, load_agent
from huggingface_sb3.environments import make_env, prepare_eval_env
from huggingface_sb3.errors import CorruptArtifactError
from huggingface_sb3.evaluation import evaluate_and_record, evaluation_copies, run_evaluation
from huggingface_sb3.video import probe_video

from ._zoo_agents import zoo_experiment


def _from_id(model, env_id, n_eval_episodes, *, deterministic=True, seed=0, need_frames=False):
    evaluation_env = prepare_eval_env(None, env_id=env_id, model=model, need_frames=need_frames)
    try:
        return run_evaluation(
            model,
            evaluation_env,
            n_eval_episodes=n_eval_episodes,
            deterministic=deterministic,
            seed=seed,
            progress=False,
        )
    finally:
        evaluation_env.close()


def test_the_number_of_copies_depends_on_the_number_of_episodes_only(monkeypatch):
    assert [evaluation_copies(n) for n in (1, 2, 7, 8, 10, 50, 1000)] == [1, 2, 7, 8, 8, 8, 8]
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert evaluation_copies(50) == 8


@pytest.mark.parametrize("n_eval_episodes", [1, 3, 10])
def test_an_env_built_from_its_id_plays_on_several_copies_with_true_returns(ppo_cartpole, n_eval_episodes):
    result = _from_id(ppo_cartpole, "CartPole-v1", n_eval_episodes, deterministic=False, seed=4)
    assert result.n_envs == evaluation_copies(n_eval_episodes)
    assert result.n_eval_episodes == n_eval_episodes
    assert result.episode_returns == tuple(float(length) for length in result.episode_lengths)  # CartPole: +1 a step
    again = _from_id(ppo_cartpole, "CartPole-v1", n_eval_episodes, deterministic=False, seed=4)
    assert (again.episode_returns, again.episode_lengths) == (result.episode_returns, result.episode_lengths)


def test_the_copies_play_as_the_same_vec_env_built_by_hand(ppo_cartpole):
    """The batched evaluation is SB3's: sub-env i seeded with seed + i, the episodes split by the same targets."""
    batched = _from_id(ppo_cartpole, "CartPole-v1", 10, deterministic=False, seed=9)
    by_hand = evaluate_agent(
        ppo_cartpole, make_vec_env("CartPole-v1", n_envs=8), n_eval_episodes=10, deterministic=False, seed=9
    )
    assert (by_hand.n_envs, by_hand.episode_returns) == (8, batched.episode_returns)


def test_load_agents_env_is_rebuilt_with_copies_and_left_alone(ppo_cartpole):
    env = make_env("CartPole-v1", model=ppo_cartpole)  # what load_agent builds
    env.reset()
    state = copy.deepcopy(env.envs[0].unwrapped.state)
    result = evaluate_agent(ppo_cartpole, env, n_eval_episodes=5, deterministic=False, seed=2)
    assert result.n_envs == 5
    assert (
        result.episode_returns == _from_id(ppo_cartpole, "CartPole-v1", 5, deterministic=False, seed=2).episode_returns
    )
    assert np.array_equal(env.envs[0].unwrapped.state, state)  # the given env was not stepped


def test_an_env_the_user_built_is_played_as_given(ppo_cartpole):
    assert evaluate_agent(ppo_cartpole, gym.make("CartPole-v1"), n_eval_episodes=5, seed=0).n_envs == 1
    assert evaluate_agent(ppo_cartpole, make_vec_env("CartPole-v1", n_envs=3), n_eval_episodes=5, seed=0).n_envs == 3


def test_a_loaded_rl_zoo_agent_is_evaluated_on_copies():
    agent = load_agent(zoo_experiment("ppo", "CartPole-v1"), device="cpu")
    evaluation_env = prepare_eval_env(agent.env, env_id=agent.env_id, model=agent.model, need_frames=False)
    result = run_evaluation(agent.model, evaluation_env, n_eval_episodes=10, deterministic=True, seed=0, progress=False)
    assert result.n_envs == 8 and result.episode_returns == (500.0,) * 10


def test_vec_normalize_copies_use_frozen_statistics(a2c_pendulum_normalized):
    model, env = a2c_pendulum_normalized
    model.set_env(env)
    statistics = copy.deepcopy(env.obs_rms)
    batched = _from_id(model, "Pendulum-v1", 3, seed=5)
    assert batched.n_envs == 3
    assert np.array_equal(env.obs_rms.mean, statistics.mean) and np.array_equal(env.obs_rms.var, statistics.var)
    by_hand = VecNormalize(make_vec_env("Pendulum-v1", n_envs=3), training=False, norm_reward=False)
    by_hand.obs_rms = copy.deepcopy(statistics)
    assert evaluate_agent(model, by_hand, n_eval_episodes=3, seed=5).episode_returns == batched.episode_returns


def test_a_loaded_agent_with_vec_normalize_is_evaluated_on_copies():
    agent = load_agent(zoo_experiment("a2c", "Pendulum-v1"), device="cpu")
    assert isinstance(agent.env, VecNormalize)
    statistics = copy.deepcopy(agent.env.obs_rms.mean)
    result = evaluate_agent(agent.model, agent.env, n_eval_episodes=4, seed=0)
    assert result.n_envs == 4 and result.mean_reward > -400  # the Zoo publishes about -160
    assert np.array_equal(agent.env.obs_rms.mean, statistics)


def test_atari_copies_keep_the_preprocessing_and_frame_stack_and_true_game_returns():
    import ale_py
    from stable_baselines3 import PPO

    gym.register_envs(ale_py)
    env = VecFrameStack(make_atari_env("BreakoutNoFrameskip-v4", n_envs=1, seed=0), n_stack=4)
    model = PPO("CnnPolicy", env, n_steps=16, batch_size=16, seed=0, device="cpu")
    batched = _from_id(model, "BreakoutNoFrameskip-v4", 2, deterministic=False, seed=3)
    by_hand = evaluate_agent(
        model,
        VecFrameStack(make_atari_env("BreakoutNoFrameskip-v4", n_envs=2), n_stack=4),
        n_eval_episodes=2,
        deterministic=False,
        seed=3,
    )
    assert batched.n_envs == 2 and batched.episode_returns == by_hand.episode_returns
    assert all(length > 0 for length in batched.episode_lengths)  # whole games (five lives), not single lives


def test_filming_takes_the_first_copy_and_keeps_playing_for_a_long_video(ppo_cartpole, tmp_path):
    evaluation_env = prepare_eval_env(None, env_id="CartPole-v1", model=ppo_cartpole, need_frames=True)
    try:
        result, video = evaluate_and_record(
            ppo_cartpole, evaluation_env, tmp_path / "replay.mp4", fps=50, max_frames=400, n_eval_episodes=3,
            deterministic=False, seed=1, progress=False,
        )  # fmt: skip
    finally:
        evaluation_env.close()
    assert result.n_envs == 3 and sum(result.episode_lengths) < 400  # the video outlasts the counted episodes
    assert probe_video(video.path).frames == 400 == video.frames
    unfilmed = _from_id(ppo_cartpole, "CartPole-v1", 3, deterministic=False, seed=1)
    assert unfilmed.episode_returns == result.episode_returns


def test_torch_runs_on_one_thread_while_filming_and_gets_its_threads_back(ppo_cartpole):
    import torch

    class ThreadCounts:
        """A frame sink noting torch's thread count at each frame."""

        max_frames = 60

        def __init__(self):
            self.counts: list[int] = []

        @property
        def full(self):
            return len(self.counts) >= self.max_frames

        def add_frame(self, frame):
            self.counts.append(torch.get_num_threads())
            return True

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    evaluation_env = prepare_eval_env(None, env_id="CartPole-v1", model=ppo_cartpole, need_frames=True)
    try:
        sink = ThreadCounts()
        filmed = run_evaluation(
            ppo_cartpole, evaluation_env, n_eval_episodes=2, deterministic=True, seed=3, progress=False, frames=sink
        )
        assert sink.counts == [1] * 60  # the encoder has the other cores while frames are made
        assert torch.get_num_threads() == 2
    finally:
        evaluation_env.close()
        torch.set_num_threads(threads)
    assert filmed.episode_returns == _from_id(ppo_cartpole, "CartPole-v1", 2, seed=3).episode_returns


def test_n_envs_is_recorded_and_old_results_read_as_one_env(ppo_cartpole):
    result = _from_id(ppo_cartpole, "CartPole-v1", 4, seed=0)
    data = result.to_json()
    assert data["n_envs"] == 4
    assert EvaluationResult.from_json(data) == dataclasses.replace(
        result, duration_seconds=data["eval_duration_seconds"]
    )
    old = {key: value for key, value in data.items() if key != "n_envs"}
    assert EvaluationResult.from_json(old).n_envs == 1
    for bad in (0, "8", 2.0, True):
        with pytest.raises(CorruptArtifactError, match="n_envs"):
            EvaluationResult.from_json({**data, "n_envs": bad})
