"""Every test talks to one local Hub started for the session (see huggingface_sb3.testing), and shares a few
tiny real agents trained here in a few hundred steps."""

import os

import pytest

pytest_plugins = ["huggingface_sb3.testing"]

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


@pytest.fixture(scope="session")
def ppo_cartpole():
    """A PPO agent on CartPole-v1, trained for 256 steps."""
    from stable_baselines3 import PPO

    return PPO("MlpPolicy", "CartPole-v1", n_steps=128, batch_size=64, n_epochs=2, seed=0, device="cpu").learn(256)


@pytest.fixture(scope="session")
def dqn_cartpole():
    """A DQN agent on CartPole-v1, trained for 300 steps."""
    from stable_baselines3 import DQN

    return DQN("MlpPolicy", "CartPole-v1", learning_starts=100, buffer_size=1000, seed=0, device="cpu").learn(300)


@pytest.fixture(scope="session")
def a2c_pendulum_normalized():
    """An A2C agent on Pendulum-v1 trained in a VecNormalize env (which renders rgb_array frames)."""
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0, env_kwargs={"render_mode": "rgb_array"}))
    model = A2C("MlpPolicy", env, n_steps=8, seed=0, device="cpu").learn(256)
    return model, env


SUMMARY_LINES = pytest.StashKey[list[str]]()
"""Figures a test reports (huggingface_hub's own suite against the local Hub), printed after the run."""


def pytest_configure(config: pytest.Config) -> None:
    config.stash[SUMMARY_LINES] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for line in config.stash.get(SUMMARY_LINES, []):
        terminalreporter.write_line(line)


# A real browser (the system's Chromium driven by Playwright) for the HTML pages; see tests/_browser.py.
from ._browser import chromium, console_errors, page, screenshot  # noqa: E402, F401
