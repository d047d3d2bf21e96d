"""YAML for the configuration file: safe loading, and duplicate keys are an error.

PyYAML keeps the last of two equal keys in a mapping without a word, so a file that says
``primary_region`` twice silently means the second one. A configuration key is a decision;
two answers to one question is a mistake to point at, never a value to guess. The document
is composed first (nodes keep their line numbers), every mapping is checked, and only then
is it constructed, with ``yaml.SafeLoader`` (no Python objects).
"""

from __future__ import annotations

from typing import Any

import yaml

from agent.errors import ConfigError
from agent.yamlerrors import describe

_MERGE = "tag:yaml.org,2002:merge"


def load_yaml(text: str, *, path: str) -> Any:
    """The document in ``text``; :class:`ConfigError` for invalid YAML or a duplicate key."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_duplicates(node, path, "", set())
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(describe(exc), path=path) from None
    finally:
        loader.dispose()


def _child(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check_duplicates(node: yaml.Node, path: str, where: str, seen: set[int]) -> None:
    if id(node) in seen:  # an alias: checked where its anchor is (and no endless recursion)
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicates(item, path, f"{where}[{i}]", seen)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    first_line: dict[str, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
            _check_duplicates(value_node, path, where, seen)
            continue
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if key in first_line:
            raise ConfigError(
                f"duplicate key {key!r} on lines {first_line[key]} and {line}; YAML would "
                "silently keep the last one: keep exactly one",
                path=path,
                key=_child(where, key),
            )
        first_line[key] = line
        _check_duplicates(value_node, path, _child(where, key), seen)
