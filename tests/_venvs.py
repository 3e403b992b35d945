"""Fresh virtual environments for tests that install packages the way a user does (from the package index)."""

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_bash_block(heading: str) -> str:
    """The first ```bash block of the README section ``## {heading}``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)


def create_venv(path: Path, *, see_test_packages: bool = False) -> Path:
    """Create a virtual environment at ``path`` and return its ``bin`` folder.

    ``see_test_packages`` appends the test environment's site-packages to its import path (only as a path: the
    editable install of this project there is not visible), so packages installed with ``--no-deps`` can import
    their dependencies without downloading them again.
    """
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    if see_test_packages:
        (site_packages(path) / "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path / "bin"


def site_packages(venv: Path) -> Path:
    """The site-packages folder of ``venv``."""
    return next((venv / "lib").glob("python3*/site-packages"))


def venv_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """The environment to run commands of the venv whose ``bin`` folder this is, as if it were activated."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(
        VIRTUAL_ENV=str(bin_dir.parent),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        **extra,
    )
    return env


def run(bin_dir: Path, *command: str, cwd: Path | None = None, timeout: float = 600, **extra_env: str):
    """Run ``command`` with the venv activated; returns the completed process (output captured as text)."""
    return subprocess.run(
        list(command), cwd=cwd, env=venv_env(bin_dir, **extra_env), capture_output=True, text=True, timeout=timeout
    )
