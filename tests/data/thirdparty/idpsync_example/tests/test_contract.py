"""idpsync's connector contract suite, run against the ExampleIdP connector and its fake.

``IDPSYNC_EXAMPLE_VARIANT=lossy`` runs it against the deliberately broken variant instead.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import pytest
from fake_exampleidp import TOKEN, ExampleFake

from agent.connector import Connector, ConnectorContext
from agent.registry import connector_class
from connectors.kit.testing import ENTITY, PRIMARY_URLS, ConnectorContract, Subject

APP: dict[str, Any] = {
    "id": "app1",
    "name": "AWS IAM Identity Center",
    "signOnMode": "SAML_2_0",
    "notes": {"owner": "identity-team", "tags": ["aws", "prod"]},
    "saml": {
        "audience": ENTITY,
        "defaultAcs": PRIMARY_URLS[0],
        "acs": [
            {"url": PRIMARY_URLS[0], "index": 0, "label": "v4"},
            {"url": PRIMARY_URLS[1], "index": 1},
        ],
        "signing": {"algorithm": "RSA_SHA256", "kid": "k-1"},
    },
}
DECOY = {"id": "app0-decoy", "name": "Other", "signOnMode": "SAML_2_0", "saml": {"acs": []}}
MANAGED = ("audience", "acs", "defaultAcs")


def connector_type() -> type[Connector]:
    if os.environ.get("IDPSYNC_EXAMPLE_VARIANT") == "lossy":
        from lossy_variant import LossyConnector

        return LossyConnector
    return connector_class("example")  # found through the installed entry point


@pytest.fixture
def fake() -> Iterator[ExampleFake]:
    with ExampleFake() as server:
        server.apps = {"app1": copy.deepcopy(APP), DECOY["id"]: copy.deepcopy(DECOY)}
        yield server


def unmanaged(doc: dict[str, Any]) -> dict[str, Any]:
    saml = {k: v for k, v in doc["saml"].items() if k not in MANAGED}
    return {**doc, "saml": saml}


class TestExampleConnector(ConnectorContract):
    @pytest.fixture
    async def subject(self, fake: ExampleFake) -> Any:
        cls = connector_type()
        config = cls.config_model.model_validate(
            {
                "name": "example-prod",
                "type": "example",
                "api_url": fake.base_url,
                "token_env": "EXAMPLE_TOKEN",
                "apps": ["app1"],
            }
        )
        conn = cls(config, ConnectorContext(env={"EXAMPLE_TOKEN": TOKEN}))

        def edit() -> None:
            fake.apps["app1"]["notes"] = "edited behind idpsync's back"

        yield Subject(
            kind="example",
            connector=conn,
            app_id="app1",
            requests=lambda: [(r.method, r.path) for r in fake.requests],
            clear_log=fake.reset_log,
            app_write=("PUT", "/api/v1/apps/app1"),
            stored=lambda: copy.deepcopy(fake.apps["app1"]),
            unmanaged=unmanaged,
            edit=edit,
        )
        await conn.aclose()
