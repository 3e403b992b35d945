"""Crafted agents whose pickles would run code (a harmless payload that creates a marker file) are refused, in
every place a pickle hides; the marker never appears. Zips are checked before anything is read. Crafted agents that
would exhaust memory or time (a 55-byte space of 10**8 values, an 8000-unit network in a 53 KB zip, a buffer of
10**12 transitions), entries of the wrong type, and env ids that would import a module are refused too, quickly."""

import base64
import io
import json
import os
import pickle
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from huggingface_sb3 import load_agent
from huggingface_sb3.errors import CorruptArtifactError, UnavailablePartError, UnsafeArtifactError
from huggingface_sb3.zoo_files import normalize_settings, read_zoo_yaml

from ._zoo_agents import zoo_experiment


class Payload:
    """Unpickling this runs ``touch <marker>``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def agent_zip(ppo_cartpole, tmp_path):
    (tmp_path / "clean").mkdir()
    ppo_cartpole.save(tmp_path / "clean" / "agent")
    return tmp_path / "clean" / "agent.zip"


def _rewrite(source: Path, target: Path, *, data_changes=None, member_changes=None) -> Path:
    """Copy an agent zip, replacing entries of ``data`` and whole members."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as crafted:
        for name in original.namelist():
            content = original.read(name)
            if name == "data" and data_changes:
                data = json.loads(content)
                data.update(data_changes)
                content = json.dumps(data).encode()
            if member_changes and name in member_changes:
                content = member_changes[name]
            crafted.writestr(name, content)
    return target


def _serialized(obj) -> dict:
    return {":type:": "<class 'function'>", ":serialized:": base64.b64encode(pickle.dumps(obj)).decode()}


@pytest.mark.parametrize(
    "key", ["observation_space", "action_space", "lr_schedule", "ep_info_buffer", "policy_kwargs", "a_new_key"]
)
def test_a_malicious_entry_in_data_is_refused(agent_zip, tmp_path, key):
    marker = tmp_path / f"pwned-{key}"
    crafted = _rewrite(agent_zip, tmp_path / "evil" / "agent.zip", data_changes={key: _serialized(Payload(marker))})
    with pytest.raises(UnsafeArtifactError) as caught:
        load_agent(crafted, env_id="CartPole-v1", device="cpu")
    assert not marker.exists()
    error = caught.value
    assert (error.filename, error.key) == ("agent.zip", key)
    assert error.global_name in ("posix.system", "os.system", "nt.system")
    assert "trust_remote_code=True" in str(error) and "runs any code" in str(error)


def test_trust_remote_code_really_runs_the_files_code(agent_zip, tmp_path):
    marker = tmp_path / "ran"
    crafted = _rewrite(
        agent_zip, tmp_path / "evil" / "agent.zip", data_changes={"ep_info_buffer": _serialized(Payload(marker))}
    )
    load_agent(crafted, env_id="CartPole-v1", device="cpu", trust_remote_code=True)
    assert marker.exists()


def test_a_malicious_weights_member_is_refused(agent_zip, tmp_path):
    marker = tmp_path / "pwned-pth"
    evil_weights = io.BytesIO()
    torch.save({"payload": Payload(marker)}, evil_weights)
    crafted = _rewrite(
        agent_zip, tmp_path / "evil" / "agent.zip", member_changes={"policy.pth": evil_weights.getvalue()}
    )
    with pytest.raises(UnsafeArtifactError, match="weights file"):
        load_agent(crafted, env_id="CartPole-v1", device="cpu")
    assert not marker.exists()


def test_malicious_vec_normalize_statistics_are_refused(agent_zip, tmp_path):
    marker = tmp_path / "pwned-vecnormalize"
    folder = agent_zip.parent
    (folder / "vec_normalize.pkl").write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(UnsafeArtifactError, match=r"vec_normalize\.pkl"):
        load_agent(folder, env_id="CartPole-v1", device="cpu")
    assert not marker.exists()


def _cloudpickled(function) -> dict:
    import cloudpickle

    return {":type:": "<class 'function'>", ":serialized:": base64.b64encode(cloudpickle.dumps(function)).decode()}


