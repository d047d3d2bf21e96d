"""The connectors of the mixed benchmark (``run --mixed``): how each one's fake is made and
seeded, how its target is configured, how its requests are counted, and its documented
minimum requests per app (from the connector's README section).

Adding a multi-ACS connector is one entry in :data:`VENDORS` (and its name in ``MIXED``):
JumpCloud, once ``connectors/jumpcloud`` and ``tests/fakes/jumpcloud_fake.py`` land, needs a
``_jumpcloud()`` like the ones below. OneLogin holds one ACS URL per app and is not here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.benchmarks import scenario as sc

SECRET_ENVS = {
    "pingone": "BENCH_PINGONE_SECRET",
    "pingfederate": "BENCH_PF_PASSWORD",
    "keycloak": "BENCH_KEYCLOAK_SECRET",
}


def primary_urls() -> list[str]:
    """What every seeded app trusts: the primary Region only (IPv4 first, then dual-stack)."""
    return [url for url, _ in sc.endpoints(1)]


@dataclass(frozen=True)
class Vendor:
    """One connector in the mixed scenario. Every callable runs in the fakes' process except
    ``target`` and ``env``, which build the parent's configuration from ``info``."""

    name: str
    make_fake: Callable[[float], Any]  # latency -> a FakeIdP (not started)
    add_app: Callable[[Any, int], str]  # fake, number -> app id
    store: str  # the fake's attribute holding the apps (restored between runs)
    info: Callable[[Any], dict[str, Any]]  # the fake -> what the parent needs (picklable)
    target: Callable[[dict[str, Any], list[str]], dict[str, Any]]  # info, ids -> config
    token_suffix: str  # a POST to a path ending so is a token request
    list_suffix: str  # a GET of a path ending so is a listing page
    readback_get: bool  # True: the PUT answers 204, so the engine verifies with 1 GET
    list_pages: Callable[[int], int]  # apps -> listing pages a run may need at most
    minimum: str  # the README's "Requests per app", stated in the output

    def kind(self, method: str, path: str) -> str:
        """The benchmark's request kinds: token, list, get, put (others by method)."""
        if method == "POST" and path.endswith(self.token_suffix):
            return "token"
        if method == "GET":
            return "list" if path.rstrip("/").endswith(self.list_suffix) else "get"
        return method.lower()

    def minimum_per_app(self, run: str) -> dict[str, int]:
        """Documented GETs and PUTs per app (listing pages and tokens are per run)."""
        if run != "apply":
            return {"get": 1, "put": 0}
        return {"get": 2 + (1 if self.readback_get else 0), "put": 1}


# --- PingOne --------------------------------------------------------------------------------


def _pingone_fake(latency: float) -> Any:
    from tests.fakes.pingone_fake import PingOneFake

    return PingOneFake(latency=latency)


def _pingone_add(fake: Any, number: int) -> str:
    from tests.fakes.pingone_fake import saml_app

    doc = saml_app(sc.LABEL, primary_urls(), sc.ENTITY_ID)
    doc["description"] = f"bench app {number}, kept byte for byte"
    return str(fake.add_app(doc))


def _pingone_info(fake: Any) -> dict[str, Any]:
    return {
        "base_url": fake.base_url,
        "environment_id": fake.environment_id,
        "client_id": fake.client_id,
        "secret": fake.client_secret,
    }


