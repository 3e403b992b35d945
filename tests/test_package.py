"""The package itself: light import, public names, version, error classes."""

import ast
import subprocess
import sys
from pathlib import Path

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


def test_every_lazy_name_comes_from_the_module_its_table_names():
    for name, module in huggingface_sb3._LAZY_NAMES.items():
        value = getattr(huggingface_sb3, name)
        home = value.__module__
        assert home == module or home.startswith(f"{module}."), f"{name} is defined in {home}, the table says {module}"
    assert set(dir(huggingface_sb3)) >= set(huggingface_sb3.__all__)


def test_the_type_checking_imports_match_the_lazy_names():
    """Type checkers and IDEs read the TYPE_CHECKING block; the runtime reads ``_LAZY_NAMES``: they must not drift."""
    tree = ast.parse(Path(huggingface_sb3.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    imported = {
        alias.asname: f"huggingface_sb3.{node.module}"
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == huggingface_sb3._LAZY_NAMES


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        huggingface_sb3.nope  # noqa: B018


def test_version_matches_distribution_metadata():
    from importlib.metadata import version

    assert huggingface_sb3.__version__ == version("huggingface-sb3") == "4.0.0.dev0"


def test_local_hub_error_is_package_error_and_os_error():
    assert issubclass(LocalHubError, HuggingFaceSB3Error)
    assert issubclass(LocalHubError, OSError)
