"""Living beside ``sb3-team-hf-integration`` (the fork of huggingface_sb3 3.x that ``pip install rl_zoo3`` brings),
in a scratch venv, through every state pip can leave the two in: the commands never die with an ImportError, and
say what is wrong and how to fix it; the fix (uninstall the fork, reinstall this package) works."""

import subprocess
import sys

import pytest

from ._venvs import ROOT, create_venv, run

pytestmark = pytest.mark.slow

FORK = "sb3-team-hf-integration"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    """This project's wheel, and the fork's (from the package index)."""
    folder = tmp_path_factory.mktemp("wheels")
    for command in (
        ["wheel", "--no-deps", "--wheel-dir", str(folder), str(ROOT)],
        ["download", "--no-deps", "--dest", str(folder), f"{FORK}==3.2"],
    ):
        result = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *command],
                                capture_output=True, text=True, timeout=600)  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
    return next(folder.glob("huggingface_sb3-*.whl")), next(folder.glob("sb3_team_hf_integration-*.whl"))


def _pip(bin_dir, *arguments):
    result = run(bin_dir, "pip", "install", "--quiet", "--no-deps", *arguments)
    assert result.returncode == 0, result.stderr[-3000:]


def _command(bin_dir):
    result = run(bin_dir, "huggingface-sb3", "--version")
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_every_state_pip_leaves_says_what_to_do(wheels, tmp_path):
    ours, fork = wheels
    bin_dir = create_venv(tmp_path / "venv", see_test_packages=True)

    _pip(bin_dir, "-e", str(ROOT))
    _pip(bin_dir, str(fork))  # `pip install rl_zoo3` after an editable install: the fork shadows us
    shadowed = _command(bin_dir)
    assert shadowed.returncode == 1
    assert f"the copy of {FORK} (installed by rl_zoo3), not huggingface-sb3 4.x" in shadowed.stderr
    assert f"pip uninstall -y {FORK}" in shadowed.stderr

    assert run(bin_dir, "pip", "uninstall", "--yes", FORK, "huggingface-sb3").returncode == 0
    _pip(bin_dir, str(ours))
    _pip(bin_dir, str(fork))  # a regular install, then the fork over it: its __init__ replaces ours
    mixed = _command(bin_dir)
    assert mixed.returncode == 1 and f"a mix of {FORK}'s and ours" in mixed.stderr

    _pip(bin_dir, "--force-reinstall", str(ours))  # ours over the fork: it works, and warns once at import
    over = _command(bin_dir)
    assert over.returncode == 0 and over.stdout.startswith("huggingface-sb3 4.")
    assert over.stderr.count("ForkInstalledWarning") == 1 and "uninstalling it would delete" in over.stderr

    assert run(bin_dir, "pip", "uninstall", "--yes", FORK).returncode == 0  # deletes files the two shared
    broken = _command(bin_dir)
    assert broken.returncode == 1 and "--force-reinstall --no-deps" in broken.stderr

    _pip(bin_dir, "--force-reinstall", str(ours))  # the fix, completed
    fixed = _command(bin_dir)
    assert (fixed.returncode, fixed.stderr) == (0, "") and fixed.stdout.startswith("huggingface-sb3 4.")
    imported = run(bin_dir, "python", "-W", "error", "-c", "import huggingface_sb3.push_to_hub")
    assert imported.returncode == 0, imported.stderr