@pytest.mark.parametrize("key", ["lr_schedule", "clip_range", "exploration_schedule", "delta_std_schedule", "my_own"])
def test_any_function_only_training_uses_is_replaced_not_run(agent_zip, tmp_path, key):
    """A function saved by value would run code when called: whatever its entry's name, it is never rebuilt."""
    marker = tmp_path / f"pwned-{key}"
    command = f"touch {marker}"
    crafted = _rewrite(
        agent_zip, tmp_path / "evil" / "agent.zip", data_changes={key: _cloudpickled(lambda _: os.system(command))}
    )
    agent = load_agent(crafted, env_id="CartPole-v1", device="cpu")
    assert key in agent.placeholders
    if key == "lr_schedule":  # SB3 rebuilds it from learning_rate, a float here
        assert getattr(agent.model, key)(1.0) == pytest.approx(agent.model.learning_rate)
    else:
        with pytest.raises(UnavailablePartError, match=f"'{key}' schedule was a pickled function") as used:
            getattr(agent.model, key)(1.0)
        assert isinstance(used.value, RuntimeError), "code that caught RuntimeError keeps working"
    agent.model.predict(agent.model.observation_space.sample(), deterministic=True)
    assert not marker.exists()


def test_a_function_saved_by_reference_is_not_imported(agent_zip, tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "schedules_with_side_effects.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\ndef cosine(progress):\n    return progress\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reference = b"cschedules_with_side_effects\ncosine\n."  # protocol 0: GLOBAL module.name, STOP
    crafted = _rewrite(
        agent_zip,
        tmp_path / "ref" / "agent.zip",
        data_changes={
            "clip_range": {":type:": "<class 'function'>", ":serialized:": base64.b64encode(reference).decode()}
        },
    )
    agent = load_agent(crafted, env_id="CartPole-v1", device="cpu")
    assert "clip_range" in agent.placeholders and not marker.exists()


def test_a_function_that_loading_needs_is_refused(agent_zip, tmp_path):
    """policy_kwargs builds the network: a function there cannot be replaced, so the load stops."""
    marker = tmp_path / "pwned-kwargs"
    command = f"touch {marker}"
    crafted = _rewrite(
        agent_zip,
        tmp_path / "evil" / "agent.zip",
        data_changes={"policy_kwargs": _cloudpickled(lambda: os.system(command))},
    )
    with pytest.raises(UnsafeArtifactError) as caught:
        load_agent(crafted, env_id="CartPole-v1", device="cpu")
    assert caught.value.key == "policy_kwargs" and "cloudpickle" in caught.value.global_name
    assert not marker.exists()


def test_a_user_schedule_saved_by_current_sb3_becomes_a_placeholder(tmp_path):
    """SB3 >= 2.7 saves a lambda learning rate as is and wrapped in FloatSchedule: both are functions."""
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "CartPole-v1", learning_rate=lambda progress: 3e-4 * progress, n_steps=64, batch_size=32,
                n_epochs=1, seed=0, device="cpu").learn(64)  # fmt: skip
    model.save(tmp_path / "agent")
    agent = load_agent(tmp_path / "agent.zip", env_id="CartPole-v1", device="cpu")
    assert {"learning_rate", "lr_schedule"} <= set(agent.placeholders)
    observation = agent.model.observation_space.sample()
    assert agent.model.predict(observation, deterministic=True)[0] == model.predict(observation, deterministic=True)[0]


