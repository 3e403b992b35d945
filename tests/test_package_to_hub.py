"""package_to_hub end to end: real tiny agents, the local Hub, real videos, the card parsed back."""

import json
import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from huggingface_hub import HfApi, ModelCard

from huggingface_sb3 import package_to_hub
from huggingface_sb3.card import BODY_BEGIN
from huggingface_sb3.errors import (
    EnvironmentNotRenderableError,
    HubAccessError,
    InvalidArgumentError,
    InvalidRepoIdError,
    MissingFileError,
    MissingTokenError,
    UnknownEnvironmentError,
    UnsupportedModelError,
)
from huggingface_sb3.video import probe_video


def _package(model, repo_id, **options):
    arguments = {
        "model_name": "ppo-CartPole-v1",
        "model_architecture": "PPO",
        "env_id": "CartPole-v1",
        "eval_env": gym.make("CartPole-v1", render_mode="rgb_array"),
        "repo_id": repo_id,
        "commit_message": "Upload agent",
        "n_eval_episodes": 3,
        "video_length": 40,
        "seed": 7,
        "progress": False,
    }
    arguments.update(options)
    return package_to_hub(model, **arguments)


def _download_json(hub_api, repo_id, filename, revision=None):
    return json.loads(Path(hub_api.hf_hub_download(repo_id, filename, revision=revision)).read_text())


def _walk(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_ppo_cartpole_lands_in_one_commit_with_every_file(ppo_cartpole, hub_api, hub_repo_id, tmp_path):
    result = _package(ppo_cartpole, hub_repo_id)

    commits = hub_api.list_repo_commits(hub_repo_id)
    assert [commit.title for commit in commits] == ["Upload agent", "initial commit"]
    assert result == result.commit_url and isinstance(result, str)
    assert result.commit_id == commits[0].commit_id == hub_api.model_info(hub_repo_id).sha
    assert result.commit_url.endswith(f"/{hub_repo_id}/commit/{result.commit_id}")
    assert sorted(hub_api.list_repo_files(hub_repo_id)) == [
        ".gitattributes", "README.md", "config.json", "ppo-CartPole-v1.zip", "replay.mp4", "results.json",
    ]  # fmt: skip
    assert set(result.files) == {"README.md", "config.json", "ppo-CartPole-v1.zip", "replay.mp4", "results.json"}

    config = _download_json(hub_api, hub_repo_id, "config.json")
    assert ":serialized:" not in set(_walk(config))
    assert config["gamma"] == ppo_cartpole.gamma and config["n_steps"] == 128
    assert config["observation_space"][":type:"].endswith("Box'>")
    assert "Stable-Baselines3" in config["system_info"]

    results = _download_json(hub_api, hub_repo_id, "results.json")
    assert results["n_eval_episodes"] == 3 and len(results["episode_returns"]) == 3
    assert results["is_deterministic"] is True and results["seed"] == 7
    assert results["mean_reward"] == pytest.approx(np.mean(results["episode_returns"]))
    assert results["std_reward"] == pytest.approx(np.std(results["episode_returns"]))
    assert results["eval_datetime"].endswith("+00:00")
    assert results["library_versions"]["stable-baselines3"]
    assert results["episode_lengths"] == [int(r) for r in results["episode_returns"]]  # CartPole: +1 per step

    video = probe_video(hub_api.hf_hub_download(hub_repo_id, "replay.mp4"))
    assert (video.codec, video.pix_fmt, video.width, video.height) == ("h264", "yuv420p", 600, 400)
    assert video.frames == 40 and video.fps == pytest.approx(50)

    card = ModelCard.load(hub_repo_id)
    assert card.data.library_name == "stable-baselines3"
    assert {"CartPole-v1", "deep-reinforcement-learning", "reinforcement-learning", "stable-baselines3"} <= set(
        card.data.tags
    )
    raw_index = card.data.to_dict()["model-index"]
    assert len(raw_index) == 1 and raw_index[0]["name"] == "PPO"
    (result_entry,) = raw_index[0]["results"]
    assert result_entry["dataset"] == {"name": "CartPole-v1", "type": "CartPole-v1"}
    (metric,) = result_entry["metrics"]
    assert metric["type"] == "mean_reward"
    assert metric["value"] == f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"
    assert "## Evaluation" in card.text and "## Usage" in card.text and "replay.mp4" in card.text


def test_the_card_usage_code_runs_as_written(ppo_cartpole, hub_repo_id):
    _package(ppo_cartpole, hub_repo_id, video=False)
    card = ModelCard.load(hub_repo_id)
    code = re.search(r"```python\n(.*?)```", card.text, re.DOTALL).group(1)
    code = code.replace("range(1000)", "range(20)")
    namespace: dict = {}
    exec(compile(code, "model-card-usage", "exec"), namespace)
    assert type(namespace["agent"].model).__name__ == "PPO" and namespace["agent"].placeholders == ()


def test_dqn_on_cartpole(dqn_cartpole, hub_api, hub_repo_id):
    result = _package(dqn_cartpole, hub_repo_id, model_name="dqn-CartPole-v1", model_architecture="DQN")
    assert "dqn-CartPole-v1.zip" in hub_api.list_repo_files(hub_repo_id)
    assert ModelCard.load(hub_repo_id).data.to_dict()["model-index"][0]["name"] == "DQN"
    assert result.evaluation.n_eval_episodes == 3


def test_vec_normalize_statistics_are_published_and_the_user_env_is_unchanged(
    a2c_pendulum_normalized, hub_api, hub_repo_id
):
    model, env = a2c_pendulum_normalized
    mean_before, count_before = env.obs_rms.mean.copy(), env.obs_rms.count
    package_to_hub(
        model, "a2c-Pendulum-v1", "A2C", "Pendulum-v1", env, hub_repo_id, "Upload",
        n_eval_episodes=2, video_length=30, progress=False,
    )  # fmt: skip
    assert env.training is True and env.norm_reward is True
    assert env.obs_rms.count == count_before and np.array_equal(env.obs_rms.mean, mean_before)
    files = hub_api.list_repo_files(hub_repo_id)
    assert {"vec_normalize.pkl", "vec_normalize.json"} <= set(files)
    stats = _download_json(hub_api, hub_repo_id, "vec_normalize.json")
    assert np.allclose(stats["obs_rms"]["mean"], env.obs_rms.mean) and stats["obs_rms"]["count"] == count_before
    assert stats["norm_obs"] is True and stats["clip_obs"] == env.clip_obs
    results = _download_json(hub_api, hub_repo_id, "results.json")
    assert all(length == 200 for length in results["episode_lengths"])  # Pendulum's time limit
    assert all(-2000 < value < 0 for value in results["episode_returns"])  # raw Pendulum rewards, not normalised


def test_normalized_card_usage_loads_the_statistics(a2c_pendulum_normalized, hub_repo_id):
    model, env = a2c_pendulum_normalized
    package_to_hub(
        model,
        "a2c-Pendulum-v1",
        "A2C",
        "Pendulum-v1",
        env,
        hub_repo_id,
        "Upload",
        n_eval_episodes=1,
        video=False,
        progress=False,
    )
    code = re.search(r"```python\n(.*?)```", ModelCard.load(hub_repo_id).text, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code.replace("range(1000)", "range(5)"), "usage", "exec"), namespace)
    loaded_env = namespace["agent"].env
    assert loaded_env.training is False and loaded_env.obs_rms.count == env.obs_rms.count


