"""Every version floor the README states for a dependency is the one pyproject.toml requires."""

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; on 3.10 these checks are skipped

ROOT = Path(__file__).resolve().parents[1]

# how the README names each dependency -> its name in pyproject.toml
README_NAMES = {
    "Python": "python",
    "huggingface_hub": "huggingface_hub",
    "Stable-Baselines3": "stable-baselines3",
    "SB3": "stable-baselines3",
    "gymnasium": "gymnasium",
}
_STATED = re.compile(
    r"(?<![\w-])`?(" + "|".join(map(re.escape, README_NAMES)) + r")`?\s*(?:>=|≥)\s*(\d+(?:\.\d+)*)"
    r"(?:\s*and\s*<\s*(\d+(?:\.\d+)*))?"
)


def _pyproject_bounds() -> dict[str, tuple[str, str | None]]:
    """(floor, ceiling) of Python and of each dependency, as pyproject.toml states them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    bounds = {"python": (re.fullmatch(r">=\s*([\d.]+)", project["requires-python"]).group(1), None)}
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
        floor = re.search(r">=\s*([\d.]+)", requirement)
        ceiling = re.search(r"<\s*([\d.]+)", requirement)
        bounds[name] = (floor.group(1) if floor else None, ceiling.group(1) if ceiling else None)
    return bounds


def _stated_versions(readme: str) -> list[tuple[str, str, str | None, str]]:
    """Every ``name >= floor`` (and ``and < ceiling``) the README states, with its line."""
    found = []
    for line in readme.splitlines():
        for match in _STATED.finditer(line):
            found.append((README_NAMES[match.group(1)], match.group(2), match.group(3), line.strip()))
    return found


def test_every_floor_the_readme_states_is_pyprojects():
    bounds = _pyproject_bounds()
    stated = _stated_versions((ROOT / "README.md").read_text(encoding="utf-8"))
    assert {name for name, *_ in stated} == {"python", "huggingface_hub", "stable-baselines3", "gymnasium"}
    for name, floor, ceiling, line in stated:
        assert floor == bounds[name][0], f"README says {name} >= {floor}, pyproject.toml >= {bounds[name][0]}: {line}"
        if ceiling is not None:
            assert ceiling == bounds[name][1], f"README says {name} < {ceiling}, pyproject.toml: {bounds[name][1]}"


def test_the_reader_finds_a_drifted_floor():
    assert _stated_versions("Requires Stable-Baselines3 >= 2.3 and SB3 ≥ 2.8, `huggingface_hub` >= 1.0 and < 3.") == [
        (
            "stable-baselines3",
            "2.3",
            None,
            "Requires Stable-Baselines3 >= 2.3 and SB3 ≥ 2.8, `huggingface_hub` >= 1.0 and < 3.",
        ),
        (
            "stable-baselines3",
            "2.8",
            None,
            "Requires Stable-Baselines3 >= 2.3 and SB3 ≥ 2.8, `huggingface_hub` >= 1.0 and < 3.",
        ),
        (
            "huggingface_hub",
            "1.0",
            "3",
            "Requires Stable-Baselines3 >= 2.3 and SB3 ≥ 2.8, `huggingface_hub` >= 1.0 and < 3.",
        ),
    ]


def test_the_readme_says_the_index_has_only_3_0():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = readme[readme.index("## Install") :]
    assert "`pip install huggingface-sb3` installs 3.0" in install[: install.index("\n## ", 3)]
    assert "0.36" not in readme  # huggingface_hub >= 1.0 is required: no notes for older clients
