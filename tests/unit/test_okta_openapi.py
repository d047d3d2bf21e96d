"""The fake's responses and the connector's PUT bodies validate against Okta's OpenAPI.

Okta's own description (``tests/data/okta/openapi/management-openapi.yaml``, 3 MB) is loaded once
per session. Two documented relaxations, both for gaps between the spec and live Okta
(tests/data/okta/openapi/README.md, domain.md 3.1): additional properties are allowed (JSON
Schema's default; e.g. ``samlSignedRequestEnabled``, ``settings.app`` keys), and an
optional property may be ``null`` (live GETs return ``"ssoAcsUrlOverride": null`` and
friends although the spec types them as strings). Required fields, types, enums, array
shapes and ``maxLength`` are all enforced.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from agent.model import AppRef, AppTrust, TrustedAcs
from agent.plan import AppPlan
from connectors.okta import OktaConnector
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import (
    OPENAPI_SPEC,
    aws_sso_app,
    context,
    custom_app,
    fake,
    load_recorded,
    okta_env,
    recorded_keys,
    target,
)

__all__ = ["fake", "okta_env"]

SPEC = OPENAPI_SPEC
T = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
EU = f"https://eu-west-1.signin.aws/platform/saml/acs/{T}"


def _relax(node: Any) -> Any:
    if isinstance(node, list):
        return [_relax(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _relax(v) for k, v in node.items()}
    props = out.get("properties")
    if isinstance(props, dict):
        required = set(out.get("required") or ())
        out["properties"] = {
            name: sub if name in required else {"anyOf": [sub, {"type": "null"}]}
            for name, sub in props.items()
        }
    if out.get("nullable") is True:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@functools.lru_cache(maxsize=1)
def _load_spec_components() -> dict[str, Any]:
    """Parse the 3 MB YAML once per test session (pure-Python PyYAML takes seconds)."""
    if not SPEC.is_file():
        raise AssertionError(f"Okta OpenAPI spec not found at {SPEC}")
    raw = SPEC.read_bytes()
    # A JSON copy keyed by the spec's hash makes later local runs fast; CI parses once.
    cached = (
        Path(tempfile.gettempdir())
        / f"idpsync-okta-openapi-{hashlib.sha256(raw).hexdigest()[:16]}.json"
    )
    if cached.is_file():
        data: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
        return data
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(raw, Loader=loader)
    data = {"components": _relax(spec["components"])}
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, cached)
    return data


@functools.lru_cache(maxsize=2)
def components(oin: bool = False) -> dict[str, Any]:
    """The relaxed components; ``oin``: catalog SAML apps lack the custom-app signOn fields.

    Okta's OIN SAML apps expose only a handful of ``signOn`` fields (domain.md 3.2), so the
    custom-app ``required`` list of ``SamlApplicationSettingsSignOn`` does not apply to them.
    """
    if oin:
        base = _load_spec_components()["components"]
        sign_on = base["schemas"]["SamlApplicationSettingsSignOn"]
        schemas = {
            **base["schemas"],
            "SamlApplicationSettingsSignOn": {k: v for k, v in sign_on.items() if k != "required"},
        }
        return {"components": {**base, "schemas": schemas}}
    return _load_spec_components()


def _validator(instance: Any, schema_name: str) -> jsonschema.Draft4Validator:
    sign_on = instance.get("settings", {}).get("signOn") if isinstance(instance, dict) else None
    oin = isinstance(sign_on, dict) and "ssoAcsUrl" not in sign_on
    schema = {**components(oin), "$ref": f"#/components/schemas/{schema_name}"}
    return jsonschema.Draft4Validator(schema)


def validate(instance: Any, schema_name: str) -> None:
    _validator(instance, schema_name).validate(instance)


def errors(instance: Any, schema_name: str) -> list[str]:
    return [e.message for e in _validator(instance, schema_name).iter_errors(instance)]


def test_validator_catches_drift() -> None:
    """The check must be able to fail: break the shapes the connector depends on."""
    doc = custom_app()
    doc["settings"]["signOn"]["acsEndpoints"] = [{"url": EU}]  # index missing
    assert errors(doc, "SamlApplication")
    assert errors({"url": EU}, "AcsEndpoint") == ["'index' is a required property"]
    doc = custom_app()
    del doc["settings"]["signOn"]["responseSigned"]
    assert errors(doc, "SamlApplication")
    doc = custom_app()
    doc["settings"]["signOn"]["acsEndpoints"][0]["url"] = "https://x/" + "y" * 1030
    assert errors(doc, "SamlApplication")
    assert errors({"errorCauses": "not a list"}, "Error")


@pytest.mark.parametrize(
    "doc",
    [
        custom_app(),
        aws_sso_app(),
        load_recorded("app-oin-saml-zoomus.json"),
        load_recorded("app-oin-saml-org2org.json"),
    ],
    ids=lambda d: str(d["name"]),
)
async def test_fake_app_responses_match_the_spec(fake: OktaFake, doc: dict[str, Any]) -> None:
    app_id = fake.add_app(doc, keys=recorded_keys())
    conn = OktaConnector(target(fake), context())
    try:
        got = await conn.client.get(f"/api/v1/apps/{app_id}")
        keys = await conn.client.get(f"/api/v1/apps/{app_id}/credentials/keys")
        listed = await conn.client.get("/api/v1/apps?limit=5")
    finally:
        await conn.aclose()
    validate(got.data, "SamlApplication")
    for key in keys.data:
        validate(key, "JsonWebKey")
    for app in listed.data:
        validate(app, "Application")


def test_recorded_list_page_matches_the_spec() -> None:
    for app in load_recorded("list-apps-page.json")["body"]:
        validate(app, "Application")


async def test_fake_error_bodies_match_the_spec(fake: OktaFake) -> None:
    doc = custom_app()
    del doc["settings"]["signOn"]["assertionSigned"]
    app_id = fake.add_app(doc)
    conn = OktaConnector(target(fake, max_retries=0), context())
    fake.inject("429", method="GET", path_re="/nothing$")
    try:
        for path in ("/api/v1/apps/0oamissing", "/api/v1/apps?after=bogus", "/api/v1/nothing"):
            with contextlib.suppress(Exception):  # the bodies are what is checked here
                await conn.client.get(path)
        with contextlib.suppress(Exception):
            await conn.client.put(f"/api/v1/apps/{app_id}", doc)
    finally:
        await conn.aclose()
    failed = [r for r in fake.requests if r.status >= 400]
    assert sorted(r.status for r in failed) == [400, 400, 404, 429]
    for r in failed:
        body = json.loads(r.response)
        validate(body, "Error")
        assert body["errorCode"] and body["errorSummary"] and body["errorId"]
    assert json.loads(failed[-1].response)["errorCauses"], "E0000001 carries errorCauses"
    for name in ("error-E0000001-validation.json", "error-E0000007-not-found.json"):
        validate(load_recorded(name)["body"], "Error")


@pytest.mark.parametrize("make", [custom_app, aws_sso_app], ids=["custom", "aws_sso"])
async def test_connector_put_bodies_match_the_spec(fake: OktaFake, make: Any) -> None:
    app_id = fake.add_app(make())
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        before = observed.trust
        after = (
            AppTrust(before.entity_id, (*before.acs, TrustedAcs(EU, 2)), before.default_acs)
            if observed.capabilities.multi_acs
            else AppTrust(before.entity_id, (TrustedAcs(EU, None),), EU)
        )
        await conn.apply(AppPlan(observed.ref, observed.fingerprint, before, after, ()))
    finally:
        await conn.aclose()
    (put,) = fake.calls("PUT")
    body = json.loads(put.body)
    validate(body, "SamlApplication")
    for entry in body["settings"]["signOn"].get("acsEndpoints", []):
        validate(entry, "AcsEndpoint")