def test_a_second_packaging_removes_stale_files_and_keeps_hand_added_ones(ppo_cartpole, hub_api, hub_repo_id, tmp_path):
    logs = tmp_path / "logs" / "PPO_1"
    logs.mkdir(parents=True)
    (logs / "events.out.tfevents.1").write_bytes(b"run one")
    _package(ppo_cartpole, hub_repo_id, logs=tmp_path / "logs")
    hub_api.upload_file(path_or_fileobj=b"my notes", path_in_repo="NOTES.md", repo_id=hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"{}", path_in_repo="ppo-CartPole-v1/data", repo_id=hub_repo_id)
    assert "logs/PPO_1/events.out.tfevents.1" in hub_api.list_repo_files(hub_repo_id)

    second = _package(ppo_cartpole, hub_repo_id, video=False, commit_message="Again")

    files = set(hub_api.list_repo_files(hub_repo_id))
    assert "NOTES.md" in files
    assert not {"replay.mp4", "logs/PPO_1/events.out.tfevents.1", "ppo-CartPole-v1/data"} & files
    assert set(second.deleted) == {"replay.mp4", "logs/PPO_1/events.out.tfevents.1", "ppo-CartPole-v1/data"}
    assert second.skipped == {"video": "video=False was passed"}
    assert _download_json(hub_api, hub_repo_id, "results.json")["skipped"] == {"video": "video=False was passed"}
    assert hub_api.list_repo_commits(hub_repo_id)[0].title == "Again"


