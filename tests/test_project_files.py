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


def test_readme_main_job_is_the_cartpole_example_the_tests_run():
    readme = (ROOT / "README.md").read_text()
    main_job = re.search(r'pip install -e "\.\[all\]" && python (examples/\S+\.py)', readme).group(1)
    assert main_job == "examples/train_cartpole.py" and (ROOT / main_job).is_file()
    assert "train_cartpole.py" in (ROOT / "tests" / "test_examples.py").read_text()


def test_every_example_is_documented_and_tested():
    readme = (ROOT / "README.md").read_text()
    tested = (ROOT / "tests" / "test_examples.py").read_text()
    for example in sorted((ROOT / "examples").glob("*.py")):
        assert f"examples/{example.name}" in readme
        assert example.name in tested or example.name == "local_hub_roundtrip.py"


def test_the_local_hub_roundtrip_example_runs():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "local_hub_roundtrip.py")], capture_output=True, text=True, timeout=300
    )
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