def test_zip_bombs_and_broken_zips_are_refused(agent_zip, tmp_path):
    bomb = _rewrite(agent_zip, tmp_path / "bomb" / "agent.zip", member_changes={"policy.pth": b"\0" * (64 * 1024**2)})
    with pytest.raises(CorruptArtifactError, match="zip bomb"):
        load_agent(bomb, env_id="CartPole-v1")
    truncated = tmp_path / "truncated" / "agent.zip"
    truncated.parent.mkdir()
    truncated.write_bytes(agent_zip.read_bytes()[: agent_zip.stat().st_size // 2])
    with pytest.raises(CorruptArtifactError, match=r"not a valid zip|not a Stable-Baselines3 agent"):
        load_agent(truncated, env_id="CartPole-v1")  # a truncated SB3 zip may still show the weights' inner zip
    not_an_agent = tmp_path / "other" / "agent.zip"
    not_an_agent.parent.mkdir()
    with zipfile.ZipFile(not_an_agent, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(CorruptArtifactError, match="not a Stable-Baselines3 agent"):
        load_agent(not_an_agent, env_id="CartPole-v1")


def test_a_damaged_member_is_a_clear_error(agent_zip, tmp_path):
    import struct

    raw = bytearray(agent_zip.read_bytes())
    with zipfile.ZipFile(agent_zip) as archive:
        info = archive.getinfo("policy.pth")
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    raw[start + info.compress_size // 2] ^= 0xFF  # one byte in the middle of the weights
    damaged = tmp_path / "damaged" / "agent.zip"
    damaged.parent.mkdir()
    damaged.write_bytes(bytes(raw))
    with pytest.raises(CorruptArtifactError, match="download it again"):
        load_agent(damaged, env_id="CartPole-v1", device="cpu")


def test_zoo_yaml_is_read_without_building_python_objects(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("!!python/object/apply:collections.OrderedDict\n- - - normalize\n    - \"{'norm_obs': True}\"\n")
    assert read_zoo_yaml(config) == {"normalize": "{'norm_obs': True}"}
    evil = tmp_path / "evil.yml"
    evil.write_text(f"!!python/object/apply:os.system ['touch {tmp_path / 'yaml-pwned'}']\n")
    with pytest.raises(UnsafeArtifactError):
        read_zoo_yaml(evil)
    assert not (tmp_path / "yaml-pwned").exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, {}),
        (False, None),
        ("{'norm_obs': True, 'norm_reward': False}", {"norm_obs": True, "norm_reward": False}),
        ("dict(norm_obs=True, gamma=0.99)", {"norm_obs": True, "gamma": 0.99}),
    ],
)
def test_zoo_normalize_settings_are_parsed_as_literals(value, expected):
    assert normalize_settings(value) == expected


def test_zoo_normalize_settings_never_evaluate_code():
    with pytest.raises(CorruptArtifactError):
        normalize_settings("__import__('os').system('true')")


def _space_from_missing_package(readable: dict) -> dict:
    """A pickled space whose class lives in a package that is not installed, with SB3's readable fields."""
    missing = b"cnot_installed_xy\nSpace\n."  # protocol 0: GLOBAL not_installed_xy.Space, STOP
    return {**readable, ":serialized:": base64.b64encode(missing).decode()}


def test_a_space_from_a_missing_package_is_rebuilt_from_its_readable_fields(agent_zip, tmp_path):
    observation = {
        ":type:": "<class 'gymnasium.spaces.box.Box'>",
        "dtype": "float32",
        "_shape": [4],
        "low": "[-4.8 -inf -0.41887903 -inf]",
        "high": "[4.8 inf 0.41887903 inf]",
    }
    action = {":type:": "<class 'gymnasium.spaces.discrete.Discrete'>", "n": "2", "start": "0"}
    crafted = _rewrite(
        agent_zip,
        tmp_path / "rebuilt" / "agent.zip",
        data_changes={"observation_space": _space_from_missing_package(observation),
                      "action_space": _space_from_missing_package(action)},
    )  # fmt: skip
    agent = load_agent(crafted, env_id="CartPole-v1", device="cpu")
    assert set(agent.placeholders) == {"observation_space", "action_space"}
    assert agent.model.observation_space.shape == (4,) and agent.model.action_space.n == 2
    assert agent.model.observation_space.low[2] == pytest.approx(-0.41887903)


def test_the_rl_zoos_linear_schedule_is_rebuilt_without_rl_zoo3(agent_zip, tmp_path):
    """rl_zoo3 >= 2.0 saves ``lin_...`` hyperparameters as ``rl_zoo3.utils.SimpleLinearSchedule`` objects."""
    import importlib.util

    from stable_baselines3.common.utils import LinearSchedule

    assert importlib.util.find_spec("rl_zoo3") is None
    # protocol 4, as cloudpickle writes it: NEWOBJ rl_zoo3.utils.SimpleLinearSchedule, BUILD {"initial_value": 0.001}
    zoo_schedule = (
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\rrl_zoo3.utils\x94\x8c\x14SimpleLinearSchedule\x94\x93\x94)"
        b"\x81\x94}\x94\x8c\rinitial_value\x94G?PbM\xd2\xf1\xa9\xfcsb."
    )
    entry = {
        ":type:": "<class 'rl_zoo3.utils.SimpleLinearSchedule'>",
        ":serialized:": base64.b64encode(zoo_schedule).decode(),
    }
    crafted = _rewrite(
        agent_zip, tmp_path / "zoo" / "agent.zip", data_changes={"learning_rate": entry, "clip_range": entry}
    )
    agent = load_agent(crafted, env_id="CartPole-v1", device="cpu")
    assert agent.placeholders == ()
    assert agent.model.clip_range(0.5) == pytest.approx(0.0005) and agent.model.lr_schedule(1.0) == pytest.approx(0.001)
    agent.model.save(tmp_path / "again")  # saved again, it is SB3's own class: plain SB3 reads it without us
    reloaded = type(agent.model).load(tmp_path / "again.zip", device="cpu")
    assert type(reloaded.learning_rate) is LinearSchedule and reloaded.learning_rate(0.5) == pytest.approx(0.0005)


# Memory and CPU bombs: a few bytes that would make Stable-Baselines3 allocate gigabytes or compute for minutes are
# refused with CorruptArtifactError naming the entry, quickly. Each test times the load (the safety net is the
# timeout marker: a regression fails instead of hanging the suite).

QUICK = 10.0  # seconds; the refusals take milliseconds


class Call:
    """Pickles as the call ``function(*args)``, as a hand-made pickle can ask for."""

    def __init__(self, function, *args) -> None:
        self.function, self.args = function, args

    def __reduce__(self):
        return (self.function, self.args)


def _refused_quickly(crafted: Path, entry: str, error_class=CorruptArtifactError, **load_options) -> str:
    """Load ``crafted``, expecting ``error_class`` naming ``entry`` within :data:`QUICK` seconds; the message."""
    start = time.monotonic()
    with pytest.raises(error_class) as caught:
        load_agent(crafted, env_id="CartPole-v1", device="cpu", **load_options)
    assert time.monotonic() - start < QUICK
    assert entry in str(caught.value), str(caught.value)
    return str(caught.value)


BOX_BOMB = Call(gym.spaces.Box, 0, 1, (10**8,))  # 55 bytes pickled; building it asks for ~24 GiB


@pytest.mark.timeout(120)
def test_a_box_bomb_is_refused_before_memory_grows(agent_zip, tmp_path):
    """Measured in a fresh interpreter: this process's peak memory is already high from other tests."""
    crafted = _rewrite(
        agent_zip, tmp_path / "bomb" / "agent.zip", data_changes={"observation_space": _serialized(BOX_BOMB)}
    )
    assert len(pickle.dumps(BOX_BOMB)) < 100
    script = (
        "import json, resource, sys, time\n"
        "from huggingface_sb3 import load_agent\n"
        "from huggingface_sb3.errors import CorruptArtifactError\n"
        "load_agent(sys.argv[1], env_id='CartPole-v1', device='cpu')\n"  # imports and first allocations
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "start = time.monotonic()\n"
        "try:\n"
        "    load_agent(sys.argv[2], env_id='CartPole-v1', device='cpu')\n"
        "except CorruptArtifactError as error:\n"
        "    message = str(error)\n"
        "seconds = time.monotonic() - start\n"
        "grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before\n"
        "print(json.dumps({'message': message, 'seconds': seconds, 'grown_kib': grown}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(agent_zip), str(crafted)], capture_output=True, text=True, timeout=110
    )
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert "'observation_space'" in outcome["message"] and "gymnasium.spaces.box.Box" in outcome["message"]
    assert outcome["seconds"] < QUICK
    assert outcome["grown_kib"] < 200 * 1024


def _box_claiming(shape: tuple) -> gym.spaces.Box:
    """A Box whose pickled state (NEWOBJ, BUILD: no constructor checks it) claims ``shape``."""
    box = gym.spaces.Box(0, 1, (1,))
    box._shape = shape
    return box


def _nested_dict(depth: int):
    space = gym.spaces.Box(0, 1, (1,))
    for _ in range(depth):
        space = gym.spaces.Dict({"inner": space})
    return space


SPACE_BOMBS = {
    "box-2d": ("observation_space", Call(gym.spaces.Box, 0, 1, (10**5, 10**5))),
    "discrete": ("action_space", Call(gym.spaces.Discrete, 10**9)),
    "multi-discrete": ("action_space", Call(gym.spaces.MultiDiscrete, np.full(8, 10**6))),
    "multi-binary": ("observation_space", Call(gym.spaces.MultiBinary, (10**5, 10**5))),
    "dict-wide": ("observation_space", gym.spaces.Dict({str(i): gym.spaces.Discrete(2) for i in range(2000)})),
    "dict-deep": ("observation_space", _nested_dict(40)),
    "tuple-of-boxes": ("observation_space", Call(gym.spaces.Tuple, [Call(gym.spaces.Box, 0, 1, (2**21,))] * 4)),
    "box-state": ("observation_space", _box_claiming((10**9,))),
    "empty-array": ("_last_obs", Call(np.ndarray, (10**10,))),
    "array-of-huge-items": ("_last_obs", Call(np.ndarray, (4,), np.dtype(("f8", (10**4, 10**4))))),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("bomb", list(SPACE_BOMBS))
def test_oversized_spaces_and_arrays_are_refused(agent_zip, tmp_path, bomb):
    entry, value = SPACE_BOMBS[bomb]
    crafted = _rewrite(agent_zip, tmp_path / bomb / "agent.zip", data_changes={entry: _serialized(value)})
    _refused_quickly(crafted, repr(entry))


@pytest.mark.timeout(60)
def test_a_pickle_that_builds_a_policy_is_refused(agent_zip, tmp_path):
    """Policy, buffer, extractor and optimizer classes are stored by reference: a pickle calling one is refused."""
    from stable_baselines3.common.policies import ActorCriticPolicy
    from stable_baselines3.common.utils import ConstantSchedule

    policy = Call(
        ActorCriticPolicy, gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2), ConstantSchedule(0.1), [8000, 8000]
    )
    crafted = _rewrite(
        agent_zip, tmp_path / "policy" / "agent.zip", data_changes={"ep_info_buffer": _serialized(policy)}
    )
    assert "only stores by reference" in _refused_quickly(crafted, "'ep_info_buffer'")


def _as_sb3_saves(policy_kwargs: dict) -> dict:
    """``policy_kwargs`` as SB3 writes it when a value is not JSON: a pickled dict beside its readable fields."""
    return {
        **policy_kwargs,
        ":type:": "<class 'dict'>",
        ":serialized:": base64.b64encode(pickle.dumps(policy_kwargs)).decode(),
    }


NET_ARCH_BOMBS = {
    "list": {"net_arch": [8000, 8000]},
    "dict": {"net_arch": {"pi": [8000, 8000], "vf": [64]}},
    "value-net": {"net_arch": {"pi": [64], "vf": [8000, 8000]}},
    "sb3-1.x-list-of-dict": {"net_arch": [{"pi": [64], "vf": [8000, 8000]}]},
    "many-layers": {"net_arch": [1] * 10_000},
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("pickled", [False, True], ids=["json", "pickled"])
@pytest.mark.parametrize("bomb", list(NET_ARCH_BOMBS))
def test_a_network_much_larger_than_its_weights_is_refused(agent_zip, tmp_path, bomb, pickled):
    """[8000, 8000] in a 53 KB zip took 60 s and 1.5 GB to build before SB3 found the weights do not fit."""
    policy_kwargs = NET_ARCH_BOMBS[bomb]
    value = _as_sb3_saves(policy_kwargs) if pickled else policy_kwargs
    crafted = _rewrite(agent_zip, tmp_path / bomb / "agent.zip", data_changes={"policy_kwargs": value})
    assert crafted.stat().st_size < 200 * 1024
    message = _refused_quickly(crafted, "policy_kwargs['net_arch']")
    assert "download it again" in message.lower()


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("policy_kwargs", "entry"),
    [
        ({"n_critics": 10**6}, "policy_kwargs['n_critics']"),
        ({"net_arch": {"pi": [64], "qf": [8000, 8000]}}, "policy_kwargs['net_arch']"),
        ({"net_arch": [256, 256], "n_critics": 40}, "policy_kwargs"),
    ],
)
def test_critics_much_larger_than_their_weights_are_refused(tmp_path, policy_kwargs, entry):
    source = zoo_experiment("sac", "Pendulum-v1") / "Pendulum-v1.zip"
    crafted = _rewrite(
        source, tmp_path / "sac" / "agent.zip", data_changes={"policy_kwargs": _as_sb3_saves(policy_kwargs)}
    )
    _refused_quickly(crafted, entry)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("changes", "entry"),
    [({"n_steps": 10**12}, "'n_steps'"), ({"n_envs": 10**9}, "'n_envs'")],
)
def test_an_oversized_rollout_buffer_is_refused(agent_zip, tmp_path, changes, entry):
    crafted = _rewrite(agent_zip, tmp_path / "rollout" / "agent.zip", data_changes=changes)
    _refused_quickly(crafted, entry)


