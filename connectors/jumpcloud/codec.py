"""JumpCloud's SSO application document to idpsync's trust, and back.

What the documents say (the V1 API reference, ``application`` object and
``PUT /applications/{id}``, https://docs.jumpcloud.com/api/1.0/index.html#tag/Applications,
machine-readable in TheJumpCloud/jcapi-powershell ``SDKs/PowerShell/JumpCloud.SDK.V1/
custom/JumpCloud.SDK.V1.json``):

* every SAML setting is a field object under ``config`` whose ``value`` holds the setting
  (``config.acsUrl.value``, ``config.spEntityId.value``, ``config.idpEntityId.value``), beside
  UI metadata (``label``, ``position``, ``readOnly``, ``tooltip``, ...);
* ``config.acsUrl.value`` is **one string**. JumpCloud's console says "JumpCloud supports
  multiple ACS URLs" (https://jumpcloud.com/support/sso-application-connector-fields), but
  the API reference documents no field for more than one, so through the API an app holds
  one ACS URL: the codec declares ``Capabilities(multi_acs=False, max_acs=1)`` and the core
  reports ``single_acs_app`` and plans the default only;
* PUT "updates a SSO / SAML Application. Any fields not provided will be reset or created
  with default values": the whole document is sent back, every field but the two ``value``
  keys idpsync manages exactly as read (an undocumented field, such as extra ACS URLs a
  newer console keeps, survives because it is carried through, never modelled).

``config.spEntityId`` is the SP's entity ID (Identity Center's issuer), what idpsync
manages; ``config.idpEntityId`` is JumpCloud's own and is never touched.
"""

from __future__ import annotations

import copy
from typing import Any

from agent.model import AppTrust, Capabilities, Finding, Severity, TrustedAcs
from connectors.kit.codec import Decoded, Doc, UnsupportedApp

# One ACS URL per app through the documented API; no index is stored.
CAPABILITIES = Capabilities(multi_acs=False, max_acs=1, indexed=False)
ACS = "acsUrl"
ENTITY = "spEntityId"
_DOCUMENTED_CONFIG = frozenset(
    {
        "acsUrl",
        "constantAttributes",
        "databaseAttributes",
        "declareRedirectEndpoint",
        "defaultTargetUrl",
        "groupsAttributeName",
        "idpCertificate",
        "idpEntityId",
        "idpInitUrl",
        "idpPrivateKey",
        "includeGroups",
        "overrideNameIdFormat",
        "signAssertion",
        "signatureAlgorithm",
        "signResponse",
        "spCertificate",
        "spEntityId",
        "spErrorFlow",
        "subjectField",
        "authClaimConfiguration",
    }
)


def _config(doc: Doc) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise UnsupportedApp("the application is not a JSON object")
    sso = doc.get("sso")
    if isinstance(sso, dict) and sso.get("type") not in (None, "saml"):
        raise UnsupportedApp(f"sso.type is {sso.get('type')!r}, not a SAML application")
    config = doc.get("config")
    if not isinstance(config, dict):
        raise UnsupportedApp("the application has no config object (not a SAML application)")
    return config


def _value(config: dict[str, Any], key: str, *, required: bool) -> str | None:
    field = config.get(key)
    if field is None and not required:
        return None
    if not isinstance(field, dict):
        raise UnsupportedApp(f"config.{key} is missing or not an object")
    value = field.get("value")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UnsupportedApp(f"config.{key}.value is {type(value).__name__}, not a string")
    return value


def _findings(config: dict[str, Any]) -> tuple[Finding, ...]:
    extra = sorted(k for k in config if "acs" in k.lower() and k not in _DOCUMENTED_CONFIG)
    if not extra:
        return ()
    return (
        Finding(
            "jumpcloud_undocumented_acs_field",
            Severity.WARNING,
            f"config holds {', '.join(extra)}, which JumpCloud's API reference does not "
            "describe; idpsync manages config.acsUrl only and carries the rest through "
            "unchanged, so ACS URLs kept there are not checked",
        ),
    )


def decode(doc: Doc) -> Decoded:
    config = _config(doc)
    url = _value(config, ACS, required=True)
    entity = _value(config, ENTITY, required=False)
    label = doc.get("displayLabel")
    kind = doc.get("name")
    return Decoded(
        trust=AppTrust(
            entity_id=entity,
            acs=(TrustedAcs(url=url),) if url else (),
            default_acs=url,
        ),
        capabilities=CAPABILITIES,
        kind=kind if isinstance(kind, str) else "",
        label=label if isinstance(label, str) else "",
        findings=_findings(config),
    )


def encode(doc: Doc, trust: AppTrust) -> Doc:
    """``doc`` with ``trust`` in ``config.acsUrl.value`` and ``config.spEntityId.value``;
    only those two field objects are copied, every other key is the very value read."""
    config = _config(doc)
    if len(trust.acs) > 1:
        raise UnsupportedApp(
            f"a JumpCloud application holds one ACS URL through the API, not {len(trust.acs)}"
        )
    url = trust.default_acs or (trust.acs[0].url if trust.acs else None)
    if url is None:
        raise UnsupportedApp("config.acsUrl is required; idpsync never empties it")
    new_config = dict(config)
    new_config[ACS] = {**copy.deepcopy(config[ACS]), "value": url}
    if trust.entity_id is not None:
        current = config.get(ENTITY)
        base = copy.deepcopy(current) if isinstance(current, dict) else {}
        new_config[ENTITY] = {**base, "value": trust.entity_id}
    return {**doc, "config": new_config}
