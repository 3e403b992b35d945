"""huggingface_hub's own tests, from the sdist of the installed version, against the local Hub (tests/hub_client_suite):
every relevant one must pass except a short, commented list of Hub features the local Hub does not claim."""

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SUMMARY_LINES

RUNNER = Path(__file__).parent / "hub_client_suite" / "run.py"


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_huggingface_hubs_own_tests_pass_against_the_local_hub(request):
    done = subprocess.run([sys.executable, str(RUNNER)], capture_output=True, text=True, timeout=2300)
    figure = next((line for line in done.stdout.splitlines() if "own tests against the local Hub" in line), None)
    assert figure is not None, f"the suite gave no figure:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    request.config.stash[SUMMARY_LINES].append(figure)
    assert done.returncode == 0, done.stdout[-5000:]
