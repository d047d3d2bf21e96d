"""Rule 1 (issue 13): a different tenant next to a trusted one always needs --force.

The app's existing tenant ID must be recognised in every spelling an IdP app can hold and on
every host pattern (AWS's IPv4, dual-stack and legacy hosts, and hosts matched through
``allowed_hosts`` such as GovCloud and China). Before the one classifier, each case below
counted as "no trusted tenant": the other tenant's URLs were added, and made the default,
with exit 0 and no --force.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from agent.diff import diff_app
from agent.model import AppRef, AppTrust, Capabilities, ObservedApp, TrustedAcs
from agent.safety import check_app
from tests.security.harness import OktaWorld, output_of
from tests.security.trust_support import (
    FAMILIES,
    GOV,
    GOV_PATTERNS,
    NEW_TENANT,
    OLD_TENANT,
    HostFamily,
    Policy,
    desired_for,
    metadata_xml,
)

ACS = "/platform/saml/acs/"


@dataclass(frozen=True)
class Spelling:
    name: str
    spell: Callable[[str, str], str]  # (host, tenant) -> the URL as the app holds it
    aws_bypass: bool  # also bypassed the rule on AWS's own hosts before the fix


SPELLINGS = (
    Spelling("canonical", lambda h, t: f"https://{h}{ACS}{t}", False),
    Spelling("trailing slash", lambda h, t: f"https://{h}{ACS}{t}/", True),
    Spelling("two trailing slashes", lambda h, t: f"https://{h}{ACS}{t}//", True),
    Spelling("trailing dot host", lambda h, t: f"https://{h}.{ACS}{t}", True),
    Spelling("double slash in path", lambda h, t: f"https://{h}/platform//saml/acs/{t}", True),
    Spelling("leading double slash", lambda h, t: f"https://{h}/{ACS}{t}", True),
    Spelling("dot segment", lambda h, t: f"https://{h}/platform/./saml/acs/{t}", True),
    Spelling("parent segment", lambda h, t: f"https://{h}/platform/x/../saml/acs/{t}", True),
    Spelling("encoded slash", lambda h, t: f"https://{h}/platform/saml/acs%2F{t}", True),
    Spelling("upper-case path", lambda h, t: f"https://{h}/PLATFORM/SAML/ACS/{t}", True),
    Spelling("http scheme", lambda h, t: f"http://{h}{ACS}{t}", True),
    Spelling("backslashes", lambda h, t: f"https://{h}\\platform\\saml\\acs\\{t}", True),
    Spelling("upper-case host", lambda h, t: f"https://{h.upper()}{ACS}{t}", False),
    Spelling("mixed-case scheme", lambda h, t: f"HTTPS://{h}{ACS}{t}", False),
    Spelling("explicit :443", lambda h, t: f"https://{h}:443{ACS}{t}", False),
    Spelling("query", lambda h, t: f"https://{h}{ACS}{t}?x=1", False),
    Spelling("surrounding spaces", lambda h, t: f"  https://{h}{ACS}{t}", False),
)

CASES = [
    pytest.param(f, s, id=f"{f.name}-{s.name.replace(' ', '-')}")
    for f in FAMILIES
    for s in SPELLINGS
    if s.aws_bypass or not f.aws  # every case bypassed the rule before the fix
]


def _app(urls: list[str], default: str | None = None) -> ObservedApp:
    trust = AppTrust(
        entity_id=None,
        acs=tuple(TrustedAcs(u, i) for i, u in enumerate(urls)),
        default_acs=default if default is not None else (urls[0] if urls else None),
    )
    return ObservedApp(
        ref=AppRef("okta", "0oa1"),
        trust=trust,
        capabilities=Capabilities(),
        raw="{}",
        fingerprint="f",
    )


def _violations(family: HostFamily, held: str, *, force: bool) -> tuple[list[str], Any]:
    want = desired_for(family)
    app = _app([held])
    plan = diff_app(want, app, mode="add-only", removable_regions=frozenset())
    return check_app(plan, want, app, policy=Policy(), force=force), plan


def test_the_table_covers_every_host_pattern_and_spelling() -> None:
    assert {c.values[0].name for c in CASES} == {f.name for f in FAMILIES}  # type: ignore[union-attr]
    assert len(CASES) >= 60


@pytest.mark.suite("safety", "new-tenant")
@pytest.mark.parametrize(("family", "spelling"), CASES)
def test_another_tenant_next_to_a_trusted_one_needs_force(
    family: HostFamily, spelling: Spelling
) -> None:
    held = spelling.spell(family.held_host.format(r=family.primary), OLD_TENANT)
    violations, plan = _violations(family, held, force=False)
    assert any(
        f"tenant ID {NEW_TENANT} is not the one this app trusts ({OLD_TENANT})" in v
        and "--force" in v
        for v in violations
    ), (held, violations)
    # The other tenant's URL would have become the default: the plan is blocked instead.
    assert plan.after.default_acs == desired_for(family).default_acs
    forced, _ = _violations(family, held, force=True)
    assert not any("tenant" in v for v in forced), forced


@pytest.mark.suite("safety", "new-tenant")
@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_the_same_tenant_in_any_spelling_is_not_a_new_trust(family: HostFamily) -> None:
    for spelling in SPELLINGS:
        held = spelling.spell(family.held_host.format(r=family.primary), NEW_TENANT)
        violations, _ = _violations(family, held, force=False)
        assert not any("tenant" in v for v in violations), (held, violations)


@pytest.mark.suite("safety", "new-tenant")
def test_a_trusted_tenant_held_only_as_the_default_counts() -> None:
    family = FAMILIES[0]
    want = desired_for(family)
    foreign = "https://sso.example.com/saml/acs"
    app = _app([foreign], default=family.url("{r}.signin.aws", OLD_TENANT) + "/")
    plan = diff_app(want, app, mode="add-only", removable_regions=frozenset())
    violations = check_app(plan, want, app, policy=Policy(), force=False)
    assert any("not the one this app trusts" in v for v in violations), violations


# --- end to end: idpsync sync against the Okta fake ----------------------------------------


def _hold(world: OktaWorld, urls: list[str]) -> dict[str, Any]:
    app = world.fake.apps[world.app_ids[0]]
    sign_on = app["settings"]["signOn"]
    sign_on["acsEndpoints"] = [{"url": u, "index": i} for i, u in enumerate(urls)]
    for key in ("ssoAcsUrl", "recipient", "destination"):
        sign_on[key] = urls[0]
    return app


@pytest.mark.suite("safety", "new-tenant")
def test_trailing_slash_tenant_blocks_a_writing_sync_until_forced(world: OktaWorld) -> None:
    held = f"https://us-east-1.signin.aws{ACS}{OLD_TENANT}/"
    _hold(world, [held])
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 3, out
    assert f"tenant ID {NEW_TENANT} is not the one this app trusts ({OLD_TENANT})" in out
    assert world.puts() == []
    forced = world.sync("--force")
    assert forced.exit_code == 0, output_of(forced)
    assert len(world.puts()) == 1


@pytest.mark.suite("safety", "new-tenant")
def test_govcloud_tenant_through_allowed_hosts_blocks_a_writing_sync(world: OktaWorld) -> None:
    region = "us-gov-west-1"
    world.write_metadata(
        metadata_xml([f"https://{h.format(r=region)}{ACS}{NEW_TENANT}" for h in GOV])
    )
    world.config(identity_center={"primary_region": region, "allowed_hosts": list(GOV_PATTERNS)})
    _hold(world, [f"https://{GOV[0].format(r=region)}{ACS}{OLD_TENANT}"])
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 3, out
    assert "a new trust needs approval" in out and OLD_TENANT in out
    assert world.puts() == []


@pytest.mark.suite("safety", "new-tenant")
@pytest.mark.parametrize(
    "held",
    [
        f"https://us-gov-west-1.signin.amazonaws-us-gov.com{ACS}{OLD_TENANT}",  # not configured
        f"https://cn-north-1.signin.amazonaws.cn{ACS}{OLD_TENANT}/",
        f"https://idc.example.internal{ACS}{OLD_TENANT}",  # a proxy in front of some instance
    ],
    ids=["govcloud-not-configured", "china-not-configured", "unknown-host"],
)
def test_a_tenant_on_a_host_no_pattern_knows_is_still_a_trusted_tenant(held: str) -> None:
    violations, _ = _violations(FAMILIES[0], held, force=False)
    assert any("not the one this app trusts" in v for v in violations), violations


@pytest.mark.suite("safety", "new-tenant")
def test_entras_wildcard_placeholder_is_not_a_trusted_tenant() -> None:
    # domain.md 9: a fresh gallery instance holds this placeholder; it is no instance's URL.
    placeholder = "https://*.signin.aws.amazon.com/platform/saml/acs/*"
    violations, plan = _violations(FAMILIES[0], placeholder, force=False)
    assert violations == [], violations
    assert placeholder in plan.after.urls()  # not ours: kept as it was
