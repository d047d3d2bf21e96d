"""Builders for the connector contract suite: each connector wired to its fake, one app each.

Every builder sets up one app that trusts only the primary Region (us-east-1, IPv4 and
dual-stack, indexes 0 and 1) plus, where the IdP has a listing, a decoy app that discovery
must not return, and hands back a :class:`Subject`: the same small surface for the file
connector, Okta and Entra, so ``tests/contract/test_connector_contract.py`` states each rule once.
"""

from __future__ import annotations

import copy
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from agent.connector import ConnectorContext
from agent.model import DesiredTrust, Stack
from connectors.file import FileConnector, FileTargetConfig
from connectors.kit.testing import Subject
from connectors.okta import OktaConnector
from tests import entra_support, okta_support
from tests.fakes.graph_fake import GraphFake
from tests.fakes.okta_fake import OktaFake
from tests.unit.test_diff_factories import ENTITY, desired, url

PRIMARY = "us-east-1"
ADDED_REGIONS = frozenset({"eu-west-1", "ap-southeast-2"})
PRIMARY_URLS = (url(PRIMARY, Stack.IPV4), url(PRIMARY, Stack.DUALSTACK))
LABEL = "AWS IAM Identity Center"

# The fields each connector's mapping owns (``apply`` may change only these).
OKTA_MANAGED_SIGN_ON = (
    "ssoAcsUrl",
    "recipient",
    "destination",
    "audience",
    "acsEndpoints",
    "allowMultipleAcsEndpoints",
)
ENTRA_MANAGED_WEB = ("redirectUris", "redirectUriSettings")


def contract_desired() -> DesiredTrust:
    return desired(("us-east-1", "eu-west-1", "ap-southeast-2"), primary=PRIMARY)


# ---- file ---------------------------------------------------------------------------------

FILE_DOC: dict[str, Any] = {
    "notes": "kept",
    "entity_id": ENTITY,
    "multi_acs": True,
    "acs": [
        {"url": PRIMARY_URLS[0], "index": 0, "default": True, "comment": {"by": "ops"}},
        {"url": PRIMARY_URLS[1], "index": 1},
    ],
    "nested": {"z": 1, "a": [1, 2, {"k": None}]},
}


async def file_subject(tmp_path: Path, stack: AsyncExitStack) -> Subject:
    path = tmp_path / "app.json"
    path.write_text(json.dumps(FILE_DOC, indent=2) + "\n", encoding="utf-8")
    log: list[tuple[str, str]] = []
    methods = {"get": "GET", "put": "PUT"}
    context = ConnectorContext(
        env={},
        base_dir=tmp_path,
        on_request=lambda _target, kind, _status: log.append((methods[kind], path.name)),
    )
    conn = FileConnector(FileTargetConfig(name="offline", path=path.name), context)
    stack.push_async_callback(conn.aclose)

    def stored() -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return doc

    def edit() -> None:
        path.write_text(json.dumps({**stored(), "notes": "edited by someone"}), encoding="utf-8")

    return Subject(
        kind="file",
        connector=conn,
        app_id=path.name,
        desired=contract_desired(),
        requests=lambda: list(log),
        clear_log=log.clear,
        app_write=("PUT", path.name),
        stored=stored,
        unmanaged=lambda doc: {k: v for k, v in doc.items() if k not in ("entity_id", "acs")},
        edit=edit,
    )


# ---- okta ---------------------------------------------------------------------------------


def okta_app() -> dict[str, Any]:
    """The synthetic custom SAML app, re-pointed at the factories' primary-Region URLs."""
    doc = okta_support.custom_app()
    sign_on = doc["settings"]["signOn"]
    sign_on.update(
        ssoAcsUrl=PRIMARY_URLS[0],
        recipient=PRIMARY_URLS[0],
        destination=PRIMARY_URLS[0],
        audience=ENTITY,
        allowMultipleAcsEndpoints=True,
        acsEndpoints=[{"url": u, "index": i} for i, u in enumerate(PRIMARY_URLS)],
    )
    return doc


def okta_unmanaged(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out.pop("lastUpdated", None)
    sign_on = out["settings"]["signOn"]
    for key in OKTA_MANAGED_SIGN_ON:
        sign_on.pop(key, None)
    return out


async def okta_subject(tmp_path: Path, stack: AsyncExitStack) -> Subject:
    """Needs the ``okta_env`` fixture active (the SDK reads OKTA_*, ~/.okta and ./okta.yaml)."""
    fake = OktaFake().start()
    stack.callback(fake.stop)
    app_id = fake.add_app(okta_app())
    decoy = okta_app()
    decoy.update(id="0oadecoy0000000001", label=f"{LABEL} (staging)")  # q matches it too
    fake.add_app(decoy)
    conn = OktaConnector(
        okta_support.target(fake, apps=[{"label": LABEL}]), okta_support.context(tmp_path)
    )
    stack.push_async_callback(conn.aclose)

    def edit() -> None:
        fake.edit_app(app_id, lambda d: d["settings"]["notes"].update(admin="edited in console"))

    return Subject(
        kind="okta",
        connector=conn,
        app_id=app_id,
        desired=contract_desired(),
        requests=lambda: [(r.method, r.path) for r in fake.requests],
        clear_log=fake.reset_log,
        app_write=("PUT", f"/api/v1/apps/{app_id}"),
        stored=lambda: copy.deepcopy(fake.apps[app_id]),
        unmanaged=okta_unmanaged,
        edit=edit,
    )


# ---- entra --------------------------------------------------------------------------------


def entra_unmanaged(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in ("identifierUris", "defaultRedirectUri")}
    out["web"] = {k: v for k, v in doc["web"].items() if k not in ENTRA_MANAGED_WEB}
    return out


async def entra_subject(tmp_path: Path, stack: AsyncExitStack) -> Subject:
    fake = GraphFake().start()
    stack.callback(fake.stop)
    fake.expected_token = entra_support.TOKEN
    app = fake.add_app(  # an IdC gallery app, already in SAML mode (no SP write on apply)
        identifier_uris=[ENTITY],
        redirect_uris=list(PRIMARY_URLS),
        redirect_uri_settings=[{"uri": u, "index": i} for i, u in enumerate(PRIMARY_URLS)],
        default_redirect_uri=PRIMARY_URLS[0],
        sso_mode="saml",
    )
    fake.add_app(display_name="Some other app", template_id=None, sso_mode="saml")
    conn = entra_support.connector(fake)
    stack.push_async_callback(conn.aclose)
    app_id = str(app["appId"])

    return Subject(
        kind="entra",
        connector=conn,
        app_id=app_id,
        desired=contract_desired(),
        # Requests to Graph's resources: a $batch envelope is transport (its sub-requests,
        # logged on their own, are the requests).
        requests=lambda: [(r.method, r.path) for r in fake.requests if r.path != "/v1.0/$batch"],
        clear_log=fake.clear_log,
        app_write=("PATCH", f"/v1.0/applications/{app['id']}"),
        stored=lambda: fake.app(app_id),
        unmanaged=entra_unmanaged,
        edit=lambda: fake.edit_app(app_id, {"displayName": "Renamed in the portal"}),
    )


BUILDERS = {"file": file_subject, "okta": okta_subject, "entra": entra_subject}
