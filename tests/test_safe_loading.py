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


def test_a_malicious_closure_schedule_is_replaced_not_run(agent_zip, tmp_path):
    """A schedule saved as a cloudpickled function could run code when called: it is never rebuilt."""
    import cloudpickle

    marker = tmp_path / "pwned-closure"
    command = f"touch {marker}"
    schedule = {
        ":type:": "<class 'function'>",
        ":serialized:": base64.b64encode(cloudpickle.dumps(lambda _: os.system(command))).decode(),
    }
    crafted = _rewrite(agent_zip, tmp_path / "evil" / "agent.zip", data_changes={"lr_schedule": schedule})
    agent = load_agent(crafted, env_id="CartPole-v1", device="cpu")
    assert "lr_schedule" in agent.placeholders and not marker.exists()


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
