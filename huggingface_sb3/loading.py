"""Loading agents from the Hub or from disk: ``load_from_hub`` (one file) and ``load_agent`` (a ready agent).

``load_agent`` resolves the revision to a commit id once, downloads everything at that commit, checks the zip
against the checksum the Hub publishes (SHA-256 for large files, the git blob id otherwise), loads the model
without executing pickled code (:mod:`.safe_load`) unless ``trust_remote_code=True``, and rebuilds the env the
agent expects: Atari preprocessing and frame stack, ``VecNormalize`` statistics, the RL Zoo's env kwargs.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .agent_files import (
    VEC_NORMALIZE_FILES,
    ZOO_FILES,
    algorithm_class,
    algorithm_from_card,
    algorithm_from_data,
    algorithm_mismatch,
    env_id_from_card,
    pick_agent_zip,
    policy_name,
)
from .errors import (
    CorruptArtifactError,
    EnvironmentUnavailableError,
    HubRequestError,
    HuggingFaceSB3Error,
    IntegrityError,
    InvalidArgumentError,
    MissingFileError,
    UnknownAlgorithmError,
)
from .hub_access import check_repo_id, hub_api, hub_errors
from .load_from_hub import load_from_hub

if TYPE_CHECKING:
    import gymnasium as gym
    from huggingface_hub import HfApi
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

__all__ = ["LoadedAgent", "load_agent", "load_from_hub"]


@dataclass(frozen=True)
class LoadedAgent:
    """An agent ready to act, and where it came from.

    Attributes:
        model: the Stable-Baselines3 (or sb3-contrib) model.
        env: a VecEnv ready for ``model.predict`` (Atari preprocessing, frame stack and ``VecNormalize``
            statistics as the agent was trained, normalisation frozen), or None when it cannot be built here.
        env_error: why ``env`` is None.
        env_id: the environment id.
        algo: the algorithm's class name, e.g. ``"PPO"``.
        source: the repo id, or the local path, the agent was loaded from.
        revision: the commit id everything was downloaded at (None for a local path).
        filename: the agent's zip in the repo or folder.
        sha256: SHA-256 of the zip.
        trusted: whether ``trust_remote_code=True`` loaded it with plain Stable-Baselines3.
        placeholders: entries of the zip that could not be read safely and were replaced (e.g. old schedules).
        card: the model card's metadata (empty without a card).
        results: ``results.json``, when the repo has one.
    """

    model: BaseAlgorithm
    env: VecEnv | None
    env_error: str | None
    env_id: str | None
    algo: str
    source: str
    revision: str | None
    filename: str
    sha256: str
    trusted: bool
    placeholders: tuple[str, ...] = ()
    card: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] | None = None

    def require_env(self) -> VecEnv:
        """The agent's env, or a clear error saying why it could not be built and what to pass instead.

        Raises:
            EnvironmentUnavailableError: ``env`` is None (the message is ``env_error``, with the fix).
        """
        if self.env is None:
            raise EnvironmentUnavailableError(
                f"The agent from {self.source} loaded, but its env cannot be built here: "
                f"{(self.env_error or 'the cause is unknown').rstrip('.')}."
            )
        return self.env


def load_agent(
    repo_id_or_path: str | Path,
    *,
    filename: str | None = None,
    revision: str | None = None,
    algo: str | None = None,
    env_id: str | None = None,
    env: gym.Env | VecEnv | None = None,
    env_kwargs: dict[str, Any] | None = None,
    render_mode: str | None = None,
    device: str = "auto",
    trust_remote_code: bool = False,
    token: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool = False,
    endpoint: str | None = None,
) -> LoadedAgent:
    """Load an agent from a Hub repo (or a local zip or folder) into a ready model and env, without running
    code from the files.

    Args:
        repo_id_or_path: ``namespace/name`` on the Hub, or a local ``.zip`` or folder (e.g. an RL Zoo experiment).
        filename: the agent's zip (default: the only ``.zip``, else the RL Zoo's ``{algo}-{env}.zip``).
        revision: branch, tag or commit id (default: ``main``); resolved to a commit id once.
        algo: the algorithm (default: from the card, the RL Zoo's files, or the zip itself).
        env_id: the environment id (default: from the card, ``results.json`` or the RL Zoo's files).
        env: an env to use instead of building one (its spaces must match the agent's).
        env_kwargs: keyword arguments for ``gymnasium.make`` (default: the RL Zoo's ``env_kwargs.yml``).
        render_mode: render mode of the built env, e.g. ``"rgb_array"`` to film it.
        device: torch device for the model.
        trust_remote_code: load with plain Stable-Baselines3, which runs any code the files contain. Only for
            repos whose authors you trust.
        token: token for private repos (default: ``HF_TOKEN`` or the saved login).
        cache_dir: download cache (default: the Hugging Face cache).
        local_files_only: use only files already in the cache.
        endpoint: the Hub (default: ``HF_ENDPOINT``, else huggingface.co).

    Raises:
        UnsafeArtifactError: a file needs code outside the allow-list (the message says how to opt in).
        IntegrityError: the zip does not match the Hub's checksum.
        RepoNotFoundError, RevisionNotFoundError, MissingFileError, CorruptArtifactError, UnknownAlgorithmError,
        MissingDependencyError: with what to do next.
    """
    files = open_agent_files(
        repo_id_or_path, revision=revision, token=token, cache_dir=cache_dir, local_files_only=local_files_only,
        endpoint=endpoint,
    )  # fmt: skip
    return load_agent_files(
        files, filename=filename, algo=algo, env_id=env_id, env=env, env_kwargs=env_kwargs, render_mode=render_mode,
        device=device, trust_remote_code=trust_remote_code,
    )  # fmt: skip


def open_agent_files(
    repo_id_or_path: str | os.PathLike[str],
    *,
    revision: str | None = None,
    token: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool = False,
    endpoint: str | None = None,
) -> AgentFiles:
    """Where :func:`load_agent` reads an agent's files: a local zip or folder, or a repo at one commit.

    For a repo, one ``repo_info`` call resolves the revision to a commit and gives the file list and the Hub's
    checksums; each file is downloaded (and verified) when it is first read. ``files.revision`` is then known
    before anything is loaded, and ``files.download_seconds`` adds up the time spent on the Hub's requests.
    Arguments as :func:`load_agent`'s.
    """
    local = Path(repo_id_or_path)
    if local.exists():
        return _LocalFiles(local)
    return _HubFiles(
        str(repo_id_or_path), revision=revision, token=token, cache_dir=cache_dir,
        local_files_only=local_files_only, endpoint=endpoint,
    )  # fmt: skip


class AgentFiles:
    """Where an agent's files come from: their names, and a local path for each (downloaded and verified)."""

    source: str
    revision: str | None
    names: tuple[str, ...]
    only: str | None = None
    """The zip the caller pointed at, if any."""
    download_seconds: float = 0.0
    """Wall time spent on the Hub's requests so far."""

    def path(self, name: str) -> Path:
        """A local path holding the file ``name``."""
        raise NotImplementedError

    def sha256(self, name: str) -> str:
        """SHA-256 of the file ``name`` (computed once, when it was verified on download)."""
        return _hashes(self.path(name))[0]

    def extra(self, zip_name: str, name: str) -> Path | None:
        """An accompanying file (RL Zoo YAML, normalisation statistics) of the agent ``zip_name``, if present."""
        raise NotImplementedError


class _LocalFiles(AgentFiles):
    """A local zip, or a folder with the zip at its top (an RL Zoo experiment keeps its YAML files and
    ``vecnormalize.pkl`` in a sub-folder named after the zip)."""

    def __init__(self, location: Path) -> None:
        self.folder = location if location.is_dir() else location.parent
        self.only = location.name if location.is_file() else None
        self.source, self.revision = str(location), None
        self.names = tuple(sorted(path.name for path in self.folder.iterdir() if path.is_file()))

    def path(self, name: str) -> Path:
        return self.folder / name

    def extra(self, zip_name: str, name: str) -> Path | None:
        """``name`` beside the zip, or in the RL Zoo's sub-folder named after it."""
        for candidate in (self.folder / name, self.folder / Path(zip_name).stem / name):
            if candidate.is_file():
                return candidate
        return None


class _HubFiles(AgentFiles):
    """A repo at one commit: its file list and the Hub's checksums come from one ``repo_info`` call."""

    def __init__(
        self,
        repo_id: str,
        *,
        revision: str | None,
        token: str | None,
        cache_dir: str | Path | None,
        local_files_only: bool,
        endpoint: str | None,
    ) -> None:
        check_repo_id(repo_id, namespace_required=False)
        self.source, self.repo_id = repo_id, repo_id
        self.api: HfApi = hub_api(token, endpoint)
        self.cache_dir, self.local_files_only, self.token = cache_dir, local_files_only, token
        self.checksums: dict[str, tuple[str | None, str | None]] = {}
        self._sha256: dict[str, str | None] = {}
        from huggingface_hub import constants

        if local_files_only or constants.HF_HUB_OFFLINE:
            self.local_files_only = True
            self._from_cache(revision)
            return
        try:
            with self._on_the_hub(), hub_errors(repo_id, endpoint=endpoint, revision=revision):
                info = self.api.model_info(repo_id, revision=revision or "main", files_metadata=True)
        except HubRequestError as unreachable:  # use the cached snapshot, as hf_hub_download does
            self.local_files_only = True
            try:
                self._from_cache(revision)
            except HuggingFaceSB3Error:
                raise unreachable from None
            return
        if info.sha is None:
            raise HubRequestError(f"The Hub did not say which commit {revision or 'main'} of {repo_id} is; retry.")
        self.revision = info.sha
        self._remember_ref(revision or "main", info.sha)
        siblings = info.siblings or ()
        self.names = tuple(sorted(sibling.rfilename for sibling in siblings))
        self.checksums = {
            sibling.rfilename: (sibling.lfs.sha256 if sibling.lfs else None, sibling.blob_id) for sibling in siblings
        }

    @contextmanager
    def _on_the_hub(self) -> Iterator[None]:
        """Add the wall time of the block (requests to the Hub) to ``download_seconds``."""
        asked = time.perf_counter()
        try:
            yield
        finally:
            self.download_seconds += time.perf_counter() - asked

    def _remember_ref(self, revision: str, commit: str) -> None:
        """Record in the cache which commit ``revision`` named (the cache's documented ``refs/`` layout), so that
        a later load can find the snapshot when the Hub is unreachable."""
        from huggingface_hub import constants
        from huggingface_hub.file_download import repo_folder_name

        if revision == commit:
            return
        cache = Path(self.cache_dir or constants.HF_HUB_CACHE) / repo_folder_name(
            repo_id=self.repo_id, repo_type="model"
        )
        ref = cache / "refs" / revision
        try:
            if not ref.is_file() or ref.read_text() != commit:
                ref.parent.mkdir(parents=True, exist_ok=True)
                partial = ref.with_name(f"{ref.name}.{os.getpid()}.tmp")
                partial.write_text(commit)
                os.replace(partial, ref)
        except OSError:
            pass  # a read-only cache only loses the offline fallback

    def _from_cache(self, revision: str | None) -> None:
        """The snapshot already in the cache (no request; the files were checked when they were downloaded)."""
        from huggingface_hub import snapshot_download

        with hub_errors(self.repo_id, revision=revision):
            folder = Path(
                snapshot_download(self.repo_id, revision=revision, cache_dir=self.cache_dir, local_files_only=True)
            )
        self.revision = folder.name
        self.names = tuple(sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()))

    def path(self, name: str) -> Path:
        with (
            self._on_the_hub(),
            hub_errors(self.repo_id, endpoint=self.api.endpoint, revision=self.revision, filename=name),
        ):
            downloaded = Path(
                self.api.hf_hub_download(
                    self.repo_id,
                    name,
                    revision=self.revision,
                    cache_dir=self.cache_dir,
                    local_files_only=self.local_files_only,
                )
            )
        self._sha256[name] = _verify(
            downloaded, name, self.checksums.get(name, (None, None)), self.repo_id, self.revision
        )
        return downloaded

    def sha256(self, name: str) -> str:
        return self._sha256.get(name) or super().sha256(name)

    def extra(self, zip_name: str, name: str) -> Path | None:
        return self.path(name) if name in self.names else None


def _hashes(path: Path) -> tuple[str, str]:
    """(SHA-256, git blob SHA-1) of a file."""
    sha256, git_sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            sha256.update(chunk)
            git_sha1.update(chunk)
    return sha256.hexdigest(), git_sha1.hexdigest()


def _verify(
    path: Path, name: str, expected: tuple[str | None, str | None], repo_id: str, revision: str | None
) -> str | None:
    """Compare a download with the Hub's checksum; its SHA-256 when it was computed."""
    expected_sha256, expected_blob = expected
    if expected_sha256 is None and expected_blob is None:
        return None
    sha256, git_sha1 = _hashes(path)
    if (expected_sha256 is not None and sha256 != expected_sha256) or (
        expected_sha256 is None and git_sha1 != expected_blob
    ):
        raise IntegrityError(
            f"{name} of {repo_id} at {revision} does not match the checksum the Hub published "
            f"({expected_sha256 or expected_blob}); the download or the cache was altered. Nothing was loaded. "
            "Download it again with force_download (or clear the cache), and report it if it persists."
        )
    return sha256


def load_agent_files(
    files: AgentFiles,
    *,
    filename: str | None,
    algo: str | None,
    env_id: str | None,
    env: gym.Env | VecEnv | None,
    env_kwargs: dict[str, Any] | None,
    render_mode: str | None,
    device: str,
    trust_remote_code: bool,
) -> LoadedAgent:
    """:func:`load_agent` on files already opened by :func:`open_agent_files` (the other arguments as its)."""
    from .safe_load import read_agent_data
    from .zoo_files import read_zoo_yaml

    card = _card_metadata(files)
    results = _json_file(files, "results.json")
    zip_name = (
        filename
        or getattr(files, "only", None)
        or pick_agent_zip(files.names, algo=algo or algorithm_from_card(card), env_id=env_id or env_id_from_card(card))
    )
    if zip_name is None or zip_name not in files.names:
        zips = [name for name in files.names if name.endswith(".zip")]
        raise MissingFileError(
            f"Cannot tell which file of {files.source} is the agent ({zips or 'no .zip file'}). Pass filename=..."
        )
    zoo = {name: read_zoo_yaml(path) for name in ZOO_FILES if (path := files.extra(zip_name, name)) is not None}
    zip_path = files.path(zip_name)
    data = read_agent_data(zip_path)
    claims = (
        ("algo=", algo),
        ("README.md", algorithm_from_card(card)),
        ("args.yml", zoo.get("args.yml", {}).get("algo")),
    )
    claimed_by, algo_name = next(((where, name) for where, name in claims if name), ("", algorithm_from_data(data)))
    if algo_name is None:
        raise UnknownAlgorithmError(
            f"Cannot tell the algorithm of {files.source}/{zip_name}. Pass algo='PPO' (or ...)."
        )
    if claimed_by:
        _check_algorithm(algo_name, claimed_by, data, files.source, zip_name)
    algo_class = algorithm_class(algo_name)
    env_id = env_id or _env_id_from_files(card, results, zoo, trusted=trust_remote_code)
    model, placeholders = _load_model(zip_path, data, algo_class, env, device, trust_remote_code)
    kwargs = dict(env_kwargs if env_kwargs is not None else zoo.get("env_kwargs.yml") or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    agent_env, env_error = _agent_env(files, zip_name, model, env, env_id, kwargs, zoo, trust_remote_code)
    return LoadedAgent(
        model=model,
        env=agent_env,
        env_error=env_error,
        env_id=env_id,
        algo=algo_class.__name__,
        source=files.source,
        revision=files.revision,
        filename=zip_name,
        sha256=files.sha256(zip_name),
        trusted=trust_remote_code,
        placeholders=placeholders,
        card=card,
        results=results,
    )


def _check_algorithm(claimed: str, claimed_by: str, data: dict[str, Any], source: str, zip_name: str) -> None:
    """Refuse an algorithm the zip's policy does not belong to (SB3 would fail later with an AttributeError)."""
    found = algorithm_mismatch(claimed, data)
    if found is None:
        return
    agent = f"{zip_name} of {source}" if Path(source).name != zip_name else source
    fix = f"Pass algo={found!r}"
    if claimed_by == "algo=":
        raise InvalidArgumentError(
            f"algo={claimed!r} does not match {agent}: it is a {found} agent (policy {policy_name(data)}). "
            f"{fix}, or leave it out so it is detected. Nothing was loaded."
        )
    raise CorruptArtifactError(
        f"{claimed_by} of {source} claims the algorithm {claimed!r}, but {zip_name} is a {found} agent (policy "
        f"{policy_name(data)}). {fix} to load it, and correct the repo's {claimed_by}. Nothing was loaded."
    )


def _env_id_from_files(
    card: dict[str, Any], results: dict[str, Any] | None, zoo: dict[str, dict[str, Any]], *, trusted: bool
) -> str | None:
    """The env id the card, ``results.json`` or the RL Zoo's ``args.yml`` gives (in that order), refused when it
    would make gymnasium import a module, unless ``trusted`` (see :func:`.environments.env_id_from_file`)."""
    from .environments import env_id_from_file

    given = (
        ("README.md", env_id_from_card(card)),
        ("results.json", (results or {}).get("env_id")),
        ("args.yml", zoo.get("args.yml", {}).get("env")),
    )
    return next(
        (env_id for name, value in given if (env_id := env_id_from_file(value, name, trust_remote_code=trusted))),
        None,
    )


def _card_metadata(files: AgentFiles) -> dict[str, Any]:
    if "README.md" not in files.names:
        return {}
    from .card_metadata import read_metadata

    try:
        return read_metadata(files.path("README.md").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}


def _json_file(files: AgentFiles, name: str) -> dict[str, Any] | None:
    if name not in files.names:
        return None
    try:
        content = json.loads(files.path(name).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return content if isinstance(content, dict) else None


def _load_model(
    zip_path: Path,
    data: dict[str, Any],
    algo_class: type[BaseAlgorithm],
    env: gym.Env | VecEnv | None,
    device: str,
    trusted: bool,
) -> tuple[BaseAlgorithm, tuple[str, ...]]:
    if trusted:
        return algo_class.load(zip_path, env=env, device=device), ()
    from .safe_load import load_model

    return load_model(zip_path, algo_class, env=env, device=device, data=data)


def _agent_env(
    files: AgentFiles,
    zip_name: str,
    model: BaseAlgorithm,
    env: gym.Env | VecEnv | None,
    env_id: str | None,
    env_kwargs: dict[str, Any],
    zoo: dict[str, dict[str, Any]],
    trusted: bool,
) -> tuple[VecEnv | None, str | None]:
    """The env for ``model`` (the given one, or one built from ``env_id``), or None and the reason."""
    from .environments import make_env
    from .safe_load import load_vec_normalize
    from .zoo_files import normalize_settings

    if env is not None:
        return model.get_env(), None
    if env_id is None:
        return None, "the environment id is unknown: pass env_id= (or env=)"
    config = zoo.get("config.yml", {})
    wrapper = config.get("env_wrapper")
    if wrapper and "AtariWrapper" not in str(wrapper):
        return None, f"the agent was trained with the wrapper {wrapper}; build that env yourself and pass env="
    statistics = next((path for name in VEC_NORMALIZE_FILES if (path := files.extra(zip_name, name)) is not None), None)
    if statistics is None and normalize_settings(config.get("normalize")) is not None:
        return None, "the agent was trained with VecNormalize, but its statistics are not in the repo"
    try:
        venv = make_env(
            env_id, model=model, env_kwargs=env_kwargs if env_kwargs is not None else zoo.get("env_kwargs.yml")
        )
    except HuggingFaceSB3Error as error:
        return None, str(error)
    except Exception as error:  # gymnasium raises many kinds (missing dependency, bad kwargs, ...)
        return None, f"gymnasium could not make {env_id!r}: {type(error).__name__}: {error}"
    if statistics is None:
        return venv, None
    if trusted and statistics.suffix == ".pkl":
        from stable_baselines3.common.vec_env import VecNormalize

        normalized = VecNormalize.load(str(statistics), venv)
        normalized.training, normalized.norm_reward = False, False
        return normalized, None
    return load_vec_normalize(statistics, venv), None
