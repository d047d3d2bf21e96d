"""Issue 15 item 2: a fresh "AWS IAM Identity Center" gallery instance is not empty.

Graph's documented instantiate response carries the reply URL
``https://*.signin.aws.amazon.com/platform/saml/acs/*`` and ``defaultRedirectUri: null``. It is
no instance's ACS URL. idpsync reports it (a finding), never makes it the default, keeps it
without ``--force`` and removes it with ``--force`` as its own ``remove acs_url`` change.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
import pytest

from agent.diff import diff_app
from agent.model import Capabilities, ObservedApp, Stack
from agent.placeholder import is_placeholder
from agent.plan import Action, AppPlan, Field, Plan
from tests.e2e.test_entra_sync import NEW, PRIMARY, PRIMARY_SET, entra_config, sync, workdir
from tests.entra_support import graph
from tests.fakes.graph_fake import IDC_TEMPLATE_ID, GraphFake
from tests.fakes.graph_fake_rules import GALLERY_PLACEHOLDER
from tests.unit.test_diff_factories import desired, observed, url
from tests.unit.test_safety import ADD_ONLY, SYNC, check

__all__ = ["graph", "workdir"]

NONE: frozenset[str] = frozenset()
ENTRA = Capabilities(max_acs=256, max_url_length=256, indexed=False)


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        (GALLERY_PLACEHOLDER, True),
        ("https://*.signin.aws/platform/saml/acs/*", True),
        ("https://us-east-1.signin.aws/platform/saml/acs/*", True),
        ("https://us-east-1.signin.aws/platform/saml/acs/abc", False),
        ("https://*.example.com/platform/saml/acs/*", False),
        ("http://*.signin.aws.amazon.com/platform/saml/acs/*", False),
    ],
)
def test_placeholder_recognition(candidate: str, expected: bool) -> None:
    assert is_placeholder(candidate) is expected


def test_the_fake_instantiates_the_gallery_app_as_documented(graph: GraphFake) -> None:
    headers = {"Authorization": f"Bearer {graph.expected_token}"}
    with httpx.Client(base_url=graph.base_url, headers=headers) as http:
        created = http.post(
            f"/v1.0/applicationTemplates/{IDC_TEMPLATE_ID}/instantiate",
            json={"displayName": "AWS Contoso"},
        )
    assert created.status_code == 201
    app, sp = created.json()["application"], created.json()["servicePrincipal"]
    assert app["web"]["redirectUris"] == [GALLERY_PLACEHOLDER]
    assert app["defaultRedirectUri"] is None and app["identifierUris"] == []
    assert sp["preferredSingleSignOnMode"] is None and sp["appId"] == app["appId"]
    assert graph.app(app["appId"])["web"]["redirectUris"] == [GALLERY_PLACEHOLDER]


@pytest.mark.parametrize("default", [None, GALLERY_PLACEHOLDER])
def test_without_force_the_placeholder_is_kept_and_never_the_default(default: str | None) -> None:
    d = desired()
    o = observed([(GALLERY_PLACEHOLDER, None)], entity_id=None, caps=ENTRA)
    o = dataclasses.replace(o, trust=dataclasses.replace(o.trust, default_acs=default))
    plan = diff_app(d, o, mode="sync", removable_regions=NONE)
    assert GALLERY_PLACEHOLDER in plan.after.urls()
    assert plan.after.default_acs == url("us-east-1")
    assert not [c for c in plan.changes if c.action is Action.REMOVE]
    assert check_plan_of(plan, o, force=False) == []


def test_with_force_it_is_removed_as_its_own_change_and_passes_only_forced() -> None:
    d = desired()
    o = observed([(GALLERY_PLACEHOLDER, None), (url("us-east-1"), None)], caps=ENTRA)
    plan = diff_app(d, o, mode="sync", removable_regions=NONE, remove_placeholders=True)
    removals = [c for c in plan.changes if c.action is Action.REMOVE]
    assert [(c.field, c.before, c.region) for c in removals] == [
        (Field.ACS_URL, GALLERY_PLACEHOLDER, None)
    ]
    assert GALLERY_PLACEHOLDER not in plan.after.urls()
    assert url("us-east-1", Stack.DUALSTACK) in plan.after.urls()  # adds land as well
    assert check_plan_of(plan, o, force=True) == []
    unforced = check_plan_of(plan, o, force=False)
    assert len(unforced) == 1 and "gallery placeholder" in unforced[0] and "--force" in unforced[0]


def test_force_never_removes_it_outside_sync_mode_or_from_an_incomplete_desired_state() -> None:
    o = observed([(GALLERY_PLACEHOLDER, None), (url("us-east-1"), None)], caps=ENTRA)
    for mode, d in (("add-only", desired()), ("sync", desired(complete=False))):
        plan = diff_app(d, o, mode=mode, removable_regions=NONE, remove_placeholders=True)
        assert GALLERY_PLACEHOLDER in plan.after.urls()


def check_plan_of(plan: AppPlan, o: ObservedApp, *, force: bool) -> list[str]:
    return check(Plan(desired_digest="x", apps=(plan,)), o, force=force, policy=SYNC)


def test_add_only_policy_keeps_it_and_passes() -> None:
    o = observed([(GALLERY_PLACEHOLDER, None)], caps=ENTRA)
    plan = diff_app(desired(), o, mode="add-only", removable_regions=NONE)
    assert GALLERY_PLACEHOLDER in plan.after.urls()
    assert check(Plan(desired_digest="x", apps=(plan,)), o, policy=ADD_ONLY) == []


def test_sync_reports_keeps_and_with_force_removes_the_placeholder(
    graph: GraphFake, workdir: Path
) -> None:
    app = graph.add_app()  # as instantiated: the placeholder, a null default, SSO mode unset
    assert graph.app(app["appId"])["web"]["redirectUris"] == [GALLERY_PLACEHOLDER]
    config = entra_config(workdir, graph)

    first = sync(config)
    assert first.exit_code == 0, first.output
    assert "entra_gallery_placeholder" in first.output and GALLERY_PLACEHOLDER in first.output
    stored = graph.app(app["appId"])
    assert stored["defaultRedirectUri"] == PRIMARY  # explicit: Entra's first-URL fallback unused
    assert stored["web"]["redirectUris"][0] == GALLERY_PLACEHOLDER  # kept in its place
    assert sorted(stored["web"]["redirectUris"][1:]) == sorted(PRIMARY_SET + NEW)

    graph.clear_log()
    again = sync(config)
    assert again.exit_code == 0, again.output
    assert graph.writes() == []  # kept, not re-planned as a change every run

    doc = json.loads(config.read_text())
    config.write_text(json.dumps({**doc, "policy": {"mode": "sync"}}), encoding="utf-8")
    graph.clear_log()
    kept = sync(config)  # mode sync without --force: still kept
    assert kept.exit_code == 0, kept.output
    assert graph.writes() == []

    dry = sync(config, "--dry-run", "--force")
    assert dry.exit_code == 2, dry.output
    assert GALLERY_PLACEHOLDER in dry.stdout
    graph.clear_log()
    forced = sync(config, "--force")
    assert forced.exit_code == 0, forced.output
    (patch,) = [w.body for w in graph.writes() if w.path.startswith("/v1.0/applications/")]
    assert set(patch) == {"@odata.type", "web"}  # one change: the placeholder goes
    stored = graph.app(app["appId"])
    assert GALLERY_PLACEHOLDER not in stored["web"]["redirectUris"]
    assert sorted(stored["web"]["redirectUris"]) == sorted(PRIMARY_SET + NEW)
    assert stored["defaultRedirectUri"] == PRIMARY
