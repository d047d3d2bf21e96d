"""A replace-app PUT behaves as Okta's does (Replace an application,
https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/#tag/Application/operation/replaceApplication):
read-only members in the body are ignored, a body that drops a required setting is refused
with 400 E0000001 in Okta's error shape, and idpsync's own writes pass and change nothing
they do not manage (what the SDK's typed models would send does not pass).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from agent.errors import ConnectorError
from agent.model import AppRef, AppTrust, TrustedAcs
from agent.plan import AppPlan
from connectors.okta import OktaConnector, mapping
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import (
    aws_sso_app,
    connector,
    context,
    custom_app,
    fake,
    load_recorded,
    okta_env,
    target,
)

__all__ = ["connector", "fake", "okta_env"]

T = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
EU = f"https://eu-west-1.signin.aws/platform/saml/acs/{T}"
READ_ONLY = {
    "id": "0oaOTHER",
    "name": "renamed_app",
    "status": "INACTIVE",
    "created": "1999-01-01T00:00:00.000Z",
    "lastUpdated": "1999-01-01T00:00:00.000Z",
    "_links": {"self": {"href": "https://evil.example/api/v1/apps/x"}},
}


async def test_read_only_members_in_the_body_are_ignored(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(custom_app())
    before = copy.deepcopy(fake.apps[app_id])
    body = {**copy.deepcopy(before), **READ_ONLY, "label": "Renamed by the PUT"}
    await connector.client.put(f"/api/v1/apps/{app_id}", body)
    stored = fake.apps[app_id]
    for key in ("id", "name", "status", "created", "_links"):
        assert stored[key] == before[key], key
    assert stored["lastUpdated"] not in (before["lastUpdated"], READ_ONLY["lastUpdated"])
    assert stored["label"] == "Renamed by the PUT"  # what is writable is written
    assert "0oaOTHER" not in fake.apps


def _drop(*path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


@pytest.mark.parametrize(
    ("make", "mutate", "field"),
    [
        (custom_app, _drop("settings", "signOn"), "settings.signOn"),
        (custom_app, _drop("settings", "signOn", "ssoAcsUrl"), "settings.signOn.ssoAcsUrl"),
        (custom_app, _drop("settings", "signOn", "audience"), "settings.signOn.audience"),
        (
            custom_app,
            _drop("settings", "signOn", "responseSigned"),
            "settings.signOn.responseSigned",
        ),
        (custom_app, _drop("settings"), "settings"),
        (custom_app, _drop("label"), "label"),
        (aws_sso_app, _drop("settings", "app"), "settings.app"),
        (aws_sso_app, _drop("settings", "app", "entityID"), "settings.app.entityID"),
        (aws_sso_app, _drop("settings", "app", "acsURL"), "settings.app.acsURL"),
        (
            lambda: load_recorded("app-oin-saml-zoomus.json"),
            _drop("settings", "app"),
            "settings.app",
        ),
    ],
    ids=[
        "signOn",
        "ssoAcsUrl",
        "audience",
        "responseSigned",
        "settings",
        "label",
        "aws-app",
        "aws-entityID",
        "aws-acsURL",
        "oin-app",
    ],
)
async def test_a_body_that_drops_a_required_setting_is_refused(
    fake: OktaFake,
    connector: OktaConnector,
    make: Callable[[], dict[str, Any]],
    mutate: Callable[[dict[str, Any]], None],
    field: str,
) -> None:
    app_id = fake.add_app(make())
    before = json.dumps(fake.apps[app_id])
    body = copy.deepcopy(fake.apps[app_id])
    mutate(body)
    with pytest.raises(ConnectorError) as caught:
        await connector.client.put(f"/api/v1/apps/{app_id}", body)
    error = caught.value
    assert error.status == 400 and error.code == "E0000001"
    assert f"{field}:" in str(error)  # errorCauses name the field
    assert json.dumps(fake.apps[app_id]) == before  # nothing stored
    (put,) = fake.calls("PUT")
    shape = json.loads(put.response)
    assert set(shape) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert shape["errorSummary"].startswith("Api validation failed: ")


def _without(doc: dict[str, Any], section: str, keys: tuple[str, ...]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out.pop("lastUpdated", None)
    for key in keys:
        out["settings"][section].pop(key, None)
    return out


def _with_eu(observed_kind: str, trust: AppTrust) -> AppTrust:
    if observed_kind == mapping.KIND_AWS_SSO:  # one ACS URL: move it
        return AppTrust(trust.entity_id, (TrustedAcs(EU, 0),), EU)
    return AppTrust(trust.entity_id, (*trust.acs, TrustedAcs(EU, 9)), trust.default_acs)


@pytest.mark.parametrize("make", [custom_app, aws_sso_app], ids=["custom", "aws_sso"])
async def test_idpsync_writes_pass_and_keep_every_unmanaged_field(
    fake: OktaFake, make: Callable[[], dict[str, Any]]
) -> None:
    app_id = fake.add_app(make())
    before = copy.deepcopy(fake.apps[app_id])
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        after = _with_eu(observed.kind, observed.trust)
        await conn.apply(AppPlan(observed.ref, observed.fingerprint, observed.trust, after, ()))
    finally:
        await conn.aclose()
    (put,) = fake.calls("PUT")
    assert put.status == 200
    section, keys = {
        mapping.KIND_CUSTOM_SAML: ("signOn", ("acsEndpoints", "allowMultipleAcsEndpoints")),
        mapping.KIND_AWS_SSO: ("app", ("acsURL",)),
    }[observed.kind]
    stored = fake.apps[app_id]
    # Every unmanaged member, in the body sent and in what Okta now holds, as it was.
    assert json.dumps(_without(put.json(), section, keys)) == json.dumps(
        _without(before, section, keys)
    )
    assert json.dumps(_without(stored, section, keys), sort_keys=True) == json.dumps(
        _without(before, section, keys), sort_keys=True
    )


async def test_what_the_sdk_typed_model_would_send_is_refused(
    fake: OktaFake, connector: OktaConnector
) -> None:
    """The SDK's ``SamlApplicationSettings`` has no ``app`` field (domain.md 3.9 #3): a
    typed round trip of amazon_aws_sso drops acsURL and entityID. The fake refuses it."""
    app_id = fake.add_app(aws_sso_app())
    typed = copy.deepcopy(fake.apps[app_id])
    del typed["settings"]["app"]
    with pytest.raises(ConnectorError, match=r"settings\.app: The field is required"):
        await connector.client.put(f"/api/v1/apps/{app_id}", typed)
