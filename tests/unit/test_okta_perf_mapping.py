"""The Okta mapping's CPU per app: ``apply_trust`` copies only the containers it writes to,
an app is checked once per read, and ACS entries are shared instead of rebuilt. Each test
pins that the cheaper path gives the same answers and never mutates its input."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from agent.model import AppTrust, TrustedAcs
from connectors.okta import mapping
from tests.okta_support import aws_sso_app, custom_app, load_recorded

T = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
P4 = f"https://us-east-1.signin.aws/platform/saml/acs/{T}"
EU = f"https://eu-west-1.signin.aws/platform/saml/acs/{T}"
ISS = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"


def _custom_without_app() -> dict[str, Any]:
    doc = custom_app()
    del doc["settings"]["app"]
    return doc


def _aws_sso_with_override() -> dict[str, Any]:
    doc = aws_sso_app()
    doc["settings"]["signOn"]["ssoAcsUrlOverride"] = P4
    doc["settings"]["signOn"]["recipientOverride"] = P4
    return doc


@pytest.mark.parametrize(
    "make", [custom_app, _custom_without_app, aws_sso_app, _aws_sso_with_override]
)
def test_apply_copies_only_what_it_writes_and_never_mutates_its_input(make: Any) -> None:
    doc = make()
    text_before = json.dumps(doc)
    trust = AppTrust(ISS, (TrustedAcs(EU, None),), EU)
    if mapping.app_kind(doc) == mapping.KIND_CUSTOM_SAML:
        current, _ = mapping.trust_from_raw(doc)
        trust = AppTrust(ISS, (*current.acs, TrustedAcs(EU, 7)), current.default_acs)
    new = mapping.apply_trust(doc, trust)
    assert json.dumps(doc) == text_before, "the input must not change"
    assert mapping.trust_from_raw(new)[0] == trust
    # Every container the write touches is the copy's own ...
    assert new is not doc and new["settings"] is not doc["settings"]
    assert new["settings"]["signOn"] is not doc["settings"]["signOn"]
    if isinstance(doc["settings"].get("app"), dict):
        assert new["settings"]["app"] is not doc["settings"]["app"]
    # ... and the rest is shared, not copied (a deepcopy of the whole app cost ~90 µs).
    assert new["credentials"] is doc["credentials"]
    assert new["visibility"] is doc["visibility"]
    # Unmanaged fields serialise exactly as before, in the same key order.
    assert list(new) == list(doc) and list(new["settings"])[: len(doc["settings"])] == list(
        doc["settings"]
    )


def test_apply_of_the_current_trust_equals_the_input_and_shares_its_values() -> None:
    doc = custom_app()
    new = mapping.apply_trust(doc, mapping.trust_from_raw(doc)[0])
    assert new == doc and json.dumps(new) == json.dumps(doc)
    assert new["settings"]["signOn"]["acsEndpoints"] is doc["settings"]["signOn"]["acsEndpoints"]


def test_reused_endpoints_are_the_originals_and_new_ones_are_fresh() -> None:
    doc = custom_app()
    current, _ = mapping.trust_from_raw(doc)
    new = mapping.apply_trust(doc, AppTrust(ISS, (*current.acs, TrustedAcs(EU, 7)), P4))
    old_entries = doc["settings"]["signOn"]["acsEndpoints"]
    new_entries = new["settings"]["signOn"]["acsEndpoints"]
    assert new_entries is not old_entries and len(old_entries) == 3
    assert all(a is b for a, b in zip(old_entries, new_entries[:3], strict=True))
    assert new_entries[3] == {"url": EU, "index": 7}


@pytest.mark.parametrize(
    "doc",
    [
        custom_app(),
        aws_sso_app(),
        load_recorded("app-oin-saml-zoomus.json"),
        {"signOnMode": "SAML_2_0", "settings": {"signOn": {"acsEndpoints": "x"}}},
    ],
    ids=["custom", "aws_sso", "zoom", "malformed"],
)
def test_read_app_answers_as_app_kind_and_trust_from_raw(doc: dict[str, Any]) -> None:
    try:
        expected: Any = (mapping.app_kind(doc), *mapping.trust_from_raw(doc))
    except mapping.UnsupportedApp as exc:
        with pytest.raises(mapping.UnsupportedApp, match=re.escape(str(exc))):
            mapping.read_app(doc)
        return
    assert mapping.read_app(doc) == expected


def test_read_app_checks_the_endpoints_once(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[object] = []
    real = mapping._check_endpoints

    def counting(doc: dict[str, Any], sign_on: dict[str, Any]) -> None:
        checked.append(doc)
        real(doc, sign_on)

    monkeypatch.setattr(mapping, "_check_endpoints", counting)
    mapping.read_app(custom_app())
    assert len(checked) == 1


def test_acs_entries_are_shared_across_apps_but_a_bool_index_is_kept_as_is() -> None:
    first, _ = mapping.trust_from_raw(custom_app())
    second, _ = mapping.trust_from_raw(custom_app())
    assert all(a is b for a, b in zip(first.acs, second.acs, strict=True))

    doc = custom_app()
    doc["settings"]["signOn"]["acsEndpoints"][1]["index"] = True  # not JSON Okta sends
    flagged = mapping._custom_trust(doc)  # app_kind would refuse it; the mapping keeps True
    assert type(flagged.acs[1].index) is bool
    assert type(mapping._custom_trust(custom_app()).acs[1].index) is int


def test_the_acs_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapping, "_ACS_CACHE_MAX", 8)
    monkeypatch.setattr(mapping, "_ACS_CACHE", {})
    for n in range(40):
        doc = copy.deepcopy(custom_app())
        doc["settings"]["signOn"]["acsEndpoints"][2]["url"] = f"https://r{n}.example/acs"
        trust, _ = mapping.trust_from_raw(doc)
        assert trust.acs[2] == TrustedAcs(f"https://r{n}.example/acs", 6)
        assert len(mapping._ACS_CACHE) <= 8
