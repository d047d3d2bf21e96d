"""A new tenant ID is a new trust: adding its URLs next to a trusted tenant needs --force.

domain.md 6: "the tenant ID matches the value already trusted (treat a new tenant ID as a
new trust, needing approval)". Metadata for another instance, or a poisoned file on an AWS
host, must not silently move an app's trust.
"""

from __future__ import annotations

from agent.diff import aws_tenant, diff_app
from agent.safety import check_app
from tests.unit.test_diff_factories import OTHER_TENANT, TENANT, desired, observed, url


class _Policy:
    mode = "add-only"
    max_changes = 20


def _violations(entries: list[tuple[str, int]], *, force: bool = False) -> list[str]:
    want = desired(("us-east-1", "eu-west-1"))
    app = observed(entries)
    plan = diff_app(want, app, mode="add-only", removable_regions=frozenset())
    return check_app(plan, want, app, policy=_Policy(), force=force)


def test_aws_tenant_reads_any_instance_on_aws_hosts_only() -> None:
    assert aws_tenant(url("eu-west-1", tenant=OTHER_TENANT)) == OTHER_TENANT
    assert aws_tenant("https://evil.example/platform/saml/acs/" + TENANT) is None
    # Issue 13: an app holding the http:// spelling still trusts that tenant (the rule must
    # not be bypassed by a spelling), so the tenant is read from it too.
    assert aws_tenant("http://us-east-1.signin.aws/platform/saml/acs/" + TENANT) == TENANT


def test_app_trusting_another_tenant_needs_force_for_the_new_one() -> None:
    old = [(url("us-east-1", tenant=OTHER_TENANT), 0)]
    violations = _violations(old)
    assert any(
        f"tenant ID {TENANT} is not the one this app trusts ({OTHER_TENANT})" in v
        and "--force" in v
        for v in violations
    ), violations
    assert not any("tenant" in v for v in _violations(old, force=True))


def test_same_tenant_or_fresh_app_is_not_gated() -> None:
    assert not any("tenant" in v for v in _violations([(url("us-east-1"), 0)]))
    assert not any("tenant" in v for v in _violations([]))
    # Entries on foreign hosts are not AWS trust: still a fresh app for this rule.
    foreign = [("https://sso.example.com/acs", 5)]
    assert not any("tenant" in v for v in _violations(foreign))
