"""load_agent on real published agents, on repos laid out by this library, by 3.0 and by the RL Zoo."""

import importlib.util
import json
import shutil
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from huggingface_sb3 import LoadedAgent, load_agent, package_to_hub
from huggingface_sb3.errors import IntegrityError, MissingFileError, UnknownAlgorithmError
from huggingface_sb3.evaluation import evaluate_agent

from ._zoo_agents import ZOO_AGENTS, zoo_experiment, zoo_reference


def test_gym_is_not_installed():
    assert importlib.util.find_spec("gym") is None


@pytest.mark.parametrize(("algo", "env_id"), ZOO_AGENTS)
def test_published_agents_load_safely_and_score_like_the_zoo(algo, env_id):
    agent = load_agent(zoo_experiment(algo, env_id), device="cpu")
    assert isinstance(agent, LoadedAgent) and not agent.trusted
    assert (agent.algo.lower(), agent.env_id, agent.env_error) == (algo, env_id, None)
    n_episodes = 3 if env_id == "CartPole-v1" else 10
    result = evaluate_agent(agent.model, agent.env, n_eval_episodes=n_episodes, seed=0)
    mean, std = zoo_reference(algo, env_id)
    if env_id == "CartPole-v1":
        assert result.episode_returns == (500.0, 500.0, 500.0)
    else:  # within four standard errors of the Zoo's published mean
        assert abs(result.mean_reward - mean) <= 4 * max(std, 1.0) / n_episodes**0.5, (result.mean_reward, mean)
    assert len(agent.sha256) == 64


def test_old_schedules_become_documented_placeholders():
    agent = load_agent(zoo_experiment("ppo", "CartPole-v1"), device="cpu")
    assert set(agent.placeholders) == {"learning_rate", "lr_schedule", "clip_range"}
    with pytest.raises(RuntimeError, match="clip_range"):
        agent.model.clip_range(1.0)
    assert agent.model.lr_schedule(1.0) >= 0.0  # the saved optimizer's last learning rate


def test_ars_schedules_become_documented_placeholders():
    agent = load_agent(zoo_experiment("ars", "Acrobot-v1"), device="cpu")
    assert set(agent.placeholders) == {"learning_rate", "lr_schedule", "delta_std_schedule"}
    with pytest.raises(RuntimeError, match="delta_std_schedule"):
        agent.model.delta_std_schedule(1.0)


@pytest.mark.parametrize(("algo", "env_id"), [("ars", "Acrobot-v1"), ("ppo", "CartPole-v1")])
def test_an_agent_with_placeholders_saved_again_loads_again(algo, env_id, tmp_path):
    """push-to-hub of a published agent saves what load_agent built: placeholders must survive the round trip."""
    from stable_baselines3.common.utils import ConstantSchedule

    agent = load_agent(zoo_experiment(algo, env_id), device="cpu")
    agent.model.save(tmp_path / "again")
    again = load_agent(tmp_path / "again.zip", env_id=env_id, algo=agent.algo, device="cpu")
    if algo == "ppo":  # its learning rate had a constant (the optimizer's): now SB3's own ConstantSchedule
        assert isinstance(again.model.learning_rate, ConstantSchedule)
        assert set(again.placeholders) == {"clip_range"}
    else:  # ARS has no optimizer: every placeholder stays one
        assert set(again.placeholders) == {"learning_rate", "lr_schedule", "delta_std_schedule"}
    observation = agent.model.observation_space.sample()
    assert (
        again.model.predict(observation, deterministic=True)[0]
        == agent.model.predict(observation, deterministic=True)[0]
    ).all()


def test_vec_normalize_statistics_are_frozen():
    agent = load_agent(zoo_experiment("ppo", "MountainCarContinuous-v0"), device="cpu")
    assert type(agent.env).__name__ == "VecNormalize"
    assert agent.env.training is False and agent.env.norm_reward is False


