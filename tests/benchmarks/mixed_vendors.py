"""The connectors of the mixed benchmark (``run --mixed``): how each one's fake is made,
seeded and reset, how its target is configured, how its requests are sorted into kinds, and
its documented minimum requests per app (from the connector's README section; for Okta and
Entra the main benchmark's, ``scenario.MINIMUM``).

Adding a multi-ACS connector is one entry in :data:`VENDORS` (and its name in ``MIXED``).
OneLogin and JumpCloud hold one ACS URL per app and Google Workspace is guided: not here.
Okta and Entra use the main benchmark's fakes and setup (``okta_entra.py``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.benchmarks import okta_entra as oe
from tests.benchmarks import scenario as sc

SECRET_ENVS = {
    "pingone": "BENCH_PINGONE_SECRET",
    "pingfederate": "BENCH_PF_PASSWORD",
    "keycloak": "BENCH_KEYCLOAK_SECRET",
    "okta": oe.OKTA_TOKEN_ENV,
    "entra": oe.GRAPH_TOKEN_ENV,
}
# The phases of one app's requests, as the fakes' logs tell them apart (mixed_servers.py).
PHASES = ("observe_get", "observe_keys", "guard_get", "write", "verify_get")


def primary_urls() -> list[str]:
    """What every seeded app trusts: the primary Region only (IPv4 first, then dual-stack)."""
    return [url for url, _ in sc.endpoints(1)]


@dataclass(frozen=True)
class PerApp:
    """A connector's documented requests per app, by phase."""

    observe_get: int = 1  # reads of the app while observing (0: a listing carries it)
    observe_keys: int = 0  # signing-key reads, in a process's first run only (Okta)
    guard_get: int = 1  # the read just before the write (the app did not change meanwhile)
    write: int = 1
    verify_get: int = 0  # reads after the write (0: the write's answer is the read-back)


Classifier = Callable[[Any, str, str], str]  # fake, method, path -> the benchmark's kind


def by_suffix(token_suffix: str, list_suffix: str) -> Classifier:
    """A POST to a path ending in ``token_suffix`` is a token request, a GET of one ending in
    ``list_suffix`` a listing page, any other GET a read; others are named by their method."""

    def kind(fake: Any, method: str, path: str) -> str:
        if method == "POST" and path.endswith(token_suffix):
            return "token"
        if method == "GET":
            return "list" if path.rstrip("/").endswith(list_suffix) else "get"
        return method.lower()

    return kind


def reset_kit_fake(fake: Any) -> None:
    """A kit ``FakeIdP``: a fresh log and in-flight count."""
    fake.reset_log()
    fake.max_in_flight = 0


def no_batches(run: str, apps: int) -> int:
    return 0


@dataclass(frozen=True)
class Vendor:
    """One connector in the mixed scenario. Every callable runs in the fakes' process except
    ``target``, which builds the parent's configuration from ``info``."""

    name: str
    make_fake: Callable[[float], Any]  # latency -> a fake (not started)
    add_app: Callable[[Any, int], str]  # fake, number -> app id
    store: str  # the fake's attribute holding the apps (restored between runs)
    info: Callable[[Any], dict[str, Any]]  # the fake -> what the parent needs (picklable)
    target: Callable[[dict[str, Any], list[str]], dict[str, Any]]  # info, ids -> config
    classify: Classifier
    list_pages: Callable[[int], int]  # apps -> listing pages a run may need at most
    minimum: str  # the README's "Requests per app", stated in the output
    per_app: PerApp = field(default_factory=PerApp)
    write_kind: str = "put"
    reset: Callable[[Any], None] = reset_kit_fake
    batches: Callable[[str, int], int] = no_batches  # run, apps -> $batch envelopes at most
    # fake, path -> the app it addresses (default: the path; Graph reads by appId, PATCHes
    # by object id)
    app_key: Callable[[Any, str], str] = lambda fake, path: path

    def kind(self, fake: Any, method: str, path: str) -> str:
        return self.classify(fake, method, path)

    def minimum_per_app(self, run: str) -> dict[str, int]:
        """Documented requests per app by phase in ``run`` (dry_run is a process's first)."""
        m = self.per_app
        writing = run == "apply"
        return {
            "observe_get": m.observe_get,
            "observe_keys": m.observe_keys if run == "dry_run" else 0,
            "guard_get": m.guard_get if writing else 0,
            "write": m.write if writing else 0,
            "verify_get": m.verify_get if writing else 0,
        }

    def minimum_by_kind(self, run: str) -> dict[str, int]:
        """The same per request kind (listing pages and tokens are per run)."""
        p = self.minimum_per_app(run)
        by_kind = {"get": p["observe_get"] + p["guard_get"] + p["verify_get"]}
        by_kind[self.write_kind] = p["write"]
        if self.per_app.observe_keys:
            by_kind["keys"] = p["observe_keys"]
        return by_kind


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


