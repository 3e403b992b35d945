"""Crafted agents whose pickles would run code (a harmless payload that creates a marker file) are refused, in
every place a pickle hides; the marker never appears. Zips are checked before anything is read."""

import base64
import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from huggingface_sb3 import load_agent
from huggingface_sb3.errors import CorruptArtifactError, UnsafeArtifactError
from huggingface_sb3.zoo_files import normalize_settings, read_zoo_yaml


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
        with pytest.raises(RuntimeError, match=f"'{key}' schedule was a pickled function"):
            getattr(agent.model, key)(1.0)
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
