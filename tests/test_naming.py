"""EnvironmentName, ModelName and ModelRepoId behave as in 3.0 (the RL Zoo builds repo ids with them)."""

import pytest

from huggingface_sb3 import EnvironmentName, ModelName, ModelRepoId, naming_schemes
from huggingface_sb3.errors import InvalidArgumentError


def test_environment_name_replaces_slashes_and_keeps_the_gym_id():
    name = EnvironmentName("ALE/Pong-v5")
    assert name == "ALE-Pong-v5" and name.gym_id == "ALE/Pong-v5"


def test_environment_name_drops_a_module_prefix():
    name = EnvironmentName("my_pkg:MyEnv-v0")
    assert name == "MyEnv-v0" and name.gym_id == "my_pkg:MyEnv-v0"


def test_environment_name_refuses_two_colons():
    with pytest.raises(InvalidArgumentError, match="at most one ':'"):
        EnvironmentName("a:b:c")


def test_model_name_and_repo_id():
    model_name = ModelName("ppo", EnvironmentName("ALE/Pong-v5"))
    assert model_name == "ppo-ALE-Pong-v5" and model_name.filename == "ppo-ALE-Pong-v5.zip"
    assert ModelRepoId("sb3", model_name) == "sb3/ppo-ALE-Pong-v5"


def test_naming_schemes_module_is_the_3_0_import_path():
    assert naming_schemes.EnvironmentName is EnvironmentName
    assert naming_schemes.ModelName is ModelName and naming_schemes.ModelRepoId is ModelRepoId