# --- Okta and Entra: the main benchmark's fakes and setup (okta_entra.py) ---------------


@functools.cache
def _certificate() -> tuple[str, str]:
    return sc.signing_certificate()


def _okta_fake(latency: float) -> Any:
    return oe.okta_fake(sc.Scenario(latency=latency))


def _okta_add(fake: Any, number: int) -> str:
    cert_b64, _ = _certificate()
    return oe.seed_okta_app(fake, number, sc.trust(1, indexed=True), cert_b64)


def _okta_info(fake: Any) -> dict[str, Any]:
    return {"base_url": fake.base_url, "secret": sc.OKTA_TOKEN}


def _entra_fake(latency: float) -> Any:
    return oe.graph_fake(sc.Scenario(latency=latency))


def _entra_add(fake: Any, number: int) -> str:
    cert_b64, thumb = _certificate()
    app_id, _ = oe.seed_entra_app(fake, number, sc.trust(1, indexed=False), cert_b64, thumb)
    return app_id


def _entra_info(fake: Any) -> dict[str, Any]:
    return {"base_url": fake.base_url, "tenant_id": fake.tenant_id, "secret": sc.GRAPH_TOKEN}


def _entra_batches(run: str, apps: int) -> int:
    """Guard GETs, PATCHes and verify GETs: three steps, 20 apps an envelope each."""
    return 3 * math.ceil(apps / 20) if run == "apply" else 0


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
        by_suffix("/as/token", "/applications"),
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
        by_suffix("/as/token.oauth2", "/spConnections"),
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
        by_suffix("/protocol/openid-connect/token", "/clients"),
        list_pages=lambda apps: 0,
        minimum="observe 1 GET; write 1 guard GET + 1 PUT; verify 1 GET (the PUT answers "
        "204); per run 1 token, no listing (`id:` selectors)",
        per_app=PerApp(verify_get=1),
    ),
    "okta": Vendor(
        "okta",
        _okta_fake,
        _okta_add,
        "apps",
        _okta_info,
        lambda info, ids: oe.okta_target(info["base_url"]),
        oe.okta_kind,
        list_pages=lambda apps: max(1, math.ceil(apps / sc.OKTA_PAGE)),
        minimum=sc.MINIMUM["okta"],
        per_app=PerApp(observe_keys=1),  # every app its own signing key: the worst case
        reset=oe.reset_okta,
    ),
    "entra": Vendor(
        "entra",
        _entra_fake,
        _entra_add,
        "objects",
        _entra_info,
        lambda info, ids: oe.entra_target(info["tenant_id"], info["base_url"]),
        lambda fake, method, path: oe.graph_kind(method, path),
        list_pages=lambda apps: 2 * max(1, math.ceil(apps / sc.GRAPH_PAGE)),
        minimum=sc.MINIMUM["entra"] + "; at most 3 x ceil(apps/20) envelopes per apply",
        per_app=PerApp(observe_get=0, verify_get=1),  # the discovery listing carries observe
        write_kind="patch",
        reset=lambda fake: oe.reset_graph(fake, sc.Scenario()),
        batches=_entra_batches,
        app_key=oe.graph_app_key,
    ),
}
# The connectors the mixed scenario runs, in table order.
MIXED: tuple[str, ...] = ("pingone", "pingfederate", "keycloak", "okta", "entra")
