"""The RL Zoo's YAML files (``config.yml``, ``args.yml``, ``env_kwargs.yml``), read without running anything.

The Zoo writes ``!!python/object/apply:collections.OrderedDict`` documents, which ``yaml.safe_load`` refuses; this
loader accepts exactly that tag. Its ``normalize`` value may be a string such as ``"{'norm_obs': True}"`` or
``"dict(norm_obs=True)"``, which the Zoo ``eval``s; here it is parsed as literals only.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml

from .errors import CorruptArtifactError, UnsafeArtifactError

__all__ = ["normalize_settings", "read_zoo_yaml"]

_ORDERED_DICT_TAG = "tag:yaml.org,2002:python/object/apply:collections.OrderedDict"
MAX_YAML_BYTES = 1024 * 1024


class _ZooLoader(yaml.SafeLoader):
    """SafeLoader plus the OrderedDict tag the RL Zoo writes."""


def _ordered_dict(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> dict[str, Any]:
    pairs = loader.construct_sequence(node, deep=True)
    if len(pairs) == 1 and isinstance(pairs[0], list) and all(isinstance(pair, list) for pair in pairs[0]):
        pairs = pairs[0]
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise yaml.constructor.ConstructorError(None, None, "an OrderedDict needs [key, value] pairs", node.start_mark)
    return {key: value for key, value in pairs}


_ZooLoader.add_constructor(_ORDERED_DICT_TAG, _ordered_dict)


def read_zoo_yaml(path: Path) -> dict[str, Any]:
    """Read a Zoo YAML file into a dict; any other Python tag is refused."""
    text = path.read_bytes()
    if len(text) > MAX_YAML_BYTES:
        raise CorruptArtifactError(f"{path.name} is larger than {MAX_YAML_BYTES} bytes; it is not an RL Zoo file.")
    try:
        content = yaml.load(text, Loader=_ZooLoader)
    except yaml.constructor.ConstructorError as error:
        raise UnsafeArtifactError(
            f"{path.name} uses a YAML tag that would build Python objects ({error.problem}); huggingface_sb3 reads "
            "only the RL Zoo's OrderedDict documents.",
            filename=path.name,
            key=None,
            global_name=str(error.problem),
        ) from None
    except yaml.YAMLError as error:
        raise CorruptArtifactError(f"{path.name} is not valid YAML: {error}.") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise CorruptArtifactError(f"{path.name} should hold a mapping of settings, not {type(content).__name__}.")
    return content


def normalize_settings(value: Any) -> dict[str, Any] | None:
    """The ``VecNormalize`` keyword arguments a Zoo ``normalize`` entry asks for; None when not normalised."""
    if value is None or value is False:
        return None
    if value is True:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        parsed = _literal_kwargs(value)
        if parsed is not None:
            return parsed
    raise CorruptArtifactError(f"Cannot read the RL Zoo normalize setting {value!r}: expected true/false or a dict.")


def _literal_kwargs(text: str) -> dict[str, Any] | None:
    """``"{'a': 1}"`` or ``"dict(a=1)"`` with literal values only; None if it is neither."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "dict" and not tree.args:
        try:
            return {keyword.arg: ast.literal_eval(keyword.value) for keyword in tree.keywords if keyword.arg}
        except ValueError:
            return None
    try:
        value = ast.literal_eval(tree)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