@pytest.mark.timeout(60)
def test_an_oversized_replay_buffer_is_refused(dqn_cartpole, tmp_path):
    dqn_cartpole.save(tmp_path / "clean" / "agent")
    crafted = _rewrite(
        tmp_path / "clean" / "agent.zip", tmp_path / "replay" / "agent.zip", data_changes={"buffer_size": 10**12}
    )
    assert "GiB" in _refused_quickly(crafted, "'buffer_size'")


def test_atari_sized_buffers_and_networks_are_within_bounds():
    """A 1M-transition replay buffer of stacked Atari frames (28 GB per copy, allocated lazily) and the Atari CNN
    policies stay within the bounds (the Atari DQN of the next test builds both for real)."""
    from sb3_contrib.qrdqn.policies import CnnPolicy

    from huggingface_sb3.agent_limits import check_buffers, check_space, policy_parameters

    frames = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    check_space(gym.spaces.Box(0, 255, (4, 210, 160, 3), np.uint8), "agent.zip", "observation_space")
    values = {
        "observation_space": frames,
        "action_space": gym.spaces.Discrete(18),
        "buffer_size": 1_000_000,
        "n_envs": 8,
    }
    check_buffers(values, "agent.zip")
    policy = CnnPolicy(frames, gym.spaces.Discrete(18), lambda _: 1e-4)
    stored = 4 * sum(p.numel() for p in policy.state_dict().values())
    assert policy_parameters(CnnPolicy, {}, frames, gym.spaces.Discrete(18), "agent.zip") <= stored / 4


