"""The ``conftest.py`` that ``run.py`` puts beside huggingface_hub's own tests (its sdist ships the tests without one).

It gives them what their own conftest gives them on the maintainers' CI, pointed at the local Hub that ``run.py``
starts: an ``api`` client with the dummy user's token, a ``repo_factory`` that creates repos and deletes them after
the test, and the suite's markers. Tests marked ``production`` (they read huggingface.co) are skipped: this machine
has no internet, and the local Hub does not hold huggingface.co's repos.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.hf_api import RepoUrl

from .testing_constants import ENDPOINT_STAGING, TOKEN
from .testing_utils import repo_name

MARKERS = {
    "api": "tests that don't depend on Xet",
    "transfer": "upload and download tests",
    "inference": "inference tests",
    "xet": "needs hf_xet",
    "no_xet": "must run without hf_xet",
    "production": "reads the production Hub (skipped here: no internet, and not the local Hub's data)",
    "deprecated": "expects a FutureWarning",
    "git_lfs": "needs git-lfs",
}


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's markers."""
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip what needs huggingface.co."""
    skip = pytest.mark.skip(reason="reads the production Hub (huggingface.co)")
    for item in items:
        if item.get_closest_marker("production") or "api_prod" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


class RepoFactory:
    """Create repos on the local Hub for one test, and delete them after it."""

    def __init__(self, api: HfApi) -> None:
        self.api = api
        self.created: list[tuple[str, str, str | None]] = []

    def __call__(self, repo_type: str = "model", **kwargs: Any) -> RepoUrl:
        """A new repo, in the namespace of ``token`` (default: the dummy user's) unless ``repo_id`` names one."""
        repo_id = kwargs.pop("repo_id", None) or repo_name()
        url = self.api.create_repo(repo_id, repo_type=repo_type, **kwargs)
        self.created.append((url.repo_id, repo_type, kwargs.get("token")))
        return url

    def delete_all(self) -> None:
        """Delete every repo this factory created (those a test already deleted are skipped)."""
        for repo_id, repo_type, token in self.created:
            self.api.delete_repo(repo_id, repo_type=repo_type, missing_ok=True, token=token)


@pytest.fixture(scope="session")
def api() -> HfApi:
    """A client of the local Hub, signed in as the dummy user (session-wide: class-scoped fixtures use it)."""
    return HfApi(endpoint=ENDPOINT_STAGING, token=TOKEN)


@pytest.fixture
def api_prod() -> HfApi:
    """A client of the production Hub: tests asking for it are skipped (see pytest_collection_modifyitems)."""
    return HfApi()


@pytest.fixture
def repo_factory(api: HfApi) -> Iterator[RepoFactory]:
    """Create repos; they are deleted after the test."""
    factory = RepoFactory(api)
    yield factory
    factory.delete_all()
