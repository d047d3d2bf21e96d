"""config/schema.json: generated from the models, never stale, and it validates the example."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from agent.registry import known_types
from agent.schema import build_schema, render_schema

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "config" / "schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_is_not_stale() -> None:
    assert SCHEMA_FILE.read_text() == render_schema(), (
        "config/schema.json is stale: regenerate it with "
        ".venv/bin/python -m agent.schema > config/schema.json"
    )


def test_every_loadable_connector_contributes_its_target_model() -> None:
    defs = build_schema()["$defs"]
    consts = {d["properties"]["type"]["const"] for k, d in defs.items() if k.endswith("__target")}
    assert "file" in consts
    assert consts <= set(known_types())


def test_shipped_example_validates(validator: jsonschema.Draft202012Validator) -> None:
    doc = yaml.safe_load((REPO / "config" / "example.yaml").read_text())
    assert list(validator.iter_errors(doc)) == []


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ({"identity_center": {"bogus": 1}}, "bogus"),
        ({"identity_center": {"stacks": ["ipv6"]}}, "ipv6"),
        ({"policy": {"removal_grace": "soon"}}, "soon"),
        ({"targets": [{"name": "x", "type": "nope"}]}, "nope"),
    ],
)
def test_schema_rejects_what_the_loader_rejects(
    validator: jsonschema.Draft202012Validator, patch: dict[str, Any], fragment: str
) -> None:
    doc = yaml.safe_load((REPO / "config" / "example.yaml").read_text())
    for key, value in patch.items():
        doc[key] = {**doc[key], **value} if isinstance(value, dict) else value
    errors = list(validator.iter_errors(doc))
    assert errors
    assert any(fragment in json.dumps(e.instance) or fragment in e.message for e in errors)


def test_durations_accept_the_config_spelling(validator: jsonschema.Draft202012Validator) -> None:
    doc = yaml.safe_load((REPO / "config" / "example.yaml").read_text())
    doc["policy"] = {"removal_grace": "48h"}
    doc["service"] = {"interval": 900}
    assert list(validator.iter_errors(doc)) == []
