"""pytest fixtures that run the local Hub, so tests push and pull through the real ``huggingface_hub`` client.

Enable them in the root ``conftest.py`` (and import nothing from ``huggingface_hub`` there)::

    pytest_plugins = ["huggingface_sb3.testing"]

When pytest starts, one :class:`~huggingface_sb3.hub_server.LocalHub` is started for the whole session and the
environment is pointed at it before ``huggingface_hub`` is imported (which reads ``HF_ENDPOINT`` once, at
import): ``HF_ENDPOINT``, ``HF_TOKEN`` (a write token of the hub's user), a throw-away ``HF_HOME`` and
``HF_HUB_DISABLE_TELEMETRY``. Every client call in the tests then goes to the local Hub.

Fixtures:
    local_hub: the session's :class:`LocalHub` (``.endpoint``, ``.token``, ``.user``).
    hub_api: an ``HfApi`` bound to it with the write token.
    new_repo_id: a function returning a fresh, unused ``user/name`` repo id at each call; the repos are deleted
        after the test.
    hub_repo_id: one fresh repo id for the test (not created).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypedDict

import pytest

from .hub_server import LocalHub

if TYPE_CHECKING:
    from huggingface_hub import HfApi

_CLIENT_ENV_KEYS = ("HF_ENDPOINT", "HF_TOKEN", "HF_HOME", "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_OFFLINE")


class _SessionState(TypedDict, total=False):
    """What pytest_configure sets up for the session and pytest_unconfigure takes down."""

    hub: LocalHub
    home: str
    saved_env: dict[str, str | None]  # the client variables as they were (None: unset)


_session: _SessionState = {}
_repo_counter = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    """Start the session's local Hub and point the ``huggingface_hub`` client at it."""
    if "huggingface_hub" in sys.modules:
        raise pytest.UsageError(
            "huggingface_sb3.testing must be loaded before huggingface_hub is imported, because the client reads "
            "HF_ENDPOINT only once. List it in pytest_plugins of the root conftest.py and do not import "
            "huggingface_hub (or modules that import it) at the top of conftest files."
        )
    hub = LocalHub()
    hub.start()
    home = tempfile.mkdtemp(prefix="hf-home-")
    _session.update({"hub": hub, "home": home, "saved_env": {key: os.environ.get(key) for key in _CLIENT_ENV_KEYS}})
    os.environ.pop("HF_HUB_OFFLINE", None)
    os.environ.update(hub.client_env())
    os.environ["HF_HOME"] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the local Hub and restore the environment."""
    hub = _session.pop("hub", None)
    if isinstance(hub, LocalHub):
        hub.stop()
    for key, value in _session.pop("saved_env", {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    home = _session.pop("home", None)
    if isinstance(home, str):
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def local_hub() -> LocalHub:
    """The local Hub the whole test session talks to."""
    hub = _session.get("hub")
    assert isinstance(hub, LocalHub), "the local Hub did not start (see pytest_configure)"
    return hub


@pytest.fixture(scope="session")
def hub_api(local_hub: LocalHub) -> HfApi:
    """``HfApi`` on the local Hub, with the write token of its user."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=local_hub.endpoint, token=local_hub.token)


@pytest.fixture
def new_repo_id(request: pytest.FixtureRequest, local_hub: LocalHub, hub_api: HfApi) -> Iterator[Callable[[], str]]:
    """A factory of fresh repo ids in the hub user's namespace; every repo made with them is deleted afterwards."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60].strip("-") or "test"
    issued: list[str] = []

    def make() -> str:
        repo_id = f"{local_hub.user}/{stem}-{next(_repo_counter)}"
        issued.append(repo_id)
        return repo_id

    yield make
    for repo_id in issued:
        hub_api.delete_repo(repo_id, missing_ok=True)


@pytest.fixture
def hub_repo_id(new_repo_id: Callable[[], str]) -> str:
    """A fresh repo id in the hub user's namespace (the repo is not created)."""
    return new_repo_id()
