"""Config keys are a public contract: every connector's target keys (name, default, bounds,
description) must match the snapshot taken from main before the config dedup (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.registry import connector_class

SNAPSHOT: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "config_properties.json").read_text()
)


@pytest.mark.parametrize("type_name", sorted(SNAPSHOT))
def test_target_config_properties_unchanged(type_name: str) -> None:
    properties = connector_class(type_name).config_model.model_json_schema()["properties"]
    assert properties == SNAPSHOT[type_name]
