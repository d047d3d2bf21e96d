"""The engine is the only verifier (issue 14 item 2).

Connectors return the state they re-read; :mod:`agent.verify` compares it with the plan,
re-reading as the connector's ``read_back`` allows, and a failure names the app and what
differs. Rollback writes through the same engine function.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import ClassVar

import pytest

from agent import rollback
from agent.connector import ConnectorContext, ReadBack
from agent.engine import apply_verified
from agent.errors import VerificationFailed
from agent.model import AppRef, AppTrust, ObservedApp, TrustedAcs
from agent.plan import AppPlan
from agent.verify import trust_difference
from connectors.entra import connector as entra_connector
from connectors.okta import connector as okta_connector
from tests.unit.test_diff_factories import observed, url
from tests.unit.test_engine import FakeConnector, fake_registry

__all__ = ["fake_registry"]


class LaggingConnector(FakeConnector):
    """Reads show the write only after ``lag`` re-reads, like Graph's replication."""

    kind: ClassVar[str] = "lagging"
    lag: ClassVar[int] = 0
    rereads: ClassVar[int] = 0
    attempts: ClassVar[int] = 1

    @property
    def read_back(self) -> ReadBack:
        return ReadBack(self.attempts, 0.0)

    async def apply(self, plan: AppPlan) -> ObservedApp:
        before = self.apps[plan.ref.key]
        await super().apply(plan)
        self.stale = before
        return before if self.lag else self.apps[plan.ref.key]

    async def reread(self, ref: AppRef) -> ObservedApp:
        type(self).rereads += 1
        return self.stale if self.rereads < self.lag else self.apps[ref.key]


def _plan(app: ObservedApp, after: AppTrust) -> AppPlan:
    return AppPlan(
        ref=app.ref, fingerprint=app.fingerprint, before=app.trust, after=after, changes=()
    )


def _setup(lag: int, attempts: int) -> tuple[LaggingConnector, AppPlan]:
    from agent.connector import TargetConfig

    app = observed([(url("us-east-1"), 0)], target="t", app_id="1")
    FakeConnector.apps[app.ref.key] = app
    LaggingConnector.lag, LaggingConnector.rereads, LaggingConnector.attempts = lag, 0, attempts
    after = AppTrust(
        app.trust.entity_id,
        (TrustedAcs(url("us-east-1"), 0), TrustedAcs(url("eu-west-1"), 1)),
        url("us-east-1"),
    )
    conn = LaggingConnector(TargetConfig(name="t", type="lagging"), ConnectorContext(env={}))
    return conn, _plan(app, after)


async def test_a_lagging_read_back_is_re_read_until_it_shows_the_plan() -> None:
    conn, plan = _setup(lag=3, attempts=5)
    result = await apply_verified(conn, plan)
    assert result.trust == plan.after
    assert LaggingConnector.rereads == 3


async def test_a_read_back_that_never_shows_the_plan_names_the_app_and_the_difference() -> None:
    conn, plan = _setup(lag=10, attempts=3)
    with pytest.raises(VerificationFailed) as err:
        await apply_verified(conn, plan)
    message = str(err.value)
    assert "t/1" in message and "after 3 read(s)" in message
    assert f"missing {url('eu-west-1')} (index 1)" in message
    assert LaggingConnector.rereads == 2  # three reads in all: apply's and two re-reads


def test_trust_difference_names_entity_id_extra_urls_and_default() -> None:
    want = AppTrust("urn:a", (TrustedAcs("https://a/acs", None),), "https://a/acs")
    seen = AppTrust("urn:b", (TrustedAcs("https://b/acs", None),), "https://b/acs")
    text = trust_difference(want, seen)
    assert "entity ID 'urn:b' instead of 'urn:a'" in text
    assert "missing https://a/acs" in text and "unexpected https://b/acs" in text
    assert "default 'https://b/acs' instead of 'https://a/acs'" in text
    assert trust_difference(want, dataclasses.replace(want)) == ""


def test_connectors_do_not_compare_their_read_back_and_rollback_writes_via_the_engine() -> None:
    for module in (okta_connector, entra_connector):
        source = inspect.getsource(module)
        assert "VerificationFailed" not in source, module.__name__
    source = inspect.getsource(rollback)
    assert "write_app(" in source and "connector.apply(" not in source
    assert "same_trust" not in source
