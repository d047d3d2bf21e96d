"""The file connector: read, atomic write, unmanaged keys kept (values, order, layout)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import parse_config
from agent.connector import ConnectorContext
from agent.errors import ConfigError, Conflict, ConnectorError, NotSupported
from agent.model import AppTrust, TrustedAcs
from agent.plan import Action, AppPlan, Change, Field
from agent.safety import app_violations
from connectors.file import FileConnector, FileTargetConfig, apply_trust, trust_from_raw
from tests.security.trust_support import Policy
from tests.unit.test_diff_factories import ENTITY, desired, url

EU = url("eu-west-1")
US = url("us-east-1")


def write_doc(path: Path, doc: dict[str, Any], indent: int | None = 2) -> bytes:
    data = (json.dumps(doc, indent=indent) + "\n").encode()
    path.write_bytes(data)
    return data


def connector(path: Path, fmt: str = "idpsync") -> FileConnector:
    cfg = FileTargetConfig(name="offline", type="file", path=path.name, format=fmt)
    return FileConnector(cfg, ConnectorContext(env={}, base_dir=path.parent))


def plan_for(obs: Any, after: AppTrust) -> AppPlan:
    return AppPlan(obs.ref, obs.fingerprint, obs.trust, after, changes=())


DOC = {
    "notes": "kept",
    "entity_id": "",
    "multi_acs": True,
    "acs": [{"url": US, "index": 0, "default": True, "comment": {"by": "ops"}}],
    "nested": {"z": 1, "a": [1, 2, {"k": None}]},
}


async def test_observe_reads_trust_and_fingerprint(tmp_path: Path) -> None:
    data = write_doc(tmp_path / "app.json", DOC)
    conn = connector(tmp_path / "app.json")
    [ref] = await conn.discover()
    obs = await conn.observe(ref)
    assert obs.trust == AppTrust(None, (TrustedAcs(US, 0),), US)
    assert obs.raw.encode() == data
    assert obs.capabilities.multi_acs is True
    assert conn.trust_from_raw(obs.raw) == obs.trust


async def test_apply_writes_trust_and_keeps_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    write_doc(path, DOC)
    os.chmod(path, 0o640)
    conn = connector(path)
    obs = await conn.observe((await conn.discover())[0])
    after = AppTrust(ENTITY, (TrustedAcs(US, 0), TrustedAcs(EU, 1)), US)
    result = await conn.apply(plan_for(obs, after))
    assert result.trust == after
    doc = json.loads(path.read_text())
    assert list(doc) == list(DOC)  # key order kept
    assert doc["notes"] == "kept" and doc["nested"] == DOC["nested"]
    assert doc["acs"][0]["comment"] == {"by": "ops"}
    assert doc["acs"][1] == {"url": EU, "index": 1}
    assert doc["entity_id"] == ENTITY
    assert path.read_text().startswith('{\n  "notes"')  # indent kept
    assert (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["app.json"]  # no temp file left


async def test_apply_refuses_when_file_changed(tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    write_doc(path, DOC)
    conn = connector(path)
    obs = await conn.observe((await conn.discover())[0])
    write_doc(path, {**DOC, "notes": "edited by someone"})
    before = path.read_bytes()
    with pytest.raises(Conflict, match="changed since"):
        await conn.apply(plan_for(obs, AppTrust(ENTITY, obs.trust.acs, US)))
    assert path.read_bytes() == before


async def test_single_acs_file_limit_is_data_checked_while_planning(tmp_path: Path) -> None:
    """The app's limit is declared when it is read and checked by safety while planning
    (issue 14: never again at apply), so a two-URL plan for it never reaches apply."""
    path = tmp_path / "app.json"
    write_doc(path, {"multi_acs": False, "acs": [{"url": US}]})
    conn = connector(path)
    obs = await conn.observe((await conn.discover())[0])
    assert obs.trust.default_acs == US and obs.capabilities.max_acs == 1
    assert not obs.capabilities.multi_acs
    two = AppTrust(None, (TrustedAcs(US, 0), TrustedAcs(EU, 1)), US)
    change = Change(Action.ADD, Field.ACS_URL, "eu-west-1", None, EU)
    plan = AppPlan(obs.ref, obs.fingerprint, obs.trust, two, changes=(change,))
    codes = {v.code for v in app_violations(plan, desired(), obs, policy=Policy())}
    assert {"single_acs", "too_many_acs"} <= codes


async def test_failed_write_leaves_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.json"
    data = write_doc(path, DOC)
    conn = connector(path)
    obs = await conn.observe((await conn.discover())[0])

    def boom(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ConnectorError, match="No space left"):
        await conn.apply(plan_for(obs, AppTrust(ENTITY, obs.trust.acs, US)))
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["app.json"]


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ([1, 2], "JSON object"),
        ({"acs": {}}, "acs must be a list"),
        ({"acs": [{"index": 0}]}, "needs a url"),
        ({"acs": [{"url": US, "index": "0"}]}, "index must be an integer"),
        ({"acs": [{"url": US, "default": True}, {"url": EU, "default": True}]}, "more than one"),
        ({"multi_acs": "yes"}, "multi_acs"),
    ],
)
async def test_malformed_documents_are_connector_errors(
    tmp_path: Path, doc: object, needle: str
) -> None:
    path = tmp_path / "app.json"
    path.write_text(json.dumps(doc))
    conn = connector(path)
    with pytest.raises(ConnectorError, match=needle):
        await conn.observe((await conn.discover())[0])


async def test_missing_file_and_bad_json(tmp_path: Path) -> None:
    conn = connector(tmp_path / "absent.json")
    with pytest.raises(ConnectorError, match="cannot read"):
        await conn.observe((await conn.discover())[0])
    (tmp_path / "bad.json").write_text("{nope")
    conn = connector(tmp_path / "bad.json")
    with pytest.raises(ConnectorError, match="not valid JSON"):
        await conn.observe((await conn.discover())[0])


def test_config_validates_format_and_resolves_against_config_dir(tmp_path: Path) -> None:
    raw = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "m.xml"}]},
        "targets": [{"name": "x", "type": "file", "path": "apps/a.json"}],
    }
    cfg = parse_config(raw, base_dir=tmp_path)
    target = cfg.targets[0]
    assert isinstance(target, FileTargetConfig) and target.format == "idpsync"
    conn = FileConnector(target, ConnectorContext(env={}, base_dir=cfg.base_dir))
    assert conn.path == tmp_path / "apps" / "a.json"
    raw["targets"][0]["format"] = "ldif"  # type: ignore[index]
    with pytest.raises(ConfigError, match="unknown format 'ldif'"):
        parse_config(raw, base_dir=tmp_path)


def test_apply_trust_removes_default_flag_and_index_where_needed() -> None:
    doc = {"acs": [{"url": US, "index": 0, "default": True}, {"url": EU, "index": 1}]}
    new = apply_trust(doc, AppTrust(None, (TrustedAcs(US, None), TrustedAcs(EU, None)), EU))
    assert new["acs"] == [{"url": US, "default": False}, {"url": EU, "default": True}]
    assert "entity_id" not in new
    assert doc["acs"][0] == {"url": US, "index": 0, "default": True}  # input untouched
    assert trust_from_raw(new)[0].default_acs == EU


# ---- property: unmanaged fields are byte-identical after apply ---------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
MANAGED = {"entity_id", "acs", "multi_acs"}
ENTRY_MANAGED = {"url", "index", "default"}
extra_keys = st.dictionaries(
    st.text(min_size=1, max_size=6).filter(lambda k: k not in MANAGED), json_values, max_size=4
)
entry_extras = st.dictionaries(
    st.text(min_size=1, max_size=6).filter(lambda k: k not in ENTRY_MANAGED),
    json_values,
    max_size=2,
)


def unmanaged_bytes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, json.dumps(v)) for k, v in doc.items() if k not in MANAGED]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    top=extra_keys,
    in_entry=entry_extras,
    indent=st.sampled_from([None, 2, 4]),
    adds=st.lists(st.sampled_from([EU, url("ap-south-1"), url("us-west-2")]), unique=True),
)
async def test_unmanaged_fields_are_byte_identical_after_apply(
    tmp_path: Path,
    top: dict[str, Any],
    in_entry: dict[str, Any],
    indent: int | None,
    adds: list[str],
) -> None:
    path = tmp_path / "prop.json"
    doc = {**top, "entity_id": "", "acs": [{"url": US, "index": 0, **in_entry, "default": True}]}
    write_doc(path, doc, indent=indent)
    conn = connector(path)
    obs = await conn.observe((await conn.discover())[0])
    acs = (TrustedAcs(US, 0), *(TrustedAcs(u, i + 1) for i, u in enumerate(adds)))
    await conn.apply(plan_for(obs, AppTrust(ENTITY, acs, US)))
    new = json.loads(path.read_text())
    assert unmanaged_bytes(new) == unmanaged_bytes(doc)
    kept_entry = new["acs"][0]
    assert [(k, json.dumps(v)) for k, v in kept_entry.items() if k not in ENTRY_MANAGED] == [
        (k, json.dumps(v)) for k, v in in_entry.items()
    ]
    # The raw snapshot's unmanaged keys, re-read through the connector, are the same bytes.
    again = await conn.observe(obs.ref)
    assert unmanaged_bytes(json.loads(again.raw)) == unmanaged_bytes(json.loads(obs.raw))


# ---- format: okta / entra (the same mapping code as the live connectors) -----------------

OKTA_APP = {
    "id": "0oa1",
    "name": "customapp_1",
    "label": "AWS IAM Identity Center",
    "status": "ACTIVE",
    "signOnMode": "SAML_2_0",
    "settings": {
        "app": {},
        "notes": {"admin": None, "enduser": None},
        "signOn": {
            "ssoAcsUrl": US,
            "recipient": US,
            "destination": US,
            "audience": ENTITY,
            "allowMultipleAcsEndpoints": True,
            "acsEndpoints": [{"url": US, "index": 0}],
            "attributeStatements": [],
            "ssoAcsUrlOverride": None,
        },
    },
    "_links": {"metadata": {"href": "https://example.okta.com/api/v1/apps/0oa1/sso/saml/metadata"}},
}
ENTRA_APP = {
    "id": "2f8b4a63-1c1d-4c55-9c1a-6a2c5f0e7b11",
    "displayName": "AWS IAM Identity Center",
    "identifierUris": [ENTITY],
    "defaultRedirectUri": US,
    "web": {
        "redirectUris": [US],
        "redirectUriSettings": [{"uri": US, "index": 0}],
        "implicitGrantSettings": {"enableIdTokenIssuance": False},
    },
    "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
}


@pytest.mark.parametrize(("fmt", "doc"), [("okta", OKTA_APP), ("entra", ENTRA_APP)])
async def test_vendor_formats_round_trip_through_their_mapping(
    tmp_path: Path, fmt: str, doc: dict[str, Any]
) -> None:
    path = tmp_path / f"{fmt}.json"
    write_doc(path, doc)
    conn = connector(path, fmt)
    obs = await conn.observe((await conn.discover())[0])
    # Entra's index (web.redirectUriSettings) is beta-only and not mapped (issue 15).
    first, second = (0, 1) if fmt == "okta" else (None, None)
    assert obs.trust == AppTrust(ENTITY, (TrustedAcs(US, first),), US)
    assert obs.kind == f"file:{fmt}"
    after = AppTrust(ENTITY, (TrustedAcs(US, first), TrustedAcs(EU, second)), US)
    result = await conn.apply(plan_for(obs, after))
    assert result.trust == after
    new = json.loads(path.read_text())
    for key in doc:
        if key not in ("settings", "web"):
            assert new[key] == doc[key]


async def test_vendor_format_limit_is_not_supported(tmp_path: Path) -> None:
    path = tmp_path / "okta.json"
    write_doc(path, OKTA_APP)
    conn = connector(path, "okta")
    obs = await conn.observe((await conn.discover())[0])
    too_many = tuple(TrustedAcs(f"{US}{i}", i) for i in range(101))
    with pytest.raises(NotSupported, match="limit of 100"):
        await conn.apply(plan_for(obs, AppTrust(ENTITY, too_many, US)))
