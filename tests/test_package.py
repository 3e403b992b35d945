"""The package itself: light import, public names, version, error classes."""

import subprocess
import sys

import pytest

import huggingface_sb3
from huggingface_sb3.errors import HuggingFaceSB3Error, LocalHubError


def test_import_is_light():
    """Importing the package must not pull torch, SB3, gymnasium or the Hub client (users pay only for what they use)."""
    code = (
        "import sys, huggingface_sb3; "
        "heavy = [m for m in ('torch', 'stable_baselines3', 'gymnasium', 'huggingface_hub', 'starlette', 'uvicorn', 'numpy') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_all_is_sorted_and_resolvable():
    assert huggingface_sb3.__all__ == sorted(huggingface_sb3.__all__)
    for name in huggingface_sb3.__all__:
        assert getattr(huggingface_sb3, name) is not None


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        huggingface_sb3.nope  # noqa: B018


def test_version_matches_distribution_metadata():
    from importlib.metadata import version

    assert huggingface_sb3.__version__ == version("huggingface-sb3") == "4.0.0.dev0"


def test_local_hub_error_is_package_error_and_os_error():
    assert issubclass(LocalHubError, HuggingFaceSB3Error)
    assert issubclass(LocalHubError, OSError)