@pytest.mark.timeout(300)
def test_an_atari_dqn_with_a_large_replay_buffer_still_loads(tmp_path):
    import ale_py
    from stable_baselines3 import DQN
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    env = VecFrameStack(make_atari_env("PongNoFrameskip-v4", n_envs=1, seed=0), n_stack=4)
    DQN("CnnPolicy", env, buffer_size=100_000, seed=0, device="cpu").save(tmp_path / "agent")
    agent = load_agent(tmp_path / "agent.zip", env_id="PongNoFrameskip-v4", device="cpu")
    assert agent.model.replay_buffer.buffer_size == 100_000 and agent.env_error is None
    observation = agent.env.reset()
    agent.model.predict(observation, deterministic=True)


POLICIES = [
    ("stable_baselines3.common.policies", "ActorCriticPolicy", "vector", "discrete", {"net_arch": [64, 64]}),
    (
        "stable_baselines3.common.policies",
        "ActorCriticPolicy",
        "vector",
        "box",
        {"net_arch": {"pi": [256, 256], "vf": [128]}},
    ),
    (
        "stable_baselines3.common.policies",
        "ActorCriticPolicy",
        "vector",
        "box",
        {"net_arch": [{"pi": [32], "vf": [256, 256]}]},
    ),
    (
        "stable_baselines3.common.policies",
        "ActorCriticCnnPolicy",
        "frames",
        "discrete",
        {"features_extractor_kwargs": {"features_dim": 256}},
    ),
    ("stable_baselines3.common.policies", "MultiInputActorCriticPolicy", "dict", "discrete", {}),
    (
        "stable_baselines3.sac.policies",
        "SACPolicy",
        "vector",
        "box",
        {"net_arch": {"pi": [64], "qf": [400, 300]}, "n_critics": 3},
    ),
    ("stable_baselines3.td3.policies", "TD3Policy", "vector", "box", {"net_arch": [400, 300]}),
    ("stable_baselines3.dqn.policies", "CnnPolicy", "frames", "discrete", {"net_arch": [256]}),
    ("sb3_contrib.qrdqn.policies", "QRDQNPolicy", "vector", "discrete", {"net_arch": [64, 64], "n_quantiles": 50}),
    ("sb3_contrib.tqc.policies", "TQCPolicy", "vector", "box", {"net_arch": [512, 512], "n_quantiles": 10}),
    ("sb3_contrib.crossq.policies", "CrossQPolicy", "vector", "box", {"net_arch": [256, 256]}),
    (
        "sb3_contrib.common.recurrent.policies",
        "RecurrentActorCriticPolicy",
        "vector",
        "discrete",
        {"lstm_hidden_size": 64, "n_lstm_layers": 2},
    ),
    (
        "sb3_contrib.common.maskable.policies",
        "MaskableActorCriticPolicy",
        "vector",
        "discrete",
        {"net_arch": [128, 128]},
    ),
    ("sb3_contrib.ars.policies", "ARSPolicy", "vector", "box", {"net_arch": [64]}),
]
SPACES = {
    "vector": gym.spaces.Box(-1, 1, (17,)),
    "frames": gym.spaces.Box(0, 255, (4, 84, 84), np.uint8),
    "dict": gym.spaces.Dict(
        {"image": gym.spaces.Box(0, 255, (3, 64, 64), np.uint8), "vector": gym.spaces.Box(-1, 1, (5,))}
    ),
    "discrete": gym.spaces.Discrete(6),
    "box": gym.spaces.Box(-1, 1, (6,)),
}


