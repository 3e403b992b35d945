"""Which Hub to push to: the one the user configured, or the embedded local Hub when there is none.

Examples and the command line push to the Hub that ``HF_ENDPOINT`` (default huggingface.co) names when a token
is configured (``HF_TOKEN`` or ``hf auth login``); with no token they start a :class:`~.hub_server.LocalHub`, so
they work with no account and no network.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .hub_access import endpoint_url, hub_errors

if TYPE_CHECKING:
    from .hub_server import LocalHub

__all__ = ["HubTarget", "hub_target", "serve_until_interrupted"]


@dataclass(frozen=True)
class HubTarget:
    """A Hub to talk to: its endpoint, a token, the token's user (the namespace to push to) and, for the
    embedded Hub, the running :class:`LocalHub`."""

    endpoint: str
    token: str
    user: str
    local_hub: LocalHub | None

    @property
    def is_local(self) -> bool:
        """Whether this is the embedded local Hub."""
        return self.local_hub is not None


@contextmanager
def hub_target(*, local: bool = False, data_dir: str | None = None) -> Iterator[HubTarget]:
    """The configured Hub when a token is set (and ``local`` is False), else an embedded local Hub for the block.

    Args:
        local: use the embedded local Hub even if a token is configured.
        data_dir: where the embedded Hub keeps its repos (default: a temporary folder removed afterwards).
    """
    from huggingface_hub import get_token

    token = None if local else get_token()
    if token:
        from huggingface_hub import HfApi

        endpoint = endpoint_url(None)
        with hub_errors("whoami", endpoint=endpoint):
            user = HfApi(endpoint=endpoint, token=token).whoami()["name"]
        yield HubTarget(endpoint=endpoint, token=token, user=user, local_hub=None)
        return
    from .hub_server import LocalHub

    with LocalHub(data_dir) as hub:
        yield HubTarget(endpoint=hub.endpoint, token=hub.token, user=hub.user, local_hub=hub)


def serve_until_interrupted(page_url: str) -> None:
    """Say where to look, then keep this process (and the local Hub it runs) serving until Ctrl-C or SIGTERM."""
    print(f"The local Hub keeps serving: open {page_url} in a browser. Press Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):  # short waits, so that Ctrl-C is seen at once on every platform
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("Stopped.", flush=True)
