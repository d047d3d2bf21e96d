"""OneLogin wiring for the tests: a fake with one Identity Center app and a decoy, the
connector pointed at it, and the contract-suite subject."""

from __future__ import annotations

import copy
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from agent.connector import ConnectorContext
from connectors.kit.testing import ENTITY, PRIMARY_URLS, Subject, desired_trust
from connectors.onelogin import OneLoginConnector
from connectors.onelogin.config import OneLoginTarget
from tests.fakes.onelogin_fake import CLIENT_ID, CLIENT_SECRET, OneLoginFake, saml_app

SECRET_ENV = "IDPSYNC_OL_SECRET"
NAME = "AWS IAM Identity Center"
# What an administrator typically enters: any Identity Center ACS URL of any Region.
VALIDATOR = r"^https:\/\/[a-z0-9-]+\.(sso\.)?signin\.aws\/platform\/saml\/acs\/[0-9a-f-]+$"
MANAGED = ("consumer_url", "recipient", "audience")


def target(fake: OneLoginFake, **overrides: Any) -> OneLoginTarget:
    values: dict[str, Any] = {
        "name": "onelogin-prod",
        "api_url": fake.base_url,
        "client_id": CLIENT_ID,
        "client_secret_env": SECRET_ENV,
        "apps": [{"name": NAME}],
        "backoff_base": 0.01,
        **overrides,
    }
    return OneLoginTarget.model_validate(values)


def context(tmp_path: Path, **kwargs: Any) -> ConnectorContext:
    return ConnectorContext(env={SECRET_ENV: CLIENT_SECRET}, base_dir=tmp_path, **kwargs)


def primary_app(validator: str = VALIDATOR, consumer_url: str = PRIMARY_URLS[0]) -> dict[str, Any]:
    return saml_app(NAME, consumer_url, ENTITY, validator)


def unmanaged(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out.pop("updated_at", None)
    for key in MANAGED:
        out["configuration"].pop(key, None)
    return out


async def subject(tmp_path: Path, stack: AsyncExitStack) -> Subject:
    fake = OneLoginFake().start()
    stack.callback(fake.stop)
    app_id = fake.add_app(primary_app())
    fake.add_app({**primary_app(), "name": NAME + " (staging)"})
    conn = OneLoginConnector(target(fake), context(tmp_path))
    stack.push_async_callback(conn.aclose)

    def edit() -> None:
        fake.edit_app(app_id, lambda d: d.update(notes="edited in the console"))

    return Subject(
        kind="onelogin",
        connector=conn,
        app_id=str(app_id),
        desired=desired_trust(),
        requests=lambda: [(r.method, r.path) for r in fake.requests if "/auth/" not in r.path],
        clear_log=fake.reset_log,
        app_write=("PUT", f"/api/2/apps/{app_id}"),
        stored=lambda: copy.deepcopy(fake.apps[app_id]),
        unmanaged=unmanaged,
        edit=edit,
    )