def _zoo_repo(hub_api, repo_id, algo, env_id):
    """Upload a fixture the way the RL Zoo publishes it (sb3/ppo-CartPole-v1 and friends)."""
    folder = zoo_experiment(algo, env_id)
    hub_api.create_repo(repo_id)
    operations = {f"{algo}-{env_id}.zip": folder / f"{env_id}.zip"}
    for name in ("config.yml", "args.yml"):
        operations[name] = folder / env_id / name
    if (folder / env_id / "vecnormalize.pkl").exists():
        operations["vec_normalize.pkl"] = folder / env_id / "vecnormalize.pkl"
    from huggingface_hub import CommitOperationAdd

    card = (
        f"---\nlibrary_name: stable-baselines3\ntags:\n- {env_id}\nmodel-index:\n- name: {algo.upper()}\n  results:\n"
        f"  - task: {{type: reinforcement-learning, name: reinforcement-learning}}\n"
        f"    dataset: {{name: {env_id}, type: {env_id}}}\n"
        "    metrics:\n    - {type: mean_reward, value: 500.00 +/- 0.00, name: mean_reward, verified: false}\n---\n"
        f"# **{algo.upper()}** Agent playing **{env_id}**\n"
    )
    hub_api.create_commit(
        repo_id,
        operations=[CommitOperationAdd(name, path) for name, path in operations.items()]
        + [CommitOperationAdd("README.md", card.encode()), CommitOperationAdd("train_eval_metrics.zip", b"PK")],
        commit_message="Zoo layout",
    )


@pytest.mark.parametrize(("algo", "env_id"), [("ppo", "MountainCarContinuous-v0"), ("qrdqn", "CartPole-v1")])
def test_a_repo_laid_out_like_the_rl_zoo_loads(hub_api, hub_repo_id, algo, env_id, tmp_path):
    _zoo_repo(hub_api, hub_repo_id, algo, env_id)
    agent = load_agent(hub_repo_id, cache_dir=tmp_path, device="cpu")
    assert (agent.filename, agent.env_id) == (f"{algo}-{env_id}.zip", env_id)
    assert agent.revision == hub_api.model_info(hub_repo_id).sha
    assert agent.card["library_name"] == "stable-baselines3"
    assert evaluate_agent(agent.model, agent.env, n_eval_episodes=1, seed=0).mean_reward > (
        80 if env_id.startswith("Mountain") else 499
    )


def test_a_repo_laid_out_like_3_0_loads(ppo_cartpole, hub_api, hub_repo_id, tmp_path):
    import zipfile

    from huggingface_hub import CommitOperationAdd

    from huggingface_sb3.card import generate_metadata

    ppo_cartpole.save(tmp_path / "ppo-CartPole-v1")
    zip_path = tmp_path / "ppo-CartPole-v1.zip"
    with zipfile.ZipFile(zip_path) as archive:
        members = {f"ppo-CartPole-v1/{name}": archive.read(name) for name in archive.namelist()}
        config = json.loads(archive.read("data"))
    metadata = generate_metadata("PPO", "CartPole-v1", 9.0, 1.0)
    import yaml

    readme = f"---\n{yaml.safe_dump(metadata)}---\n  # **PPO** Agent playing **CartPole-v1**\n  TODO: Add your code\n"
    results = {"mean_reward": 9.0, "std_reward": 1.0, "is_deterministic": True, "n_eval_episodes": 10,
               "eval_datetime": "2022-06-01T10:00:00.000000"}  # fmt: skip
    hub_api.create_repo(hub_repo_id)
    hub_api.create_commit(
        hub_repo_id,
        operations=[
            CommitOperationAdd("ppo-CartPole-v1.zip", zip_path),
            CommitOperationAdd("config.json", json.dumps(config).encode()),
            CommitOperationAdd("results.json", json.dumps(results).encode()),
            CommitOperationAdd("README.md", readme.encode()),
            *[CommitOperationAdd(name, content) for name, content in members.items()],
        ],
        commit_message="3.0 layout",
    )
    agent = load_agent(hub_repo_id, cache_dir=tmp_path / "cache", device="cpu")
    assert (agent.algo, agent.env_id, agent.filename) == ("PPO", "CartPole-v1", "ppo-CartPole-v1.zip")
    assert agent.results["mean_reward"] == 9.0


def _same_actions(first, second, env_id, n=64):
    space = gym.make(env_id).observation_space
    space.seed(0)
    observations = np.stack([space.sample() for _ in range(n)])
    return np.array_equal(
        first.predict(observations, deterministic=True)[0], second.predict(observations, deterministic=True)[0]
    )


def test_round_trip_from_package_to_hub(ppo_cartpole, hub_api, hub_repo_id, tmp_path):
    package_to_hub(ppo_cartpole, "ppo-CartPole-v1", "PPO", "CartPole-v1", None, hub_repo_id, "Upload",
                   n_eval_episodes=1, video=False, progress=False)  # fmt: skip
    agent = load_agent(hub_repo_id, cache_dir=tmp_path, device="cpu")
    assert agent.placeholders == () and agent.algo == "PPO" and agent.env_id == "CartPole-v1"
    assert _same_actions(ppo_cartpole, agent.model, "CartPole-v1")
    assert agent.results["n_eval_episodes"] == 1


