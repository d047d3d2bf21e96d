"""Pure mapping: Okta app JSON <-> AppTrust, limits, and what is left untouched."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.model import AppTrust, TrustedAcs
from connectors.okta import mapping
from tests.okta_support import aws_sso_app, custom_app, load_recorded

T = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
P4 = f"https://us-east-1.signin.aws/platform/saml/acs/{T}"
PD = f"https://us-east-1.sso.signin.aws/platform/saml/acs/{T}"
LEG = f"https://us-east-1.signin.aws.amazon.com/platform/saml/acs/{T}"
EU = f"https://eu-west-1.signin.aws/platform/saml/acs/{T}"
AP = f"https://ap-southeast-2.signin.aws/platform/saml/acs/{T}"
ISS = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"

CUSTOM_MANAGED = {
    "ssoAcsUrl",
    "recipient",
    "destination",
    "audience",
    "acsEndpoints",
    "allowMultipleAcsEndpoints",
}


def without_sign_on_keys(doc: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for k in keys:
        out["settings"]["signOn"].pop(k, None)
    return out


def test_custom_app_trust_lists_endpoints_in_order_with_default() -> None:
    trust, caps = mapping.trust_from_raw(custom_app())
    assert trust.entity_id == ISS
    assert trust.default_acs == P4
    assert trust.acs == (TrustedAcs(P4, 0), TrustedAcs(PD, 1), TrustedAcs(LEG, 6))
    assert caps.multi_acs and caps.indexed and caps.max_acs == 100


def test_endpoints_are_ignored_unless_multiple_endpoints_are_allowed() -> None:
    doc = custom_app()
    doc["settings"]["signOn"]["allowMultipleAcsEndpoints"] = False
    trust, _ = mapping.trust_from_raw(doc)
    assert trust.acs == (TrustedAcs(P4, None),)  # what Okta actually uses: ssoAcsUrl only


def test_default_not_listed_in_endpoints_is_still_trusted() -> None:
    doc = custom_app()
    doc["settings"]["signOn"]["acsEndpoints"] = [{"url": EU, "index": 3}]
    trust, _ = mapping.trust_from_raw(doc)
    assert trust.acs == (TrustedAcs(P4, None), TrustedAcs(EU, 3))


def test_apply_adds_regions_and_leaves_every_other_field_alone() -> None:
    doc = custom_app()
    before, _ = mapping.trust_from_raw(doc)
    wanted = AppTrust(ISS, (*before.acs, TrustedAcs(EU, 2), TrustedAcs(AP, 4)), P4)
    new = mapping.apply_trust(doc, wanted)
    assert doc == custom_app(), "apply_trust must not mutate its input"
    assert mapping.trust_from_raw(new)[0] == wanted
    assert new["settings"]["signOn"]["acsEndpoints"][-2:] == [
        {"url": EU, "index": 2},
        {"url": AP, "index": 4},
    ]
    untouched = without_sign_on_keys(doc, {"acsEndpoints"})
    assert json.dumps(without_sign_on_keys(new, {"acsEndpoints"})) == json.dumps(untouched)


def test_recipient_and_destination_follow_the_default_only_where_they_equalled_it() -> None:
    doc = custom_app()
    sign_on = doc["settings"]["signOn"]
    sign_on["destination"] = "https://custom.example/dest"  # someone set it on purpose
    wanted = AppTrust(ISS, (TrustedAcs(EU, 2), *mapping.trust_from_raw(doc)[0].acs), EU)
    new = mapping.apply_trust(doc, wanted)["settings"]["signOn"]
    assert new["ssoAcsUrl"] == EU
    assert new["recipient"] == EU  # equalled ssoAcsUrl before: follows
    assert new["destination"] == "https://custom.example/dest"  # did not: kept


def test_apply_of_the_current_trust_is_an_identical_copy() -> None:
    doc = custom_app()
    trust, _ = mapping.trust_from_raw(doc)
    new = mapping.apply_trust(doc, trust)
    assert json.dumps(new) == json.dumps(doc)
    assert new is not doc


def test_new_endpoint_without_index_gets_the_lowest_free_one() -> None:
    doc = custom_app()
    before, _ = mapping.trust_from_raw(doc)
    new = mapping.apply_trust(doc, AppTrust(ISS, (*before.acs, TrustedAcs(EU, None)), P4))
    assert new["settings"]["signOn"]["acsEndpoints"][-1] == {"url": EU, "index": 2}


def test_enabling_multiple_endpoints_sets_the_flag() -> None:
    doc = custom_app()
    doc["settings"]["signOn"]["allowMultipleAcsEndpoints"] = False
    doc["settings"]["signOn"]["acsEndpoints"] = []
    wanted = AppTrust(ISS, (TrustedAcs(P4, None), TrustedAcs(EU, 1)), P4)
    new = mapping.apply_trust(doc, wanted)["settings"]["signOn"]
    assert new["allowMultipleAcsEndpoints"] is True
    assert new["acsEndpoints"] == [{"url": EU, "index": 1}]


@pytest.mark.parametrize(
    ("acs", "message"),
    [
        (tuple(TrustedAcs(f"https://h{i}.signin.aws/x", i) for i in range(101)), "limit of 100"),
        ((TrustedAcs("https://a.signin.aws/" + "x" * 1010, 0),), "longer than 1024"),
        ((TrustedAcs(P4, 0), TrustedAcs(EU, 0)), "unique"),
        ((TrustedAcs(P4, 0), TrustedAcs(EU, 65536)), "out of range"),
        ((TrustedAcs(P4, 0), TrustedAcs(P4, 1)), "listed twice"),
    ],
)
def test_limits_are_enforced_before_any_change(acs: tuple[TrustedAcs, ...], message: str) -> None:
    doc = custom_app()
    with pytest.raises(mapping.TrustLimitError, match=message):
        mapping.apply_trust(doc, AppTrust(ISS, acs, acs[0].url))
    assert doc == custom_app()


def test_aws_sso_app_holds_one_acs_url() -> None:
    trust, caps = mapping.trust_from_raw(aws_sso_app())
    assert trust == AppTrust(ISS, (TrustedAcs(P4, None),), P4)
    assert not caps.multi_acs and caps.max_acs == 1 and not caps.indexed


def test_aws_sso_apply_repoints_settings_app_only() -> None:
    doc = aws_sso_app()
    new = mapping.apply_trust(doc, AppTrust(ISS, (TrustedAcs(EU, None),), EU))
    assert new["settings"]["app"] == {"acsURL": EU, "entityID": ISS}
    doc["settings"]["app"]["acsURL"] = EU
    assert json.dumps(new) == json.dumps(doc)


def test_aws_sso_refuses_a_second_acs_url() -> None:
    with pytest.raises(mapping.TrustLimitError, match="one ACS URL"):
        mapping.apply_trust(
            aws_sso_app(), AppTrust(ISS, (TrustedAcs(P4, None), TrustedAcs(EU, None)), P4)
        )


def test_aws_sso_casb_override_is_what_okta_uses_and_what_is_written() -> None:
    doc = aws_sso_app()
    doc["settings"]["signOn"]["ssoAcsUrlOverride"] = PD
    trust, _ = mapping.trust_from_raw(doc)
    assert trust.default_acs == PD
    new = mapping.apply_trust(doc, AppTrust(ISS, (TrustedAcs(EU, None),), EU))
    assert new["settings"]["signOn"]["ssoAcsUrlOverride"] == EU
    assert new["settings"]["app"]["acsURL"] == P4


def test_aws_sso_without_settings_app_gets_one() -> None:
    doc = aws_sso_app()
    del doc["settings"]["app"]
    new = mapping.apply_trust(doc, AppTrust(ISS, (TrustedAcs(P4, None),), P4))
    assert new["settings"]["app"] == {"acsURL": P4, "entityID": ISS}


@pytest.mark.parametrize(
    "doc",
    [
        load_recorded("app-oin-saml-zoomus.json"),
        load_recorded("app-oin-saml-org2org.json"),
        *load_recorded("list-apps-page.json")["body"],
    ],
    ids=lambda d: str(d.get("name")),
)
def test_other_apps_are_not_managed(doc: dict[str, Any]) -> None:
    with pytest.raises(mapping.UnsupportedApp):
        mapping.trust_from_raw(doc)
    with pytest.raises(mapping.UnsupportedApp):
        mapping.apply_trust(doc, AppTrust(ISS, (TrustedAcs(P4, 0),), P4))


def test_mapping_is_pure() -> None:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(mapping))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    # The kit's codec contract and certificate parser are themselves pure (stdlib and
    # agent.model; cryptography only inside a call), so the file connector can use them.
    allowed = {"__future__", "copy", "dataclasses", "typing", "agent.model", "connectors.kit"}
    assert imported <= allowed, imported - allowed


urls = st.integers(0, 10**6).map(lambda n: f"https://r{n}.signin.aws/platform/saml/acs/{T}")


@st.composite
def trusts(draw: st.DrawFn) -> AppTrust:
    chosen = draw(st.lists(urls, min_size=1, max_size=12, unique=True))
    indexes = draw(
        st.lists(st.integers(0, 65535), min_size=len(chosen), max_size=len(chosen), unique=True)
    )
    acs = tuple(TrustedAcs(u, i) for u, i in zip(chosen, indexes, strict=True))
    default = draw(st.sampled_from(chosen))
    return AppTrust(ISS, acs, default)


@settings(max_examples=60, deadline=None)
@given(trusts())
def test_round_trip_property(trust: AppTrust) -> None:
    doc = custom_app()
    new = mapping.apply_trust(doc, trust)
    assert mapping.trust_from_raw(new)[0] == trust
    untouched = CUSTOM_MANAGED
    assert json.dumps(without_sign_on_keys(new, untouched)) == json.dumps(
        without_sign_on_keys(doc, untouched)
    )


def test_every_okta_setting_is_documented_in_the_readme() -> None:
    from connectors.okta.config import OktaAppSelector, OktaAuth, OktaTarget
    from tests.okta_support import REPO

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Okta", 1)[1].split("\n## ", 1)[0]
    for model in (OktaTarget, OktaAuth, OktaAppSelector):
        for key in model.model_fields:
            assert f"{key}:" in section, f"{model.__name__}.{key} is not documented in README.md"


def test_a_write_always_carries_settings_app() -> None:
    doc = custom_app()
    del doc["settings"]["app"]
    before, _ = mapping.trust_from_raw(doc)
    new = mapping.apply_trust(doc, AppTrust(ISS, (*before.acs, TrustedAcs(EU, 2)), P4))
    assert new["settings"]["app"] == {}
    assert "app" not in mapping.apply_trust(doc, before)["settings"]  # no write, no change