@pytest.mark.parametrize(("module", "name", "observation", "action", "kwargs"), POLICIES, ids=[p[1] for p in POLICIES])
def test_the_policy_size_bound_never_exceeds_the_real_policy(module, name, observation, action, kwargs):
    """The bound is a lower bound on what SB3 builds (so a real agent is never refused), and not a trivial one (with
    ``net_arch`` given: SB3's default layers are not counted)."""
    import importlib

    from huggingface_sb3.agent_limits import policy_parameters

    policy_class = getattr(importlib.import_module(module), name)
    spaces = (SPACES[observation], SPACES[action])
    policy = policy_class(*spaces, **kwargs) if name == "ARSPolicy" else policy_class(*spaces, lambda _: 1e-3, **kwargs)
    built = sum(p.numel() for p in policy.parameters())
    bound = policy_parameters(policy_class, kwargs, *spaces, "agent.zip")
    assert built / 5 <= bound <= built


WRONG_TYPES = [
    ("n_envs", "x"),
    ("n_steps", "x"),
    ("observation_space", 5),
    ("action_space", {"n": 2}),
    ("policy_kwargs", []),
    ("policy_kwargs", {"net_arch": "big"}),
    ("policy_kwargs", {"net_arch": [64, -1]}),
    ("policy_kwargs", {"no_such_argument": 1}),
    ("policy_kwargs", {"activation_fn": "relu"}),
    ("_last_obs", {"a": 1}),
    ("_last_episode_starts", [True]),
    ("learning_rate", "x"),
    ("clip_range", "x"),
    ("seed", "x"),
    ("gamma", "x"),
    ("verbose", "x"),
    ("use_sde", "x"),
    ("use_sde", True),
    ("rollout_buffer_kwargs", []),
    ("env", "CartPole-v1"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("entry", "value"), WRONG_TYPES, ids=[f"{e}={v!r}" for e, v in WRONG_TYPES])
def test_an_entry_of_the_wrong_type_is_a_corrupt_artifact(agent_zip, tmp_path, entry, value):
    crafted = _rewrite(agent_zip, tmp_path / "wrong" / "agent.zip", data_changes={entry: value})
    _refused_quickly(crafted, entry)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("entry", "value"), [("train_freq", "x"), ("ent_coef", "auto_x"), ("target_entropy", "x")])
