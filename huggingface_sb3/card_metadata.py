"""The YAML block at the top of a README.md: read it, and check it the way the Hub's ``validate-yaml`` does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard, TypeVar, cast

import yaml


@dataclass(frozen=True)
class MetadataLimits:
    """What reading a README's metadata may cost; the defaults are far above any real card.

    Attributes:
        max_bytes: the largest YAML block read (the Hub's own cards stay under a few KiB).
        max_aliases: the most YAML aliases (``*name``) the block may use.
    """

    max_bytes: int = 64 * 1024
    max_aliases: int = 100

    @property
    def max_expanded_chars(self) -> int:
        """The most characters of values (plus one per value) the metadata may spell out once every alias is
        expanded, as JSON would send it: aliases may not make it much bigger than the largest card without them."""
        return 2 * self.max_bytes


# The block huggingface_hub 1.x recognises (huggingface_hub.repocard.REGEX_YAML_BLOCK). Each alternative has a
# fixed length except ``[ \t]*`` before a line end, so matching is linear: the 0.x regex, whose newline runs
# (``[\r\n]+``) could overlap, took 30 s on 4,000 newlines after ``---``.
_YAML_BLOCK_RE = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")


class MetadataError(ValueError):
    """The README's metadata cannot be read or does not follow the Hub's schema; one message per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def split_readme(readme: str) -> tuple[str | None, str]:
    """``(YAML block or None, the text after it)``, split where huggingface_hub splits a card."""
    match = _YAML_BLOCK_RE.search(readme)
    if match is None:
        return None, readme
    return match.group(2), readme[match.end() :]


def read_metadata(readme: str, limits: MetadataLimits = MetadataLimits()) -> dict[str, Any]:
    """The metadata of a README (``{}`` when it has no YAML block); MetadataError if the YAML is broken or too big.

    Bounded for untrusted cards by ``limits``: the YAML's size, its number of aliases, and its size once aliases
    are expanded (a few hundred bytes of nested aliases would otherwise expand to gigabytes when the metadata is
    sent as JSON). Dates stay strings, as in JSON.
    """
    block, _ = split_readme(readme)
    if not block:
        return {}
    if len(block.encode("utf-8", "replace")) > limits.max_bytes:
        raise MetadataError([f"The README metadata is larger than {limits.max_bytes} bytes."])
    loader = _BoundedLoader(block, limits.max_aliases)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        _expanded_size(node, {}, limits.max_expanded_chars)
        data = loader.construct_document(node)
    except yaml.YAMLError as error:
        raise MetadataError([f"Invalid YAML in the README metadata: {error}"]) from None
    except (_TooLargeError, RecursionError) as error:
        reason = str(error) if isinstance(error, _TooLargeError) else "it is nested too deeply"
        raise MetadataError([f"The README metadata is refused: {reason}."]) from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MetadataError(["The README metadata must be a YAML mapping (key: value pairs)."])
    return data


class _TooLargeError(Exception):
    pass


class _BoundedLoader(yaml.SafeLoader):
    """A safe YAML loader that counts aliases while composing, and keeps dates, sets and binaries JSON-friendly."""

    def __init__(self, stream: str, max_aliases: int) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.max_aliases = max_aliases

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.max_aliases:
                raise _TooLargeError(f"it uses more than {self.max_aliases} aliases")
        # typeshed says index is an int; PyYAML also passes None and key nodes (for mappings), passed on untouched
        return super().compose_node(parent, cast(int, index))


# The node types are those the constructors handle; add_constructor accepts such narrower functions. Another kind
# of node under these tags is refused by construct_scalar / construct_mapping themselves (a ConstructorError).
def _plain_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode | yaml.MappingNode) -> str:
    return str(loader.construct_scalar(node))


def _set_as_list(loader: yaml.SafeLoader, node: yaml.MappingNode) -> list[Any]:
    return list(loader.construct_mapping(node))


for _tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"):
    _BoundedLoader.add_constructor(_tag, _plain_scalar)
_BoundedLoader.add_constructor("tag:yaml.org,2002:set", _set_as_list)


def _expanded_size(node: yaml.Node, sizes: dict[int, int], limit: int) -> int:
    """How many characters ``node`` spells out with aliases expanded (one more per value); _TooLargeError past
    ``limit``. Aliased nodes are shared objects in the composed graph, so each is measured once (``sizes``)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, sizes, limit) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(
            _expanded_size(key, sizes, limit) + _expanded_size(value, sizes, limit) for key, value in node.value
        )
    else:
        size = 1 + len(node.value)
    if size > limit:
        raise _TooLargeError(f"its aliases expand it to more than {limit} characters")
    sizes[id(node)] = size
    return size


def validate_metadata(readme: str, limits: MetadataLimits = MetadataLimits()) -> dict[str, Any]:
    """Read the metadata and check the fields the Hub and the Deep RL leaderboard rely on; return it."""
    data = read_metadata(readme, limits)
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


_T = TypeVar("_T")


def _is_list_of(value: object, kind: type[_T]) -> TypeGuard[list[_T]]:
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