def test_round_trip_with_vec_normalize_uses_the_pickle_free_statistics(a2c_pendulum_normalized, hub_repo_id, tmp_path):
    model, env = a2c_pendulum_normalized
    package_to_hub(model, "a2c-Pendulum-v1", "A2C", "Pendulum-v1", env, hub_repo_id, "Upload",
                   n_eval_episodes=1, video=False, progress=False)  # fmt: skip
    agent = load_agent(hub_repo_id, cache_dir=tmp_path, device="cpu")
    assert np.allclose(agent.env.obs_rms.mean, env.obs_rms.mean) and agent.env.training is False
    observation = np.array([[0.5, -0.2, 1.0]], dtype=np.float32)
    assert np.allclose(agent.env.normalize_obs(observation), env.normalize_obs(observation))
    assert _same_actions(model, agent.model, "Pendulum-v1")


def test_a_pinned_revision_returns_the_old_agent(ppo_cartpole, dqn_cartpole, hub_api, hub_repo_id, tmp_path):
    package_to_hub(ppo_cartpole, "agent", "PPO", "CartPole-v1", None, hub_repo_id, "v1", n_eval_episodes=1,
                   video=False, progress=False)  # fmt: skip
    first = hub_api.model_info(hub_repo_id).sha
    package_to_hub(dqn_cartpole, "agent", "DQN", "CartPole-v1", None, hub_repo_id, "v2", n_eval_episodes=1,
                   video=False, progress=False)  # fmt: skip
    assert load_agent(hub_repo_id, cache_dir=tmp_path, device="cpu").algo == "DQN"
    old = load_agent(hub_repo_id, revision=first, cache_dir=tmp_path, device="cpu")
    assert (old.algo, old.revision) == ("PPO", first)


def test_a_warm_load_at_a_pinned_commit_downloads_no_file(ppo_cartpole, local_hub, hub_api, hub_repo_id, tmp_path):
    package_to_hub(ppo_cartpole, "agent", "PPO", "CartPole-v1", None, hub_repo_id, "v1", n_eval_episodes=1,
                   video=False, progress=False)  # fmt: skip
    commit = load_agent(hub_repo_id, cache_dir=tmp_path, device="cpu").revision
    before = local_hub.requests_received
    agent = load_agent(hub_repo_id, revision=commit, cache_dir=tmp_path, device="cpu")
    assert local_hub.requests_received - before == 1  # the revision's metadata; every file comes from the cache
    assert "/resolve/" not in local_hub.recent_requests[-1][1]
    offline = load_agent(hub_repo_id, revision=commit, cache_dir=tmp_path, device="cpu", local_files_only=True)
    assert offline.sha256 == agent.sha256 and local_hub.requests_received - before == 1


def test_a_tampered_blob_is_detected(ppo_cartpole, local_hub, hub_api, hub_repo_id, tmp_path):
    package_to_hub(ppo_cartpole, "agent", "PPO", "CartPole-v1", None, hub_repo_id, "v1", n_eval_episodes=1,
                   video=False, progress=False)  # fmt: skip
    sibling = next(
        s for s in hub_api.model_info(hub_repo_id, files_metadata=True).siblings if s.rfilename == "agent.zip"
    )
    namespace, name = hub_repo_id.split("/")
    assert sibling.lfs is not None  # *.zip is LFS-tracked: the Hub stores the zip as an LFS object
    oid = sibling.lfs.sha256
    served = local_hub.data_dir / "repos" / "models" / namespace / name / "lfs" / oid[:2] / oid[2:4] / oid
    original = Path(hub_api.hf_hub_download(hub_repo_id, "agent.zip", cache_dir=tmp_path / "peek")).read_bytes()
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0xFF
    served.write_bytes(bytes(tampered))
    with pytest.raises(IntegrityError, match="does not match the checksum"):
        load_agent(hub_repo_id, cache_dir=tmp_path / "fresh", device="cpu")


