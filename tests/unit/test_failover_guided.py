"""Failover for apps no API can write (Google Workspace): idpsync never writes or records
them, so the plan must tell a person both ways, ``--to`` and ``--back``."""

from __future__ import annotations

import dataclasses

from agent.manual import GENERIC, attach_manual_steps, steps_for
from agent.model import AppTrust, Capabilities, ObservedApp, TrustedAcs
from agent.plan import AppPlan
from tests.unit.test_diff_factories import desired, observed
from tests.unit.test_failover_rules import PRIMARY, REPLICA, back, codes, plan_for, to

GUIDED = Capabilities(multi_acs=False, max_acs=1, indexed=False, writable=False)


def guided(default: str | None, app_id: str = "google") -> ObservedApp:
    return observed([(default, None)] if default else [], caps=GUIDED, app_id=app_id)


def steps(app: AppPlan, seen: ObservedApp) -> tuple[str, ...]:
    plan = attach_manual_steps(
        dataclasses.replace(plan_for(to()), apps=(app,)),
        {app.ref.key: seen},
        {app.ref.target: lambda a, o: steps_for(a, GENERIC)},
    )
    return plan.apps[0].manual_steps


def test_to_gives_a_guided_app_with_unknown_values_the_replica_url() -> None:
    seen = guided(None)
    plan = plan_for(to(), seen)
    app = plan.apps[0]
    assert codes(plan) == []
    assert app.after == AppTrust(seen.trust.entity_id, (TrustedAcs(REPLICA, None),), REPLICA)
    assert "failover_needs_person" in {f.code for f in app.findings}
    assert any(REPLICA in s for s in steps(app, seen))


def test_back_points_a_guided_app_at_the_primary_without_any_record() -> None:
    for seen in (guided(REPLICA), guided(None)):
        plan = plan_for(back(), seen)
        app = plan.apps[0]
        assert codes(plan) == [], codes(plan)
        assert app.after.default_acs == desired().default_acs == PRIMARY
        assert any(PRIMARY in s for s in steps(app, seen))


def test_a_guided_app_already_there_or_foreign_is_left_alone() -> None:
    assert plan_for(back(), guided(PRIMARY)).apps[0].changes == ()
    assert plan_for(to(), guided(REPLICA)).apps[0].changes == ()
    foreign = plan_for(to(), guided("https://sso.example.com/saml/acs")).apps[0]
    assert foreign.changes == ()
    assert "failover_foreign_default" in {f.code for f in foreign.findings}


def test_a_writable_app_still_needs_its_record_to_go_back() -> None:
    writable = dataclasses.replace(
        guided(REPLICA), capabilities=dataclasses.replace(GUIDED, writable=True)
    )
    plan = plan_for(back(), writable)
    assert plan.apps[0].changes == ()  # no record: nothing is planned for it
