"""Pure Entra mapping (application JSON <-> AppTrust) and the target configuration."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agent.model import AppTrust, TrustedAcs
from connectors.entra import mapping
from connectors.entra.config import EntraTarget
from tests.entra_support import ISSUER, acs

US, US6, EU = acs("us-east-1"), acs("us-east-1", True), acs("eu-west-1")


def _doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "3c1f8c78-41fd-4c19-b5b3-db6cdeaff7a0",
        "appId": "2a1b7f92-7a0c-41bc-bf5b-42e6e0f1b25f",
        "displayName": "AWS IAM Identity Center",
        "identifierUris": [ISSUER],
        "defaultRedirectUri": US,
        "web": {
            "homePageUrl": "https://portal.example/start",
            "logoutUrl": None,
            "redirectUris": [US, US6],
            "redirectUriSettings": [{"uri": US, "index": 0}, {"uri": US6, "index": 1}],
            "implicitGrantSettings": {"enableIdTokenIssuance": False},
        },
        "tags": ["keep-me"],
    }
    doc.update(over)
    return doc


def test_trust_from_raw_reads_the_graph_fields_but_not_the_beta_only_index() -> None:
    # redirectUriSettings is documented on beta only: its indexes are never read (issue 15).
    trust, caps = mapping.trust_from_raw(_doc())
    assert trust == AppTrust(ISSUER, (TrustedAcs(US), TrustedAcs(US6)), US)
    assert (caps.max_acs, caps.max_url_length, caps.multi_acs) == (256, 256, True)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"web": None, "identifierUris": [], "defaultRedirectUri": None}, AppTrust(None, (), None)),
        ({}, AppTrust(None, (), None)),
        (
            {"web": {"redirectUris": [US]}, "identifierUris": ["api://x", ISSUER]},
            AppTrust("api://x", (TrustedAcs(US, None),), None),
        ),
        (
            {"web": {"redirectUris": [US], "redirectUriSettings": [{"uri": US, "index": None}]}},
            AppTrust(None, (TrustedAcs(US, None),), None),
        ),
    ],
)
def test_trust_from_raw_tolerates_fresh_and_odd_apps(
    doc: dict[str, Any], expected: AppTrust
) -> None:
    assert mapping.trust_from_raw(doc)[0] == expected


def test_apply_trust_keeps_unmanaged_fields_and_does_not_mutate_input() -> None:
    doc = _doc()
    before = copy.deepcopy(doc)
    after = AppTrust(ISSUER, (TrustedAcs(US), TrustedAcs(US6), TrustedAcs(EU)), US)
    new = mapping.apply_trust(doc, after)
    assert doc == before
    assert mapping.trust_from_raw(new)[0] == after
    # An export's (beta) indexes stay as they were for the URIs that stay.
    assert new["web"]["redirectUriSettings"] == doc["web"]["redirectUriSettings"]
    fewer = mapping.apply_trust(doc, AppTrust(ISSUER, (TrustedAcs(US6),), US6))
    assert fewer["web"]["redirectUriSettings"] == [{"uri": US6, "index": 1}]
    assert new["web"]["homePageUrl"] == "https://portal.example/start"
    assert new["web"]["implicitGrantSettings"] == {"enableIdTokenIssuance": False}
    assert new["tags"] == ["keep-me"] and new["id"] == doc["id"]


def test_entity_id_replaces_only_the_first_identifier_uri() -> None:
    doc = _doc(identifierUris=["https://old.example/saml", "api://keep"])
    new = mapping.apply_trust(doc, AppTrust(ISSUER, (), None))
    assert new["identifierUris"] == [ISSUER, "api://keep"]


def test_patch_body_is_minimal_and_sends_only_v1_web_members() -> None:
    doc = _doc()
    same = mapping.trust_from_raw(doc)[0]
    assert mapping.patch_body(doc, same) == {}
    grown = AppTrust(ISSUER, (*same.acs, TrustedAcs(EU)), US)
    body = mapping.patch_body(doc, grown)
    assert body == {"web": {"redirectUris": [US, US6, EU]}}  # no redirectUriSettings (beta)
    fresh = _doc(identifierUris=[], defaultRedirectUri=None, web={"redirectUris": []})
    body = mapping.patch_body(fresh, grown)
    assert set(body) == {"web", "defaultRedirectUri", "identifierUris"}
    assert mapping.added_identifier_uris(fresh, body) == [ISSUER]


def test_index_drift_alone_is_no_write() -> None:
    # v1.0 may not return redirectUriSettings at all: drift is never computed from it.
    doc = _doc()
    doc["web"]["redirectUriSettings"] = [{"uri": US, "index": 5}]
    trust = AppTrust(ISSUER, (TrustedAcs(US), TrustedAcs(US6)), US)
    assert mapping.patch_body(doc, trust) == {}
    assert mapping.fingerprint_view(doc)["web"] == {
        k: v for k, v in doc["web"].items() if k != "redirectUriSettings"
    }


def test_patch_body_sends_an_explicit_null_default() -> None:
    assert mapping.patch_body(
        _doc(), AppTrust(ISSUER, (TrustedAcs(US, 0), TrustedAcs(US6, 1)), None)
    ) == {"defaultRedirectUri": None}


@pytest.mark.parametrize(
    ("trust", "problem"),
    [
        (
            AppTrust(None, tuple(TrustedAcs(f"https://h{i}.x/a", i) for i in range(257)), None),
            "257",
        ),
        (AppTrust(None, (TrustedAcs("https://a.x/" + "p" * 250, 0),), None), "longer than 256"),
        (AppTrust(None, (TrustedAcs("http://a.x/acs", 0),), None), "https"),
        (AppTrust(None, (TrustedAcs("https://a.x/a;b", 0),), None), "forbidden"),
        (AppTrust(None, (TrustedAcs(US, 0), TrustedAcs(US6, 0)), None), "unique"),
        (AppTrust(None, (TrustedAcs(US, 0), TrustedAcs(US, 1)), None), "duplicates"),
        (AppTrust(None, (TrustedAcs(US, 0),), EU), "not one of"),
        (AppTrust(ISSUER + "/", (), None), "must not end"),
        (AppTrust(None, (TrustedAcs(US, -1),), None), "indexes must lie"),
    ],
)
def test_limit_violations(trust: AppTrust, problem: str) -> None:
    assert any(problem in p for p in mapping.limit_violations(trust))


def test_limits_accept_a_full_region_set() -> None:
    urls = [acs(f"r{i}-x-1", ds) for i in range(60) for ds in (False, True)]
    trust = AppTrust(ISSUER, tuple(TrustedAcs(u, i) for i, u in enumerate(urls)), urls[0])
    assert mapping.limit_violations(trust) == []


_url = st.from_regex(
    r"https://[a-z]{1,8}\.signin\.aws/platform/saml/acs/[a-z0-9]{1,12}", fullmatch=True
)


@settings(max_examples=40, deadline=None)
@given(
    urls=st.lists(_url, unique=True, max_size=12),
    indexed=st.booleans(),
    entity=st.sampled_from([None, ISSUER, "https://other.example/x"]),
)
def test_apply_then_read_round_trips(urls: list[str], indexed: bool, entity: str | None) -> None:
    trust = AppTrust(
        entity_id=entity,
        acs=tuple(TrustedAcs(u, i if indexed else None) for i, u in enumerate(urls)),
        default_acs=urls[0] if urls else None,
    )
    doc = _doc(identifierUris=[] if entity is None else ["https://prev.example/id"])
    new = mapping.apply_trust(doc, trust)
    read, _ = mapping.trust_from_raw(new)
    assert read.urls() == trust.urls() and read.default_acs == trust.default_acs
    assert all(a.index is None for a in read.acs)  # the index is not mapped on v1.0
    assert read.entity_id == (entity if entity is not None else None)
    # A body built from the old doc turns it into the new one under PATCH semantics.
    body = mapping.patch_body(doc, trust)
    patched = copy.deepcopy(doc)
    for key, value in body.items():
        patched[key] = {**patched[key], **value} if key == "web" else value
    assert mapping.trust_from_raw(patched)[0] == read
    assert mapping.patch_body(new, read) == {}


def _target(**over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "name": "entra-prod",
        "type": "entra",
        "tenant_id": "00000000-0000-0000-0000-000000000000",
        "auth": {"method": "client_secret", "client_id": "c", "client_secret_env": "S"},
        "apps": [
            {"app_id": "11111111-1111-1111-1111-111111111111"},
            {"discover": "aws-iam-identity-center"},
        ],
    }
    cfg.update(over)
    return cfg


def test_config_defaults_and_national_cloud_scope() -> None:
    t = EntraTarget.model_validate(_target())
    assert (
        t.graph_v1 == "https://graph.microsoft.com/v1.0"
        and t.scope == "https://graph.microsoft.com/.default"
    )
    us = EntraTarget.model_validate(
        _target(
            graph_url="https://graph.microsoft.us/", authority="https://login.microsoftonline.us"
        )
    )
    assert (
        us.graph_v1 == "https://graph.microsoft.us/v1.0"
        and us.scope == "https://graph.microsoft.us/.default"
    )


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"auth": {"method": "client_secret", "client_id": "c"}}, "client_secret_env"),
        ({"auth": {"method": "token_env"}}, "token_env"),
        ({"auth": {"method": "certificate", "client_id": "c"}}, "certificate_file"),
        ({"auth": {"method": "password"}}, "method"),
        ({"tenant_id": "contoso"}, "GUID"),
        ({"apps": [{"app_id": "x"}]}, "GUID"),
        ({"apps": [{}]}, "exactly one"),
        ({"apps": [{"discover": "everything"}]}, "discover"),
        ({"graph_url": "http://graph.example"}, "loopback"),
        ({"client_secret": "inline"}, "extra"),
    ],
)
def test_config_errors_name_the_problem(over: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EntraTarget.model_validate(_target(**over))


@pytest.mark.parametrize("module", ["connectors/entra/mapping.py", "connectors/entra/findings.py"])
def test_entra_pure_modules_import_no_sdk(module: str) -> None:
    from tests.unit.test_pure_imports import REPO, imported_modules, offending

    names = imported_modules(REPO / module)
    assert names and offending(names) == [], f"{module} must stay pure"


def test_every_entra_key_is_documented_in_the_readme() -> None:
    from connectors.entra.config import EntraApp, EntraAuth
    from tests.unit.test_pure_imports import REPO

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Microsoft Entra ID", 1)[1].split("\n## ", 1)[0]
    for model in (EntraTarget, EntraAuth, EntraApp):
        for key in model.model_fields:
            assert f"{key}:" in section, f"{model.__name__}.{key} is not documented in README.md"