def test_an_existing_readme_keeps_its_prose_and_metadata(ppo_cartpole, hub_api, hub_repo_id):
    hub_api.create_repo(hub_repo_id)
    readme = "---\nlicense: apache-2.0\ntags:\n- my-tag\n---\n# My agent\n\nI trained this on a Sunday.\n"
    hub_api.upload_file(path_or_fileobj=readme.encode(), path_in_repo="README.md", repo_id=hub_repo_id)
    _package(ppo_cartpole, hub_repo_id, video=False)
    card = ModelCard.load(hub_repo_id)
    assert card.text.startswith("# My agent\n\nI trained this on a Sunday.")
    assert card.data.license == "apache-2.0" and "my-tag" in card.data.tags and "CartPole-v1" in card.data.tags
    _package(ppo_cartpole, hub_repo_id, video=False, license="mit")
    again = ModelCard.load(hub_repo_id)
    assert again.text.count(BODY_BEGIN) == 1 and "I trained this on a Sunday." in again.text
    assert again.data.license == "mit"


def test_dry_run_builds_the_folder_and_sends_no_request(ppo_cartpole, local_hub, hub_api, hub_repo_id, tmp_path):
    before = local_hub.requests_received
    result = _package(ppo_cartpole, hub_repo_id, push=False, local_dir=tmp_path / "repo")
    assert local_hub.requests_received == before
    assert result == str(tmp_path / "repo") and result.commit_id is None and result.local_dir == tmp_path / "repo"
    with pytest.raises(FrozenInstanceError):
        result.commit_id = "changed"
    with pytest.raises(FrozenInstanceError):
        del result.local_dir
    assert sorted(path.name for path in (tmp_path / "repo").iterdir()) == [
        "README.md", "config.json", "ppo-CartPole-v1.zip", "replay.mp4", "results.json",
    ]  # fmt: skip
    assert not hub_api.repo_exists(hub_repo_id)


def test_private_branch_and_pull_request(ppo_cartpole, hub_api, hub_repo_id, local_hub):
    _package(ppo_cartpole, hub_repo_id, private=True, revision="experiments", video=False)
    assert hub_api.model_info(hub_repo_id).private is True
    assert "config.json" in hub_api.list_repo_files(hub_repo_id, revision="experiments")
    assert "config.json" not in hub_api.list_repo_files(hub_repo_id)
    assert not HfApi(endpoint=local_hub.endpoint, token=False).repo_exists(hub_repo_id)
    proposal = _package(ppo_cartpole, hub_repo_id, create_pr=True, video=False)
    assert proposal.pr_url.endswith("/discussions/1")
    assert "config.json" in hub_api.list_repo_files(hub_repo_id, revision="refs/pr/1")
    assert "config.json" not in hub_api.list_repo_files(hub_repo_id)


def test_extra_files_and_tags(ppo_cartpole, hub_api, hub_repo_id, tmp_path):
    (tmp_path / "config.yml").write_text("!!python/object/apply:collections.OrderedDict\n- - - n_steps\n    - 32\n")
    (tmp_path / "env_kwargs.yml").write_text("{}\n")
    _package(
        ppo_cartpole, hub_repo_id, video=False, tags=["rl-zoo"],
        extra_files=[tmp_path / "env_kwargs.yml", tmp_path / "config.yml"],
    )  # fmt: skip
    assert {"config.yml", "env_kwargs.yml"} <= set(hub_api.list_repo_files(hub_repo_id))
    assert "rl-zoo" in ModelCard.load(hub_repo_id).data.tags


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"repo_id": "not a repo id"}, InvalidRepoIdError),
        ({"repo_id": "no-namespace"}, InvalidRepoIdError),
        ({"env_id": "CartPole-v99"}, UnknownEnvironmentError),
        ({"env_id": "NoSuchGameNoFrameskip-v4"}, UnknownEnvironmentError),
        ({"eval_env": "gym-make-without-render-mode"}, EnvironmentNotRenderableError),
        ({"model": "not a model"}, UnsupportedModelError),
        ({"model_name": "a/b"}, InvalidArgumentError),
        ({"n_eval_episodes": 0}, InvalidArgumentError),
        ({"video_length": 0}, InvalidArgumentError),
        ({"logs": "/no/such/folder"}, MissingFileError),
        ({"extra_files": ["/no/such/file.yml"]}, MissingFileError),
        ({"push": False}, InvalidArgumentError),
    ],
)
def test_user_errors_raise_before_the_hub_sees_a_request(ppo_cartpole, local_hub, hub_repo_id, change, error):
    arguments = {"model": ppo_cartpole, **change}
    if arguments.get("eval_env") == "gym-make-without-render-mode":
        arguments["eval_env"] = gym.make("CartPole-v1")
    before = local_hub.requests_received
    with pytest.raises(error) as caught:
        _package(repo_id=hub_repo_id, **arguments) if "repo_id" not in change else _package(**arguments)
    assert local_hub.requests_received == before
    assert str(caught.value).strip().endswith((".", ")")), "messages end with the next step"


