"""3.0's module ``huggingface_sb3.load_from_hub``: ``load_from_hub``, one file of a repo (cached).

``from huggingface_sb3.load_from_hub import load_from_hub`` keeps working, and the package attribute
``huggingface_sb3.load_from_hub`` is the function (as in 3.0). Errors for a Hub answer are also
``requests.exceptions.HTTPError``, as 3.0's were (see :mod:`.hub_http_errors`).
"""

from __future__ import annotations

from pathlib import Path

from .hub_access import check_reachable, check_repo_id, hub_errors

__all__ = ["load_from_hub"]


def load_from_hub(
    repo_id: str,
    filename: str,
    *,
    revision: str | None = None,
    token: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
    endpoint: str | None = None,
) -> str:
    """Download one file of a repo (cached) and return its local path.

    Args:
        repo_id: ``namespace/name`` of the repo.
        filename: path of the file in the repo, e.g. ``"ppo-CartPole-v1.zip"``.
        revision: branch, tag or commit id (default: ``main``). A commit id makes later calls use the cache
            without asking the Hub for the file again.
        token: token for private repos (default: ``HF_TOKEN`` or the saved login).
        cache_dir: cache folder (default: the Hugging Face cache).
        local_files_only: only look in the cache.
        force_download: download again even if cached.
        endpoint: the Hub to download from (default: ``HF_ENDPOINT``, else huggingface.co).

    Raises:
        RepoNotFoundError, RevisionNotFoundError, MissingFileError: with what to check next.
    """
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    check_repo_id(repo_id, namespace_required=False)
    with hub_errors(repo_id, endpoint=endpoint, revision=revision, filename=filename):
        cached = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir, revision=revision)
        if not local_files_only and (force_download or not isinstance(cached, str)):
            check_reachable(endpoint)  # the download needs the Hub: say at once when it cannot be reached
        return hf_hub_download(
            repo_id,
            filename,
            revision=revision,
            token=token,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            force_download=force_download,
            endpoint=endpoint,
        )
