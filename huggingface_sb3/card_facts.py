"""What a model card states about an agent, read from its repo folder.

``package_to_hub`` and ``huggingface-sb3 card write`` both describe a folder holding the agent's zip and
``results.json`` (plus, when present, ``replay.mp4`` and ``VecNormalize`` statistics), so both read the facts here:
the card says what the folder holds, whoever wrote it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .card import CardFacts
from .errors import CorruptArtifactError, InvalidArgumentError, MissingFileError
from .model_files import (
    REPLAY,
    RESULTS,
    VEC_NORMALIZE_JSON,
    VEC_NORMALIZE_PICKLE,
    plain_hyperparameters,
    readable_config,
)

__all__ = ["read_card_facts"]


def read_card_facts(
    folder: Path,
    *,
    repo_id: str,
    endpoint: str | None,
    revision: str = "main",
    zip_name: str | None = None,
    env_id: str | None = None,
    algo: str | None = None,
    wrappers: tuple[str, ...] = (),
) -> CardFacts:
    """The facts of the agent in ``folder``, for the card of ``repo_id`` (whose video is linked at ``revision``).

    Args:
        folder: the repo folder (the agent's zip and ``results.json`` at its root).
        repo_id: the repo the card is for.
        endpoint: the Hub the video link points to (default: ``HF_ENDPOINT``, else huggingface.co).
        revision: the revision in the video link.
        zip_name: the agent's zip (default: the folder's only one).
        env_id: the env id (default: the one in ``results.json``).
        algo: the algorithm (default: the one in ``results.json``, else read from the zip).
        wrappers: the evaluation env's wrappers, when known.

    Raises:
        MissingFileError: no ``results.json``, or no single agent zip.
        InvalidArgumentError: the env id or algorithm cannot be told, or ``results.json`` lacks the evaluation.
    """
    from .agent_files import algorithm_from_data, algorithm_name, pick_agent_zip
    from .environments import env_id_from_file, frame_stack_of, is_atari
    from .evaluation import EvaluationResult
    from .hub_access import resolve_url
    from .safe_load import read_agent_data
    from .system_info import library_versions

    results_path = folder / RESULTS
    if not results_path.is_file():
        raise MissingFileError(f"{results_path} does not exist: evaluate first (huggingface-sb3 evaluate).")
    results = _results(results_path)
    names = {path.name for path in folder.iterdir() if path.is_file()}
    zip_name = zip_name or pick_agent_zip(names, algo=None, env_id=None)
    if zip_name is None:
        raise MissingFileError(f"{folder} has no single agent .zip; put the agent's zip in it.")
    data = read_agent_data(folder / zip_name)
    env_id = env_id or env_id_from_file(results.get("env_id"), RESULTS)
    algo = algo or _text(results.get("algo")) or algorithm_from_data(data)
    if not env_id or not algo:
        raise InvalidArgumentError("Cannot tell the env id or the algorithm: pass env_id= and algo=.")
    try:
        evaluation = EvaluationResult.from_json(results, source=str(results_path))
    except CorruptArtifactError as error:
        raise InvalidArgumentError(
            f"{error} Re-evaluate with huggingface-sb3 package --dry-run (3.0 wrote only mean and std)."
        ) from None
    shape = tuple((data.get("observation_space") or {}).get("_shape") or ())
    versions = results.get("library_versions")
    return CardFacts(
        repo_id=repo_id,
        algo=algorithm_name(algo) or algo,
        env_id=env_id,
        model_filename=zip_name,
        evaluation=evaluation,
        hyperparameters=plain_hyperparameters(readable_config(data, {})),
        wrappers=wrappers,
        normalized=bool({VEC_NORMALIZE_JSON, VEC_NORMALIZE_PICKLE} & names),
        atari_frame_stack=frame_stack_of(shape) if is_atari(env_id) else None,
        video_url=resolve_url(endpoint, repo_id, revision, REPLAY) if REPLAY in names else None,
        versions=versions if isinstance(versions, dict) and versions else library_versions(),
        trained_steps=int(data.get("num_timesteps", 0)),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _results(path: Path) -> dict[str, Any]:
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise CorruptArtifactError(f"{path} is not JSON ({error}); evaluate again to rewrite it.") from None
    if not isinstance(results, dict):
        raise CorruptArtifactError(f"{path} is not a JSON object; evaluate again to rewrite it.")
    return results
