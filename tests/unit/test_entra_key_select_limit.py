"""Issue 15 item 4: ``$select=keyCredentials`` on service principals, 150 requests/min/tenant.

The fake counts every such request (listing pages, single GETs, ``$batch`` sub-requests) in a
sliding window and answers 429 with ``Retry-After`` past the limit. The connector's bound:

* discovery: one listing page per 999 service principals selects keyCredentials;
* explicit ``app_id``s: one ``appId in (...)`` page per 15, paced by the client to at most
  ``KEY_SELECTS_PER_WINDOW`` (100) per minute;
* apply: none. The SP is re-read for its SSO mode only (``SP_MODE_SELECT``).

So at 5,000 discovered apps a whole run (observe and writes) selects keyCredentials
⌈5000/999⌉ = 6 times, far under 150, and explicit apps are paced below the limit.
"""

from __future__ import annotations

import asyncio
import math

import httpx

from connectors.entra.budget import SlidingWindow
from tests.entra_support import TOKEN, acs, connector, full_trust, graph, plan_for
from tests.fakes.graph_fake import GraphFake
from tests.fakes.graph_fake_rules import KeySelectLimit, selects_key_credentials

__all__ = ["graph"]


def _key_selects(fake: GraphFake) -> list[int]:
    return [
        r.status
        for r in fake.requests
        if selects_key_credentials(r.method, r.path + "?" + _query(r.query))
    ]


def _query(query: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in query.items())


def test_the_fake_limits_key_credential_selects_only(graph: GraphFake) -> None:
    graph.key_select = KeySelectLimit(limit=3, window=60)
    sp = graph.sp(graph.add_app(sso_mode="saml")["appId"])
    with httpx.Client(base_url=graph.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as h:
        keyed = [
            h.get(f"/v1.0/servicePrincipals/{sp['id']}?$select=id,keyCredentials") for _ in range(4)
        ]
        plain = h.get(f"/v1.0/servicePrincipals/{sp['id']}?$select=id,preferredSingleSignOnMode")
        listed = h.get("/v1.0/servicePrincipals?$select=keyCredentials")
    assert [r.status_code for r in keyed] == [200, 200, 200, 429]
    assert int(keyed[3].headers["Retry-After"]) >= 1
    assert plain.status_code == 200 and listed.status_code == 429


async def test_writing_more_apps_than_the_limit_selects_key_credentials_once(
    graph: GraphFake,
) -> None:
    """160 fresh gallery apps (SSO mode unset, so apply re-reads each SP before switching it):
    the old apply read each SP with keyCredentials, 160 requests against a limit of 150."""
    n = 160
    for _ in range(n):
        graph.add_app(redirect_uris=[acs("us-east-1")])
    async with connector(graph, concurrency=16) as conn:
        observed = await conn.observe_many(await conn.discover())
        results = await asyncio.gather(
            *(conn.apply(plan_for(o, full_trust("us-east-1"))) for o in observed)
        )
    assert len(results) == n
    assert all(graph.sp(o.ref.app_id)["preferredSingleSignOnMode"] == "saml" for o in observed)
    assert _key_selects(graph) == [200]  # the discovery page; apply selected none
    assert graph.key_select.refused == 0
    assert 429 not in {r.status for r in graph.requests}


async def test_five_thousand_discovered_apps_cost_six_key_selects(graph: GraphFake) -> None:
    n = 5000
    for _ in range(n):
        graph.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml")
    async with connector(graph) as conn:
        observed = await conn.observe_many(await conn.discover())
    assert len(observed) == n
    assert _key_selects(graph) == [200] * math.ceil(n / 999)
    assert graph.key_select.refused == 0


async def test_explicit_apps_are_paced_below_the_limit(graph: GraphFake) -> None:
    """90 explicit app_ids need ⌈90/15⌉ = 6 keyCredentials pages; the fake allows 4 per 0.5 s
    here, the client (scaled down like its 100 of 150 per minute) 2: nothing is refused, the
    run just waits. (Half the fake's rate, so requests delayed on a loaded machine and
    arriving together with the next window's still fit.)"""
    graph.key_select = KeySelectLimit(limit=4, window=0.5)
    apps = [graph.add_app(redirect_uris=[acs("us-east-1")])["appId"] for _ in range(90)]
    async with connector(graph, apps=[{"app_id": a} for a in apps]) as conn:
        conn.graph().key_selects = SlidingWindow(limit=2, window=0.5)
        observed = await conn.observe_many(await conn.discover())
        waited = conn.graph().key_selects.waited
    assert len(observed) == 90
    assert _key_selects(graph) == [200] * 6
    assert graph.key_select.refused == 0 and waited > 0