def test_a_missing_token_raises_before_any_request(ppo_cartpole, local_hub, hub_repo_id, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    before = local_hub.requests_received
    with pytest.raises(MissingTokenError, match="hf auth login"):
        _package(ppo_cartpole, hub_repo_id)
    assert local_hub.requests_received == before


def test_a_wrong_token_is_refused_and_nothing_is_created(ppo_cartpole, hub_api, hub_repo_id):
    with pytest.raises(HubAccessError, match="refused the token"):
        _package(ppo_cartpole, hub_repo_id, token="not-a-real-token", video=False)
    assert not hub_api.repo_exists(hub_repo_id)


def test_atari_is_evaluated_stochastically_with_true_game_returns(hub_api, hub_repo_id):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    env = VecFrameStack(make_atari_env("BreakoutNoFrameskip-v4", n_envs=1, seed=0), n_stack=4)
    model = PPO("CnnPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu").learn(64)
    result = package_to_hub(
        model, "ppo-BreakoutNoFrameskip-v4", "PPO", "BreakoutNoFrameskip-v4", None, hub_repo_id, "Upload",
        n_eval_episodes=1, video_length=50, seed=1, progress=False,
    )  # fmt: skip
    results = _download_json(hub_api, hub_repo_id, "results.json")
    assert results["is_deterministic"] is False
    assert results["episode_lengths"][0] > 100  # the whole game (five lives), not one life
    video = probe_video(hub_api.hf_hub_download(hub_repo_id, "replay.mp4"))
    assert (video.width, video.height, video.frames) == (160, 210, 50)
    assert result.evaluation.deterministic is False
    assert "AtariWrapper" in ModelCard.load(hub_repo_id).text


@pytest.mark.parametrize("algo", ["SAC", "TD3", "QRDQN"])
def test_more_algorithms(algo, hub_api, hub_repo_id):
    if algo == "QRDQN":
        from sb3_contrib import QRDQN as algorithm

        env_id, options = "CartPole-v1", {"learning_starts": 50, "buffer_size": 500}
    else:
        import stable_baselines3

        algorithm = getattr(stable_baselines3, algo)
        env_id, options = "Pendulum-v1", {"learning_starts": 50, "buffer_size": 500}
    model = algorithm("MlpPolicy", env_id, seed=0, device="cpu", **options).learn(100)
    package_to_hub(
        model, f"{algo.lower()}-{env_id}", algo, env_id, None, hub_repo_id, "Upload",
        n_eval_episodes=1, video_length=10, progress=False,
    )  # fmt: skip
    card = ModelCard.load(hub_repo_id)
    assert card.data.to_dict()["model-index"][0]["name"] == algo
    assert f'load_agent("{hub_repo_id}")' in card.text and f"{algo}.load(" in card.text
    assert probe_video(hub_api.hf_hub_download(hub_repo_id, "replay.mp4")).frames == 10


def test_an_atari_env_without_monitor_is_rebuilt_from_its_id(hub_repo_id, tmp_path):
    import ale_py
    from stable_baselines3 import PPO
    from stable_baselines3.common.atari_wrappers import AtariWrapper
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    gym.register_envs(ale_py)
    unmonitored = VecFrameStack(
        DummyVecEnv([lambda: AtariWrapper(gym.make("BreakoutNoFrameskip-v4", render_mode="rgb_array"))]), n_stack=4
    )
    model = PPO("CnnPolicy", unmonitored, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu")
    result = package_to_hub(
        model, "ppo-Breakout", "PPO", "BreakoutNoFrameskip-v4", unmonitored, hub_repo_id, "Upload",
        n_eval_episodes=1, video=False, seed=0, push=False, local_dir=tmp_path / "repo",
    )  # fmt: skip
    assert result.evaluation.episode_lengths[0] > 100  # a whole game, measured by the rebuilt env's Monitor


def test_nothing_is_printed_when_quiet(ppo_cartpole, hub_repo_id, capfd):
    _package(ppo_cartpole, hub_repo_id, video_length=5)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_an_explicit_endpoint_and_token_reach_another_hub(ppo_cartpole, tmp_path):
    from huggingface_sb3 import LocalHub

    with LocalHub(tmp_path / "other-hub", user="carol") as other:
        result = _package(
            ppo_cartpole, "carol/agent", endpoint=other.endpoint, token=other.token, video_length=5, n_eval_episodes=1
        )
        assert result.startswith(other.endpoint)
        api = HfApi(endpoint=other.endpoint, token=other.token)
        assert "ppo-CartPole-v1.zip" in api.list_repo_files("carol/agent")
        assert (
            f"{other.endpoint}/carol/agent/resolve/main/replay.mp4"
            in Path(api.hf_hub_download("carol/agent", "README.md")).read_text()
        )


# what the user sees on success


def test_success_is_one_line_naming_the_commit_score_and_video(ppo_cartpole, hub_repo_id, capfd):
    from huggingface_hub.utils import are_progress_bars_disabled

    result = _package(ppo_cartpole, hub_repo_id, progress=None)  # the default: bars only on a terminal

    out, err = capfd.readouterr()
    assert out.splitlines() == [result.summary]
    assert result.summary == (
        f"Pushed to {result.commit_url}: mean_reward {result.evaluation.mean_reward:.2f} +/- "
        f"{result.evaluation.std_reward:.2f} over 3 episodes; video replay.mp4 (40 frames)."
    )
    assert "\r" not in err and "\x1b[" not in err, "captured output (not a terminal) gets no progress bars"
    assert not are_progress_bars_disabled(), "huggingface_hub's own switch is restored"


def test_a_dry_run_says_where_the_folder_is_and_progress_false_prints_nothing(ppo_cartpole, tmp_path, capfd):
    result = _package(ppo_cartpole, "you/agent", push=False, local_dir=tmp_path / "dry", video=False, progress=None)
    assert capfd.readouterr().out.splitlines() == [
        f"Wrote {tmp_path / 'dry'} (dry run, nothing pushed): mean_reward {result.evaluation.mean_reward:.2f} +/- "
        f"{result.evaluation.std_reward:.2f} over 3 episodes; no video (video=False was passed)."
    ]
    _package(ppo_cartpole, "you/agent", push=False, local_dir=tmp_path / "quiet", video=False, progress=False)
    out, err = capfd.readouterr()
    assert out == "" and "Evaluating" not in err


def test_forced_progress_draws_the_evaluation_bar(ppo_cartpole, tmp_path, capfd):
    _package(ppo_cartpole, "you/agent", push=False, local_dir=tmp_path / "dry", video=False, progress=True)
    assert "Evaluating" in capfd.readouterr().err


class _NoRenderEnv(gym.Env):
    """An env whose class declares no render mode (it cannot take render_mode=)."""

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(self):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self._steps = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._steps = 0
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        self._steps += 1
        return np.zeros(2, dtype=np.float32), 1.0, self._steps >= 5, False, {}


def test_an_env_id_that_cannot_render_asks_for_video_false_and_that_works(tmp_path):
    from stable_baselines3 import PPO

    env_id = "HfSb3TestNoRender-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=_NoRenderEnv)
    model = PPO("MlpPolicy", env_id, n_steps=32, batch_size=32, n_epochs=1, device="cpu")
    arguments = {"eval_env": None, "env_id": env_id, "push": False, "n_eval_episodes": 1}
    with pytest.raises(EnvironmentNotRenderableError) as caught:
        _package(model, "you/agent", local_dir=tmp_path / "filmed", **arguments)
    message = str(caught.value)
    assert env_id in message and "eval_env=None" not in message, message
    assert message.index("video=False") < message.index("eval_env"), "the fix that works comes first"
    assert not (tmp_path / "filmed").exists() or not any((tmp_path / "filmed").iterdir())
    result = _package(model, "you/agent", local_dir=tmp_path / "unfilmed", video=False, **arguments)
    assert "replay.mp4" not in result.files and result.evaluation.mean_reward == 5.0


def test_frame_stack_above_vec_normalize_is_evaluated_on_a_frozen_copy(tmp_path):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecFrameStack, VecNormalize

    env = VecFrameStack(VecNormalize(make_vec_env("CartPole-v1", n_envs=1, seed=0)), n_stack=2)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu").learn(32)
    before = env.venv.obs_rms.mean.copy()
    result = _package(
        model, "you/agent", eval_env=env, video=False, push=False, local_dir=tmp_path / "repo", n_eval_episodes=1
    )
    assert {"vec_normalize.json", "vec_normalize.pkl"} <= set(result.files)
    assert np.array_equal(env.venv.obs_rms.mean, before), "the user's statistics are not updated by the evaluation"
