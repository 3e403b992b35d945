"""The README's commands are the ones CI and the examples use."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    test_command = re.search(r"^\s*(python -m pytest[^\n]*)$", readme, re.MULTILINE).group(1).strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines
    assert 'pip install --quiet -e ".[test]"' in " ".join(ci_lines)
    assert 'pip install -e ".[test]"' in readme


def test_ci_workflow_runs_ci_script():
    assert ".ci/run" in (ROOT / ".github" / "workflows" / "ci.yml").read_text()


def test_readme_main_job_example_exists_and_runs():
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"python (examples/\S+\.py)", readme).group(1)
    result = subprocess.run([sys.executable, str(ROOT / example)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "identical to what was pushed" in result.stdout


def test_code_passes_the_linter():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--output-format",
            "concise",
            "huggingface_sb3",
            "tests",
            "benchmarks",
            "examples",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
