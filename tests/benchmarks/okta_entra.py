"""The Okta and Graph fakes as the benchmarks set them up: built with a scenario's latency and
limits, seeded with apps, reset between runs, and their requests sorted into the benchmark's
kinds. The main benchmark (``servers.py``) and the mixed scenario (``mixed_vendors.py``)
share them, so both measure Okta and Entra against the same fakes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from agent.model import AppTrust
from tests.benchmarks import scenario as sc
from tests.benchmarks.scenario import Scenario

if TYPE_CHECKING:  # the fakes are imported where they run: the fakes' process
    from tests.fakes.graph_fake import GraphFake
    from tests.fakes.okta_fake import OktaFake


def okta_fake(s: Scenario) -> OktaFake:
    """The scenario's Okta (not started): its latency, concurrency cap and bucket budgets."""
    from tests.fakes.okta_fake import OktaFake

    return OktaFake(
        api_tokens={sc.OKTA_TOKEN},
        latency=s.latency,
        concurrency_cap=s.okta_cap,
        bucket_limits=dict(s.okta_buckets),
        bucket_window=s.okta_window,
    )


def graph_fake(s: Scenario) -> GraphFake:
    """The scenario's Graph (not started); its budgets are set by :func:`reset_graph`."""
    from tests.fakes.graph_fake import GraphFake

    graph = GraphFake(latency=s.latency)
    graph.expected_token = sc.GRAPH_TOKEN
    return graph


def seed_okta_app(okta: Any, number: int, state: AppTrust, cert_b64: str) -> str:
    """A custom SAML app holding ``state``, with its own signing key (the worst case)."""
    kid = f"benchkid{number:08d}"
    doc = sc.okta_app(number, state, kid)
    return str(okta.add_app(doc, keys=sc.okta_keys(kid, cert_b64)))


def seed_entra_app(
    graph: Any, number: int, state: AppTrust, cert_b64: str, thumb: str
) -> tuple[str, str]:
    """An Identity Center gallery app holding ``state``: its (appId, object id)."""
    app = graph.add_app(
        display_name=f"{sc.LABEL} {number}",
        identifier_uris=[sc.ENTITY_ID],
        redirect_uris=list(state.urls()),
        redirect_uri_settings=[{"uri": a.url, "index": a.index} for a in state.acs],
        default_redirect_uri=state.default_acs,
        sso_mode="saml",
        key_credentials=[sc.entra_key_credential(cert_b64, thumb, number)],
        preferred_thumbprint=thumb,
    )
    return str(app["appId"]), str(app["id"])


def reset_okta(okta: Any) -> None:
    """A fresh log and full bucket budgets."""
    okta.reset_log()
    okta._buckets.clear()
    okta.max_in_flight = 0


def reset_graph(graph: Any, s: Scenario) -> None:
    """A fresh log, a full token bucket and a fresh write window."""
    graph.clear_log()
    graph.rate_limit(s.graph_capacity, s.graph_refill)
    graph.write_limit(sc.GRAPH_WRITES, sc.GRAPH_WRITES_WINDOW)


def okta_kind(okta: Any, method: str, path: str) -> str:
    """list, keys, token, get or put: Okta's bucket, its one app bucket split by method."""
    kind = str(okta.bucket_of(method, path))
    if kind == "app":  # one Okta bucket; the benchmark still counts reads and writes
        kind = "put" if method == "PUT" else "get"
    return kind


def graph_kind(method: str, path: str) -> str:
    """batch (an envelope: its sub-requests are logged and counted on their own), list, get,
    or the write method."""
    if method == "POST" and path == "/v1.0/$batch":
        return "batch"
    if method != "GET":
        return method.lower()
    return "list" if path.rstrip("/").endswith(("/applications", "/servicePrincipals")) else "get"


_GRAPH_OBJECT = re.compile(
    r"/v1\.0/(applications|servicePrincipals)(?:\(appId='([^']+)'\)|/([^/]+))"
)


def graph_app_key(graph: Any, path: str) -> str:
    """The appId a Graph request addresses: the connector reads an application by its appId
    (``applications(appId='...')``) and PATCHes it by its object id; other paths as they are."""
    match = _GRAPH_OBJECT.fullmatch(path)
    if match is None:
        return path
    collection, app_id, object_id = match.groups()
    if app_id:
        return str(app_id)
    with graph.lock:
        obj = graph.objects[collection].get(object_id)
        return str(obj.latest()["appId"]) if obj is not None else path


OKTA_TOKEN_ENV = "BENCH_OKTA_TOKEN"
GRAPH_TOKEN_ENV = "BENCH_GRAPH_TOKEN"


def okta_target(org_url: str) -> dict[str, Any]:
    """The Okta target as a user writes it: apps by label, an API token; else defaults."""
    return {
        "name": "okta",
        "type": "okta",
        "org_url": org_url,
        "auth": {"method": "api_token", "token_env": OKTA_TOKEN_ENV},
        "apps": [{"label": sc.LABEL}],
    }


def entra_target(tenant_id: str, graph_url: str) -> dict[str, Any]:
    """The Entra target as a user writes it: Identity Center apps discovered; else defaults."""
    return {
        "name": "entra",
        "type": "entra",
        "tenant_id": tenant_id,
        "graph_url": graph_url,
        "auth": {"method": "token_env", "token_env": GRAPH_TOKEN_ENV},
        "apps": [{"discover": "aws-iam-identity-center"}],
    }