def test_an_off_policy_entry_of_the_wrong_type_is_a_corrupt_artifact(tmp_path, entry, value):
    source = zoo_experiment("sac", "Pendulum-v1") / "Pendulum-v1.zip"
    crafted = _rewrite(source, tmp_path / "wrong" / "agent.zip", data_changes={entry: value})
    _refused_quickly(crafted, repr(entry))


def test_oversized_vec_normalize_statistics_are_refused(agent_zip, tmp_path):
    from stable_baselines3.common.running_mean_std import RunningMeanStd

    folder = agent_zip.parent
    (folder / "vec_normalize.pkl").write_bytes(pickle.dumps(Call(RunningMeanStd, 1e-4, (10**5, 10**5))))
    with pytest.raises(CorruptArtifactError, match="to allocate"):
        load_agent(folder, env_id="CartPole-v1", device="cpu")
    (folder / "vec_normalize.pkl").unlink()
    statistics = {"format": "huggingface_sb3.vec_normalize/1", "norm_obs": True, "clip_obs": 10.0, "clip_reward": 10.0,
                  "gamma": 0.99, "epsilon": 1e-8, "obs_rms": {"shape": [10**5, 10**5], "mean": [], "var": [], "count": 1},
                  "ret_rms": {"shape": [], "mean": 0, "var": 1, "count": 1}}  # fmt: skip
    (folder / "vec_normalize.json").write_text(json.dumps(statistics))
    with pytest.raises(CorruptArtifactError, match="more than"):
        load_agent(folder, env_id="CartPole-v1", device="cpu")


