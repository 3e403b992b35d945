"""Entry points of the ``huggingface-sb3``, ``push-to-hub`` and ``load-from-hub`` commands, and the check that this
distribution's ``huggingface_sb3`` is the one in effect.

``pip install rl_zoo3`` also installs ``sb3-team-hf-integration``, the SB3 team's fork of huggingface_sb3 3.x, whose
files are a package of the same name, ``huggingface_sb3``. Installed after an editable install of this project, the
fork's copy in site-packages is found first and shadows ours entirely; installed around a regular install, the two
write over each other's files, and uninstalling one deletes files of the other. This module lives outside the
``huggingface_sb3`` package, so the commands can still run when that happens, and say what to do instead of dying with
an ``ImportError``.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "FORK_DISTRIBUTION",
    "ForkInstalledWarning",
    "load_from_hub_main",
    "main",
    "push_to_hub_main",
    "warn_if_fork_beside",
]

FORK_DISTRIBUTION = "sb3-team-hf-integration"
_FORK_METADATA_GLOB = "sb3_team_hf_integration-*.dist-info"
FIX = (
    f"Fix: `pip uninstall -y {FORK_DISTRIBUTION}`, then reinstall huggingface-sb3 4.x the way you installed it, "
    "with --force-reinstall --no-deps (from a checkout: `pip install --force-reinstall --no-deps -e .`). "
    "rl_zoo3 works with huggingface-sb3 4.x in the fork's place (see 'With the RL Zoo' in the README)."
)
_OUR_PACKAGE = Path(__file__).resolve().parent / "huggingface_sb3"


class ForkInstalledWarning(UserWarning):
    """The fork of huggingface_sb3 3.x is installed in the same place as this package and shares its files."""


def warn_if_fork_beside(package_dir: Path) -> None:
    """Warn (once per process: this runs when the package is imported) if the fork's metadata sits beside
    ``package_dir``'s parent: then the two distributions share the files of ``huggingface_sb3``."""
    fork = next(package_dir.parent.glob(_FORK_METADATA_GLOB), None)
    if fork is not None:
        warnings.warn(
            f"{FORK_DISTRIBUTION} ({fork.name}) is installed in {package_dir.parent} and shares the files of "
            f"huggingface_sb3 with huggingface-sb3 4.x: reinstalling it would overwrite them, uninstalling it would "
            f"delete some of them. {FIX}",
            ForkInstalledWarning,
            stacklevel=3,
        )


def _shadowing_problem() -> str | None:
    """Why ``import huggingface_sb3`` would not import this distribution's package, or None if it would."""
    spec = importlib.util.find_spec("huggingface_sb3")
    found = Path(spec.origin).resolve().parent if spec is not None and spec.origin else None
    if found == _OUR_PACKAGE:
        return None
    if found is None:
        return (
            f"the package huggingface_sb3 is gone from {_OUR_PACKAGE.parent} (uninstalling {FORK_DISTRIBUTION}, "
            "which shared its files, deletes them). Reinstall huggingface-sb3 4.x the way you installed it, with "
            "--force-reinstall --no-deps (from a checkout: `pip install --force-reinstall --no-deps -e .`)."
        )
    owner = f"{FORK_DISTRIBUTION} (installed by rl_zoo3)" if _fork_installed() else "another distribution"
    return f"`import huggingface_sb3` finds {found}, the copy of {owner}, not huggingface-sb3 4.x. {FIX}"


def _fork_installed() -> bool:
    from importlib import metadata

    try:
        metadata.distribution(FORK_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    return True


def _command(name: str) -> Callable[[], int]:
    """The function ``name`` of ``huggingface_sb3.cli.main``; exits with a clear message if another
    distribution's ``huggingface_sb3`` is in the way."""
    problem = _shadowing_problem()
    if problem is None:
        try:
            import huggingface_sb3

            if "load_agent" not in getattr(huggingface_sb3, "__all__", ()):  # 3.x's and the fork's __init__ lack it
                raise ImportError(f"{huggingface_sb3.__file__} is not huggingface-sb3 4.x's")
            from huggingface_sb3.cli import main as cli
        except ImportError as error:
            if not _fork_installed():
                raise
            problem = f"the files of huggingface_sb3 are a mix of {FORK_DISTRIBUTION}'s and ours ({error}). {FIX}"
        else:
            return getattr(cli, name)
    print(f"error: {problem}", file=sys.stderr)
    raise SystemExit(1)


def main() -> int:
    """``huggingface-sb3``."""
    return _command("main")()


def push_to_hub_main() -> int:
    """``push-to-hub`` (``huggingface-sb3 package``)."""
    return _command("push_to_hub_main")()


def load_from_hub_main() -> int:
    """``load-from-hub`` (``huggingface-sb3 pull``)."""
    return _command("load_from_hub_main")()
