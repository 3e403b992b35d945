"""A local Hugging Face Hub: the subset of the Hub HTTP API that the ``huggingface_hub`` client uses.

Repos are git repositories (commit ids are git SHA-1s) with large files content-addressed by SHA-256 beside
them, in a data directory that survives restarts. Start it with ``huggingface-sb3 hub serve`` (:func:`serve`), with
:class:`LocalHub` in Python, or with the ``local_hub`` pytest fixture of :mod:`huggingface_sb3.testing`.
"""

from ._auth import TokenGrant
from ._call import HubConfig
from ._local_hub import LocalHub, serve

__all__ = ["HubConfig", "LocalHub", "TokenGrant", "serve"]