# Env ids read from a repo's files: gymnasium imports the module a ``module:Env-v0`` id names.


@pytest.fixture
def traced_module(tmp_path, monkeypatch):
    """A module on sys.path that leaves a marker file when it is imported: (its name, the marker)."""
    name = f"hf_sb3_traced_{tmp_path.name.replace('-', '_')}"
    marker = tmp_path / "imported"
    (tmp_path / f"{name}.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, marker
    sys.modules.pop(name, None)


def _card(env_id: str) -> str:
    return (
        f"---\nlibrary_name: stable-baselines3\nmodel-index:\n- name: PPO\n  results:\n"
        f"  - task: {{type: reinforcement-learning, name: reinforcement-learning}}\n"
        f"    dataset: {{name: '{env_id}', type: '{env_id}'}}\n"
        "    metrics:\n    - {type: mean_reward, value: 500.00 +/- 0.00, name: mean_reward, verified: false}\n---\n"
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("source", ["README.md", "results.json"])
def test_an_env_id_from_the_files_never_imports_a_module(agent_zip, traced_module, source):
    module, marker = traced_module
    folder = agent_zip.parent
    if source == "README.md":
        (folder / "README.md").write_text(_card(f"{module}:Traced-v0"))
    else:
        (folder / "results.json").write_text(json.dumps({"env_id": f"{module}:Traced-v0"}))
    start = time.monotonic()
    with pytest.raises(UnsafeArtifactError) as caught:
        load_agent(folder, device="cpu")
    assert time.monotonic() - start < QUICK
    assert (caught.value.filename, caught.value.key, caught.value.global_name) == (source, "env_id", module)
    assert "env_id='Traced-v0'" in str(caught.value) and "trust_remote_code=True" in str(caught.value)
    assert not marker.exists() and module not in sys.modules


@pytest.mark.timeout(60)
def test_an_env_entry_in_data_never_imports_a_module(agent_zip, traced_module, tmp_path):
    """SB3 never saves ``env``; given one, SB3 would gymnasium.make it."""
    module, marker = traced_module
    crafted = _rewrite(agent_zip, tmp_path / "env" / "agent.zip", data_changes={"env": f"{module}:Traced-v0"})
    _refused_quickly(crafted, "'env'")
    assert not marker.exists() and module not in sys.modules


@pytest.mark.timeout(60)
def test_trust_remote_code_imports_the_module_an_env_id_names(agent_zip, traced_module):
    """The opt-in does what it says (and shows that the marker would have appeared)."""
    module, marker = traced_module
    (agent_zip.parent / "README.md").write_text(_card(f"{module}:Traced-v0"))
    agent = load_agent(agent_zip.parent, device="cpu", trust_remote_code=True)
    assert marker.exists() and agent.env is None and "Traced-v0" in agent.env_error
