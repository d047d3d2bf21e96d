"""Issue 15 item 3: the identifier-URI policy under replication lag.

The fake judges the policy on the service principal as it has *replicated* it (``read_lag``),
so right after idpsync switches a fresh gallery app's SP to SAML, the application PATCH that
adds the entity ID is refused with the policy's error for a while. The connector retries
exactly that refusal, with growing waits, for at most ``identifier_uri_wait`` seconds (per
request and inside ``$batch``), then fails with a message naming the policy.
"""

from __future__ import annotations

import pytest

from agent.engine import apply_verified
from connectors.entra.client import IdentifierUriBlocked
from tests.entra_support import ISSUER, connector, full_trust, graph, plan_for
from tests.fakes.graph_fake import GraphFake

__all__ = ["graph"]

BATCH = pytest.mark.parametrize("batch", [True, False], ids=["batch", "single"])


def _app_patches(fake: GraphFake) -> list[int]:
    return [w.status for w in fake.writes() if w.path.startswith("/v1.0/applications/")]


@BATCH
async def test_a_refusal_during_the_sp_switch_lag_is_retried_until_it_passes(
    graph: GraphFake, batch: bool
) -> None:
    app = graph.add_app()  # fresh gallery instance: SSO mode unset
    graph.read_lag = 0.3  # the SAML switch is seen by the policy 0.3 s after it is written
    async with connector(
        graph, batch=batch, identifier_uri_wait=5, readback_interval=0.05, readback_attempts=20
    ) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        # The engine verifies (issue 14): it re-reads through the connector until it shows.
        result = await apply_verified(conn, plan_for(observed, full_trust("us-east-1")))
    statuses = _app_patches(graph)
    assert statuses[0] == 400 and statuses[-1] == 204  # refused at first, then accepted
    assert set(statuses[:-1]) == {400}
    assert result.trust.entity_id == ISSUER
    assert graph.app(app["appId"])["identifierUris"] == [ISSUER]


@BATCH
async def test_the_retry_is_bounded_and_the_failure_names_the_policy(
    graph: GraphFake, batch: bool
) -> None:
    graph.add_app()
    graph.read_lag = 30  # replication slower than the configured wait
    async with connector(graph, batch=batch, identifier_uri_wait=0.4) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        with pytest.raises(IdentifierUriBlocked) as err:
            await conn.apply(plan_for(observed, full_trust("us-east-1")))
    message = str(err.value)
    assert "identifier-URI protection policy (identifierUriRestriction)" in message
    assert "excludeSaml" in message and "identifier_uri_wait: 0.4s" in message
    assert "\n" not in message and err.value.status == 400
    statuses = _app_patches(graph)
    assert 2 <= len(statuses) <= 6 and set(statuses) == {400}  # a few tries, not a flood


async def test_no_retry_when_idpsync_did_not_just_switch_the_sp(graph: GraphFake) -> None:
    """An SP already in SAML mode has nothing left to replicate: the stricter tenant's
    refusal (excludeSaml false) fails at once, whatever identifier_uri_wait says."""
    graph.add_app(sso_mode="saml")
    graph.saml_exempt = False
    async with connector(graph, identifier_uri_wait=5) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        with pytest.raises(IdentifierUriBlocked, match="identifierUriRestriction"):
            await conn.apply(plan_for(observed, full_trust("us-east-1")))
    assert _app_patches(graph) == [400]


async def test_zero_wait_fails_at_once(graph: GraphFake) -> None:
    graph.add_app()
    graph.read_lag = 30
    async with connector(graph, identifier_uri_wait=0) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        with pytest.raises(IdentifierUriBlocked):
            await conn.apply(plan_for(observed, full_trust("us-east-1")))
    assert _app_patches(graph) == [400]