def _pingone_target(info: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    return {
        "name": "pingone",
        "type": "pingone",
        "environment_id": info["environment_id"],
        "api_url": info["base_url"],
        "auth_url": info["base_url"],
        "client_id": info["client_id"],
        "client_secret_env": SECRET_ENVS["pingone"],
        "apps": [{"name": sc.LABEL}],
    }


# --- PingFederate ---------------------------------------------------------------------------


def _pf_fake(latency: float) -> Any:
    from tests.fakes.pingfederate_fake import PingFederateFake

    return PingFederateFake(latency=latency)


def _pf_add(fake: Any, number: int) -> str:
    from tests.fakes.pingfederate_fake import sp_connection

    doc = sp_connection(sc.LABEL, primary_urls(), sc.ENTITY_ID)
    doc["contactInfo"]["notes"] = f"bench connection {number}, kept byte for byte"
    return str(fake.add_connection(doc))


def _pf_info(fake: Any) -> dict[str, Any]:
    return {"base_url": fake.base_url, "username": fake.username, "secret": fake.password}


def _pf_target(info: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    auth = {
        "method": "basic",
        "username": info["username"],
        "password_env": SECRET_ENVS["pingfederate"],
    }
    return {
        "name": "pingfederate",
        "type": "pingfederate",
        "admin_url": info["base_url"],
        "auth": auth,
        "apps": [{"name": sc.LABEL}],
    }


# --- Keycloak -------------------------------------------------------------------------------


def _kc_fake(latency: float) -> Any:
    from tests.fakes.keycloak_fake import KeycloakFake

    return KeycloakFake(latency=latency)


def _kc_add(fake: Any, number: int) -> str:
    from tests.fakes.keycloak_fake import saml_client

    urls = primary_urls()
    doc = saml_client(sc.ENTITY_ID, urls, urls[0])
    doc["description"] = f"bench client {number}, kept byte for byte"
    return str(fake.add_client(doc))


def _kc_info(fake: Any) -> dict[str, Any]:
    from tests.fakes.keycloak_fake import CLIENT_ID, CLIENT_SECRET

    return {
        "base_url": fake.base_url,
        "realm": fake.realm,
        "client_id": CLIENT_ID,
        "secret": CLIENT_SECRET,
    }


def _kc_target(info: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    # Keycloak's clientId is unique in a realm, so N clients of one instance are named by
    # their UUIDs (`id:`), which costs no listing.
    return {
        "name": "keycloak",
        "type": "keycloak",
        "base_url": info["base_url"],
        "realm": info["realm"],
        "client_id": info["client_id"],
        "client_secret_env": SECRET_ENVS["keycloak"],
        "apps": [{"id": i} for i in ids],
    }


def _pages_until_empty(apps: int) -> int:
    """PingFederate's listing gives no total: pages of 100 are read until an empty one."""
    return math.ceil(apps / 100) + 1


VENDORS: dict[str, Vendor] = {
    "pingone": Vendor(
        "pingone",
        _pingone_fake,
        _pingone_add,
        "apps",
        _pingone_info,
        _pingone_target,
        token_suffix="/as/token",
        list_suffix="/applications",
        readback_get=False,
        list_pages=lambda apps: max(1, math.ceil(apps / 100)),
        minimum="observe 1 GET; write 1 guard GET + 1 PUT; verify 0 (the PUT answers with the "
        "stored app); per run 1 token + ceil(apps/100) listing pages (name selector)",
    ),
    "pingfederate": Vendor(
        "pingfederate",
        _pf_fake,
        _pf_add,
        "connections",
        _pf_info,
        _pf_target,
        token_suffix="/as/token.oauth2",
        list_suffix="/spConnections",
        readback_get=False,
        list_pages=_pages_until_empty,
        minimum="observe 1 GET; write 1 guard GET + 1 PUT; verify 0 (the PUT answers with the "
        "stored connection); per run ceil(apps/100)+1 listing pages (read until an empty one), "
        "basic auth: no token",
    ),
    "keycloak": Vendor(
        "keycloak",
        _kc_fake,
        _kc_add,
        "clients",
        _kc_info,
        _kc_target,
        token_suffix="/protocol/openid-connect/token",
        list_suffix="/clients",
        readback_get=True,
        list_pages=lambda apps: 0,
        minimum="observe 1 GET; write 1 guard GET + 1 PUT; verify 1 GET (the PUT answers "
        "204); per run 1 token, no listing (`id:` selectors)",
    ),
}
# The connectors the mixed scenario runs, in table order. JumpCloud: add "jumpcloud" here.
MIXED: tuple[str, ...] = ("pingone", "pingfederate", "keycloak")
