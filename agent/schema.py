"""JSON Schema of the configuration file, for editors and CI (``config/schema.json``).

Generated from the pydantic models, so it cannot drift from what ``load_config`` accepts::

    .venv/bin/python -m agent.schema > config/schema.json

``targets`` items are each built-in or installed connector's own ``config_model``, found
through the same entry-point registry the loader uses. A connector whose module is not
importable (not written yet, or broken) is skipped; a test fails when the committed file
is stale, so whoever changes a config model regenerates it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent.config import Config
from agent.errors import ConfigError
from agent.registry import connector_class, known_types

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# What parse_duration accepts: "30s", "15m", "24h", "7d", or a number of seconds.
_DURATION = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*\d+\s*(s|m|h|d)\s*$"},
        {"type": "number", "minimum": 0},
    ]
}


def _durations(node: Any) -> Any:
    """pydantic renders timedelta as ISO 8601; idpsync configs write 24h / 15m / 60s."""
    if isinstance(node, dict):
        if node.get("format") == "duration" and node.get("type") == "string":
            extra = {k: v for k, v in node.items() if k not in ("type", "format")}
            return {**extra, **_DURATION}
        return {k: _durations(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_durations(v) for v in node]
    return node


def _target_schemas(defs: dict[str, Any]) -> list[dict[str, Any]]:
    variants: list[dict[str, Any]] = []
    for type_name in known_types():
        try:
            cls = connector_class(type_name)
        except ConfigError:
            continue  # module not present (yet): skipped, see the module docstring
        prefix = re.sub(r"[^A-Za-z0-9_]", "_", type_name) + "__"
        sub = cls.config_model.model_json_schema(ref_template="#/$defs/" + prefix + "{model}")
        for key, value in sub.pop("$defs", {}).items():
            defs[prefix + key] = value
        properties = sub.setdefault("properties", {})
        properties["type"] = {
            "const": type_name,
            "description": f"connector type ({cls.__module__}.{cls.__name__})",
        }
        key = prefix + "target"
        defs[key] = sub
        variants.append({"$ref": f"#/$defs/{key}"})
    return variants


def build_schema() -> dict[str, Any]:
    schema: dict[str, Any] = Config.model_json_schema()
    schema["properties"].pop("base_dir", None)  # set by the loader, never written in a file
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    variants = _target_schemas(defs)
    defs.pop("TargetConfig", None)
    schema["properties"]["targets"]["items"] = (
        {"oneOf": variants} if variants else {"type": "object"}
    )
    schema["properties"]["targets"]["description"] = (
        "IdP apps to keep in sync; each entry is validated by its connector's model (type:)"
    )
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "idpsync configuration",
        **_durations(schema),
    }


def render_schema() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    import sys

    sys.stdout.write(render_schema())


if __name__ == "__main__":
    main()