def test_errors_when_the_agent_cannot_be_found(hub_api, hub_repo_id, tmp_path):
    hub_api.create_repo(hub_repo_id)
    with pytest.raises(MissingFileError, match="Pass filename="):
        load_agent(hub_repo_id, cache_dir=tmp_path)
    shutil.copy(zoo_experiment("ppo", "CartPole-v1") / "CartPole-v1.zip", tmp_path / "agent.zip")
    with pytest.raises(UnknownAlgorithmError, match="Unknown algorithm 'NOPE'"):
        load_agent(tmp_path / "agent.zip", algo="NOPE")


def test_an_env_that_cannot_be_built_is_reported_not_raised(tmp_path):
    shutil.copy(zoo_experiment("ppo", "CartPole-v1") / "CartPole-v1.zip", tmp_path / "agent.zip")
    agent = load_agent(tmp_path / "agent.zip", device="cpu")
    assert agent.env is None and "env_id" in agent.env_error
    assert agent.algo == "PPO"  # guessed from the zip (ActorCriticPolicy + clip_range)
    explicit = load_agent(tmp_path / "agent.zip", env_id="CartPole-v1", device="cpu")
    assert explicit.env is not None


ALGORITHM_CASES = [
    ("A2C", "CartPole-v1", {}),
    ("PPO", "CartPole-v1", {"n_steps": 64, "batch_size": 32}),
    ("DQN", "CartPole-v1", {"learning_starts": 10}),
    ("SAC", "Pendulum-v1", {"learning_starts": 10}),
    ("TD3", "Pendulum-v1", {"learning_starts": 10}),
    ("DDPG", "Pendulum-v1", {"learning_starts": 10}),
    ("QRDQN", "CartPole-v1", {"learning_starts": 10}),
    ("TQC", "Pendulum-v1", {"learning_starts": 10}),
    ("TRPO", "CartPole-v1", {"n_steps": 64, "batch_size": 32}),
    ("ARS", "CartPole-v1", {"n_delta": 2}),
    ("RecurrentPPO", "CartPole-v1", {"n_steps": 32, "batch_size": 32}),
    ("CrossQ", "Pendulum-v1", {"learning_starts": 10}),
]


@pytest.mark.parametrize(("name", "env_id", "options"), ALGORITHM_CASES, ids=[case[0] for case in ALGORITHM_CASES])
def test_every_algorithm_loads_safely_and_acts_the_same(name, env_id, options, tmp_path):
    import sb3_contrib
    import stable_baselines3

    algorithm = getattr(stable_baselines3, name, None) or getattr(sb3_contrib, name)
    policy = "MlpLstmPolicy" if name == "RecurrentPPO" else "MlpPolicy"
    model = algorithm(policy, env_id, seed=0, device="cpu", **options).learn(64)
    model.save(tmp_path / "agent")
    agent = load_agent(tmp_path / "agent.zip", env_id=env_id, device="cpu")
    assert (agent.algo, agent.placeholders) == (name, ())  # the algorithm is recognised from the zip alone
    if name != "RecurrentPPO":
        assert _same_actions(model, agent.model, env_id)


def test_maskable_ppo_loads_with_its_env(tmp_path):
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.envs import InvalidActionEnvDiscrete

    env = InvalidActionEnvDiscrete(dim=5, n_invalid_actions=2)
    model = MaskablePPO("MlpPolicy", env, n_steps=32, batch_size=32, seed=0, device="cpu").learn(32)
    model.save(tmp_path / "agent")
    agent = load_agent(tmp_path / "agent.zip", env=env, device="cpu")
    assert agent.algo == "MaskablePPO" and agent.env is not None


def test_an_unreachable_hub_falls_back_to_the_cache_or_says_so(ppo_cartpole, hub_repo_id, tmp_path):
    from huggingface_sb3.errors import HubRequestError

    package_to_hub(ppo_cartpole, "agent", "PPO", "CartPole-v1", None, hub_repo_id, "v1", n_eval_episodes=1,
                   video=False, progress=False)  # fmt: skip
    online = load_agent(hub_repo_id, cache_dir=tmp_path, device="cpu")
    unreachable = "http://127.0.0.1:9"
    cached = load_agent(hub_repo_id, cache_dir=tmp_path, device="cpu", endpoint=unreachable)
    assert (cached.sha256, cached.revision) == (online.sha256, online.revision)
    with pytest.raises(HubRequestError, match=r"Cannot reach http://127\.0\.0\.1:9"):
        load_agent(hub_repo_id + "-never-downloaded", cache_dir=tmp_path, endpoint=unreachable)
