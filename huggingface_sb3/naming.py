"""Names that follow the Hub's conventions for RL agents: environment names, model names and repo ids.

``EnvironmentName("ALE/Pong-v5")`` is ``"ALE-Pong-v5"`` (safe in file names and URLs) and remembers the gym id;
``ModelName("ppo", env)`` is ``"ppo-ALE-Pong-v5"`` with ``.filename`` ``"ppo-ALE-Pong-v5.zip"``;
``ModelRepoId("sb3", model_name)`` is ``"sb3/ppo-ALE-Pong-v5"``. The RL Zoo builds its repo ids this way.
"""

from __future__ import annotations

from .errors import InvalidArgumentError

__all__ = ["EnvironmentName", "ModelName", "ModelRepoId"]


class EnvironmentName(str):
    """An environment name usable in paths and URLs: ``/`` becomes ``-``, and a ``module:`` prefix is dropped.

    Args:
        gym_id: the id given to ``gymnasium.make`` (e.g. ``"ALE/Pong-v5"`` or ``"my_pkg:MyEnv-v0"``).

    Raises:
        InvalidArgumentError: if ``gym_id`` has more than one ``:`` (also a ``ValueError``).
    """

    _gym_id: str

    def __new__(cls, gym_id: str) -> EnvironmentName:
        if gym_id.count(":") > 1:
            raise InvalidArgumentError(
                f"Invalid environment id {gym_id!r}: at most one ':' (as in 'module:EnvName-v0')."
            )
        name = super().__new__(cls, gym_id.split(":")[-1].replace("/", "-"))
        name._gym_id = gym_id
        return name

    @property
    def gym_id(self) -> str:
        """The original id, to pass to ``gymnasium.make``."""
        return self._gym_id


class ModelName(str):
    """A model name ``"{algo}-{environment name}"``, safe to use in file names and URLs."""

    def __new__(cls, algo_name: str, environment_name: EnvironmentName) -> ModelName:
        return super().__new__(cls, f"{algo_name}-{environment_name}")

    @property
    def filename(self) -> str:
        """The file name of the saved model (``model.save(model_name)`` writes it)."""
        return f"{self}.zip"


class ModelRepoId(str):
    """A repo id ``"{org}/{model name}"``."""

    def __new__(cls, org: str, model_name: ModelName) -> ModelRepoId:
        return super().__new__(cls, f"{org}/{model_name}")
