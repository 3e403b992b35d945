"""The YAML block at the top of a README.md: read it, and check it the way the Hub's ``validate-yaml`` does."""

from __future__ import annotations

import re
from typing import Any

import yaml

# The same block the huggingface_hub client recognises (huggingface_hub.repocard.REGEX_YAML_BLOCK).
_YAML_BLOCK_RE = re.compile(r"^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))")


class MetadataError(ValueError):
    """The README's metadata cannot be read or does not follow the Hub's schema; one message per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_metadata(readme: str) -> dict[str, Any]:
    """The metadata of a README (``{}`` when it has no YAML block); MetadataError if the YAML is broken."""
    match = _YAML_BLOCK_RE.search(readme)
    if match is None:
        return {}
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError as error:
        raise MetadataError([f"Invalid YAML in the README metadata: {error}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MetadataError(["The README metadata must be a YAML mapping (key: value pairs)."])
    return data


def validate_metadata(readme: str) -> dict[str, Any]:
    """Read the metadata and check the fields the Hub and the Deep RL leaderboard rely on; return it."""
    data = read_metadata(readme)
    problems: list[str] = []
    for key in ("tags", "datasets", "metrics", "language"):
        value = data.get(key)
        if value is not None and not (isinstance(value, str) or _is_list_of(value, str)):
            problems.append(f'"{key}" must be a string or a list of strings')
    for key in ("license", "library_name", "pipeline_tag"):
        if key in data and not isinstance(data[key], str):
            problems.append(f'"{key}" must be a string')
    if "model-index" in data:
        problems.extend(_model_index_problems(data["model-index"]))
    if problems:
        raise MetadataError(problems)
    return data


def _is_list_of(value: object, kind: type) -> bool:
    return isinstance(value, list) and all(isinstance(item, kind) for item in value)


def _model_index_problems(model_index: object) -> list[str]:
    if not _is_list_of(model_index, dict):
        return ['"model-index" must be a list of models']
    problems: list[str] = []
    for m, model in enumerate(model_index):
        where = f'"model-index[{m}]"'
        if not isinstance(model.get("name"), str):
            problems.append(f"{where}.name must be a string")
        results = model.get("results")
        if not _is_list_of(results, dict):
            problems.append(f"{where}.results must be a list of results")
            continue
        for r, result in enumerate(results):
            at = f"{where}.results[{r}]"
            task = result.get("task")
            if not isinstance(task, dict) or not isinstance(task.get("type"), str):
                problems.append(f"{at}.task.type must be a string")
            dataset = result.get("dataset")
            if dataset is not None and not (
                isinstance(dataset, dict)
                and isinstance(dataset.get("name"), str)
                and isinstance(dataset.get("type"), str)
            ):
                problems.append(f"{at}.dataset must have string name and type")
            metrics = result.get("metrics")
            if not _is_list_of(metrics, dict) or not metrics:
                problems.append(f"{at}.metrics must be a non-empty list of metrics")
                continue
            for k, metric in enumerate(metrics):
                if not isinstance(metric.get("type"), str) or "value" not in metric:
                    problems.append(f"{at}.metrics[{k}] must have a string type and a value")
    return problems


def repo_tags(metadata: dict[str, Any]) -> list[str]:
    """Tags the Hub shows for a repo: the card's tags, its library and its license."""
    raw_tags = metadata.get("tags") or []
    tags = [raw_tags] if isinstance(raw_tags, str) else [tag for tag in raw_tags if isinstance(tag, str)]
    library = metadata.get("library_name")
    if isinstance(library, str):
        tags.append(library)
    license_name = metadata.get("license")
    if isinstance(license_name, str):
        tags.append(f"license:{license_name}")
    return list(dict.fromkeys(tags))
