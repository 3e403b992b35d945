"""Every message fits where it is read: each mistake below, made on the real command line against the session's
local Hub (or a stopped endpoint), fails with ONE line on stderr that names the command's flag for the fix, never
the Python argument."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

from huggingface_sb3.cli._common import command_flags, command_line_message
from huggingface_sb3.cli.main import build_parser
from huggingface_sb3.errors import EnvironmentNotRenderableError

BIN = Path(sys.executable).parent
PYTHON_ADVICE = ("token=", "push=False", "local_dir=", "env_id=", "env=", "local_files_only", "video=False")


def cli(*args, env=None, cwd=None):
    command, *rest = args
    return subprocess.run([str(BIN / command), *rest], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def saved_agent(tmp_path_factory, ppo_cartpole):
    folder = tmp_path_factory.mktemp("agent")
    ppo_cartpole.save(folder / "ppo-CartPole-v1")
    return folder / "ppo-CartPole-v1.zip"


# (id, command line with {agent}/{repo}/{file}/{endpoint} placeholders, without a token?, must say, must not say)
MISTAKES = [
    (
        "package without a token",
        [
            "push-to-hub",
            "{agent}",
            "--env-id",
            "CartPole-v1",
            "--repo-id",
            "{repo}",
            "--n-eval-episodes",
            "1",
            "--no-video",
            "--quiet",
        ],
        True,
        ["--token", "--dry-run", "HF_TOKEN"],
        [],
    ),
    (
        "push without a token (push has no --dry-run)",
        ["huggingface-sb3", "push", "{repo}", "{file}"],
        True,
        ["--token", "HF_TOKEN"],
        ["--dry-run", "dry run"],
    ),
    (
        "dry run without a folder",
        [
            "push-to-hub",
            "{agent}",
            "--env-id",
            "CartPole-v1",
            "--repo-id",
            "{repo}",
            "--n-eval-episodes",
            "1",
            "--no-video",
            "--dry-run",
            "--quiet",
        ],
        False,
        ["--dry-run", "--local-dir"],
        [],
    ),
    (
        "misspelt env id",
        ["huggingface-sb3", "evaluate", "{agent}", "--env-id", "CartPol-v1"],
        False,
        ["--env-id", "Did you mean 'CartPole-v1'"],
        [".."],
    ),
    (
        "env id close to nothing",
        ["huggingface-sb3", "evaluate", "{agent}", "--env-id", "Zzqxw-v9"],
        False,
        ["--env-id", "'Zzqxw-v9'"],
        ["'CartPole-v1'", ".."],  # no made-up suggestion (the agent's path may name CartPole)
    ),
    ("zip without env id", ["huggingface-sb3", "evaluate", "{agent}"], False, ["--env-id"], [".."]),
    (
        "evaluate a missing local zip",
        ["huggingface-sb3", "evaluate", "./nope.zip"],
        False,
        ["./nope.zip does not exist"],
        ["Invalid repo id"],
    ),
    (
        "record a missing local folder",
        ["huggingface-sb3", "record", "../no-such-experiment"],
        False,
        ["does not exist"],
        ["Invalid repo id"],
    ),
    (
        "validate a misspelt README",
        ["huggingface-sb3", "card", "validate", "READM.md"],
        False,
        ["READM.md does not exist"],
        ["local cache"],
    ),
    (
        "pull while the Hub is down",
        ["huggingface-sb3", "pull", "someone/agent", "--endpoint", "{endpoint}"],
        False,
        ["Cannot reach {endpoint}", "Connection"],
        ["None of", "drop"],
    ),
    (
        # one line on stderr: at once, without huggingface_hub's "Retrying in 8s" lines (23 s of them)
        "validate a card while the Hub is down",
        ["huggingface-sb3", "card", "validate", "someone/agent", "--endpoint", "{endpoint}"],
        False,
        ["Cannot reach {endpoint}", "Connection"],
        ["local cache"],
    ),
]


@pytest.mark.parametrize(
    ("argv", "no_token", "says", "never_says"),
    [pytest.param(argv, no_token, says, never, id=name) for name, argv, no_token, says, never in MISTAKES],
)
def test_a_mistake_fails_with_one_line_naming_the_flag(
    argv, no_token, says, never_says, saved_agent, hub_repo_id, tmp_path
):
    endpoint = f"http://127.0.0.1:{unused_port()}"
    file = tmp_path / "notes.md"
    file.write_text("notes\n", encoding="utf-8")
    fill = {"agent": str(saved_agent), "repo": hub_repo_id, "file": str(file), "endpoint": endpoint}
    env = dict(os.environ)
    if no_token:
        env.pop("HF_TOKEN", None)
        env["HF_HOME"] = str(tmp_path / "hf-home")  # no saved login either
    result = cli(*(part.format(**fill) for part in argv), env=env, cwd=tmp_path)
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    line = lines[0]
    for text in says:
        assert text.format(**fill) in line, line
    for text in (*never_says, *PYTHON_ADVICE):
        assert text not in line, line
    assert not line.endswith(".."), line


def test_record_prints_the_seed_its_help_promises(saved_agent, tmp_path):
    assert "printed" in cli("huggingface-sb3", "record", "--help").stdout
    result = cli("huggingface-sb3", "record", str(saved_agent), "--env-id", "CartPole-v1", "--seed", "7",
                 "--video-length", "5", "--output", str(tmp_path / "replay.mp4"), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "seed 7" in result.stdout


def _flags(*argv):
    parser = build_parser()
    args = parser.parse_args(list(argv))
    return command_flags(parser, args.run)


def test_an_env_that_cannot_film_leads_with_what_works(ppo_cartpole, tmp_path):
    """The message leads with making no video, and that suggestion works; it no longer sends you to eval_env=None."""
    from huggingface_sb3 import package_to_hub

    env = gym.make("CartPole-v1")  # renders nothing
    with pytest.raises(EnvironmentNotRenderableError) as caught:
        package_to_hub(
            ppo_cartpole, "ppo-CartPole-v1", "PPO", "CartPole-v1", env, "you/ppo-CartPole-v1", "Upload",
            n_eval_episodes=1, video=True, progress=False, push=False, local_dir=tmp_path / "filmed",
        )  # fmt: skip
    message = str(caught.value)
    assert "eval_env=None" not in message
    assert message.index("video=False") < message.index("render_mode='rgb_array'")
    result = package_to_hub(
        ppo_cartpole, "ppo-CartPole-v1", "PPO", "CartPole-v1", env, "you/ppo-CartPole-v1", "Upload",
        n_eval_episodes=1, video=False, progress=False, push=False, local_dir=tmp_path / "unfilmed",
    )  # fmt: skip
    assert "replay.mp4" not in result.files
    # on the command line, each command phrases the fix with its own flag
    package = command_line_message(message, _flags("package", "a.zip", "--env-id", "X", "--repo-id", "a/b"))
    assert "pass --no-video" in package and "video=False" not in package
    evaluate = command_line_message(message, _flags("evaluate", "a/b"))
    assert "leave out --record" in evaluate
    record = command_line_message(message, _flags("record", "a/b"))
    assert "--record" not in record and "video=False" not in record and "render_mode='rgb_array'" in record


def test_python_users_keep_the_python_wording(monkeypatch):
    import huggingface_hub

    from huggingface_sb3.errors import MissingTokenError
    from huggingface_sb3.hub_access import require_token

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(MissingTokenError) as caught:
        require_token(None)
    assert "token=..." in str(caught.value) and "push=False" in str(caught.value)
