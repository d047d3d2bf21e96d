"""Issue 15 item 1: ``web.redirectUriSettings`` is documented on Graph beta, not v1.0.

The fake's v1.0 runs in each of the three behaviours the docs leave possible (it rejects the
property with 400 on ``web``; accepts and drops it; returns it on single GETs only). In every
one, through the CLI and the real msgraph-sdk, per request and with ``$batch``: the Regions'
reply URLs are added, a second run writes nothing, and the fingerprint of the discovery
listing equals the one of a single GET (what the guard GET before a PATCH compares).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_entra_sync import ISSUER, NEW, PRIMARY, PRIMARY_SET, entra_config, sync, workdir
from tests.entra_support import connector, graph
from tests.fakes.graph_fake import GraphFake
from tests.fakes.graph_fake_rules import UriSettingsMode

__all__ = ["graph", "workdir"]

V1_MODES = [UriSettingsMode.REJECT, UriSettingsMode.IGNORE, UriSettingsMode.SINGLE_GET]


@pytest.fixture(params=V1_MODES, ids=[m.value for m in V1_MODES])
def v1(request: pytest.FixtureRequest, graph: GraphFake) -> Iterator[GraphFake]:
    graph.uri_settings = request.param
    yield graph


@pytest.mark.parametrize("batch", [True, False], ids=["batch", "single"])
def test_regions_are_added_once_and_a_second_run_writes_nothing(
    v1: GraphFake, workdir: Path, batch: bool
) -> None:
    app = v1.add_app(
        identifier_uris=[ISSUER],
        redirect_uris=PRIMARY_SET,
        redirect_uri_settings=[{"uri": u, "index": i} for i, u in enumerate(PRIMARY_SET)],
        default_redirect_uri=PRIMARY,
        sso_mode="saml",
    )
    config = entra_config(workdir, v1, batch=batch)
    first = sync(config)
    assert first.exit_code == 0, first.output
    patches = [w for w in v1.writes() if w.path.startswith("/v1.0/applications/")]
    assert [p.status for p in patches] == [204]
    assert "redirectUriSettings" not in json.dumps(patches[0].body)
    stored = v1.app(app["appId"])["web"]["redirectUris"]
    assert stored[:3] == PRIMARY_SET and sorted(stored[3:]) == sorted(NEW)

    v1.clear_log()
    second = sync(config)
    assert second.exit_code == 0, second.output
    assert v1.writes() == []


async def test_listing_and_single_get_fingerprints_agree(v1: GraphFake) -> None:
    v1.add_app(
        identifier_uris=[ISSUER],
        redirect_uris=PRIMARY_SET,
        redirect_uri_settings=[{"uri": u, "index": i} for i, u in enumerate(PRIMARY_SET)],
        sso_mode="saml",
    )
    async with connector(v1) as conn:
        refs = await conn.discover()
        (listed,) = await conn.observe_many(refs)
        single = await conn.observe(refs[0])
    assert listed.fingerprint == single.fingerprint
    assert listed.trust == single.trust
    assert all(a.index is None for a in listed.trust.acs)  # drift never reads the index


def test_the_fake_models_each_mode(graph: GraphFake) -> None:
    """The modes themselves: what a PATCH naming the property gets, and what GETs show."""
    import httpx

    settings = [{"uri": PRIMARY, "index": 0}]
    body = {"web": {"redirectUris": [PRIMARY], "redirectUriSettings": settings}}
    seen: dict[str, tuple[int, object, object]] = {}
    for mode in V1_MODES:
        graph.uri_settings = mode
        app = graph.add_app(redirect_uris=[], sso_mode="saml")
        headers = {"Authorization": f"Bearer {graph.expected_token}"}
        with httpx.Client(base_url=graph.base_url, headers=headers) as http:
            patch = http.patch(f"/v1.0/applications/{app['id']}", json=body)
            one = http.get(f"/v1.0/applications(appId='{app['appId']}')?$select=web").json()
            page = http.get(
                f"/v1.0/applications?$filter=appId eq '{app['appId']}'&$select=web"
            ).json()
        seen[mode.value] = (
            patch.status_code,
            one["web"].get("redirectUriSettings"),
            page["value"][0]["web"].get("redirectUriSettings"),
        )
    assert seen["reject"][0] == 400
    assert seen["reject"][1:] == (None, None)
    assert seen["ignore"] == (204, None, None)
    assert seen["single_get"] == (204, settings, None)
