"""Keycloak wiring for the tests: a fake with one Identity Center client and a decoy, the
connector pointed at it, and the contract-suite subject."""

from __future__ import annotations

import copy
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from agent.connector import ConnectorContext
from connectors.keycloak import KeycloakConnector
from connectors.keycloak.config import KeycloakTarget
from connectors.kit.testing import ENTITY, PRIMARY_URLS, Subject, desired_trust
from tests.fakes.keycloak_fake import CLIENT_ID, CLIENT_SECRET, KeycloakFake, saml_client

SECRET_ENV = "IDPSYNC_KC_SECRET"
MANAGED = ("clientId", "redirectUris")


def target(fake: KeycloakFake, **overrides: Any) -> KeycloakTarget:
    values: dict[str, Any] = {
        "name": "keycloak-prod",
        "base_url": fake.base_url,
        "realm": fake.realm,
        "client_id": CLIENT_ID,
        "client_secret_env": SECRET_ENV,
        "apps": [{"client_id": ENTITY}],
        "backoff_base": 0.01,
        **overrides,
    }
    return KeycloakTarget.model_validate(values)


def context(tmp_path: Path, **kwargs: Any) -> ConnectorContext:
    return ConnectorContext(env={SECRET_ENV: CLIENT_SECRET}, base_dir=tmp_path, **kwargs)


def primary_client(*extra_uris: str) -> dict[str, Any]:
    return saml_client(ENTITY, [*PRIMARY_URLS, *extra_uris], PRIMARY_URLS[0])


def unmanaged(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in copy.deepcopy(doc).items() if k not in MANAGED}
    out["attributes"].pop("saml_assertion_consumer_url_post", None)
    return out


async def subject(tmp_path: Path, stack: AsyncExitStack) -> Subject:
    fake = KeycloakFake().start()
    stack.callback(fake.stop)
    app_id = fake.add_client(primary_client())
    decoy = saml_client(ENTITY + "-staging", list(PRIMARY_URLS), PRIMARY_URLS[0])
    fake.add_client(decoy)
    conn = KeycloakConnector(target(fake), context(tmp_path))
    stack.push_async_callback(conn.aclose)

    def edit() -> None:
        fake.edit_client(app_id, lambda d: d.update(description="edited in the console"))

    return Subject(
        kind="keycloak",
        connector=conn,
        app_id=app_id,
        desired=desired_trust(),
        requests=lambda: [
            (r.method, r.path) for r in fake.requests if not r.path.endswith("/token")
        ],
        clear_log=fake.reset_log,
        app_write=("PUT", f"/admin/realms/{fake.realm}/clients/{app_id}"),
        stored=lambda: copy.deepcopy(fake.clients[app_id]),
        unmanaged=unmanaged,
        edit=edit,
    )
