"""A OneLogin SAML app (API v2 app resource) to idpsync's trust, and back.

What the OneLogin documentation says, and what this codec does with it:

* ``GET /api/2/apps/{id}`` returns the app resource: ``id``, ``connector_id``, ``name``,
  ``auth_method`` (2 = SAML), and sections ``configuration``, ``parameters``, ``sso``
  (read-only: ``metadata_url``, ``acs_url``, ``issuer``, ``certificate``), ``provisioning``,
  ``role_ids`` (https://developers.onelogin.com/api-docs/2/apps/get-app,
  https://developers.onelogin.com/api-docs/2/apps/app-resource).
* The attributes of ``configuration`` depend on the connector. For the SAML custom
  connector they are the console's "Configuration" tab: ``audience`` (Audience / Entity
  ID), ``recipient``, ``consumer_url`` ("ACS (Consumer) URL", required) and ``validator``
  ("ACS (Consumer) URL Validator", required: a regular expression the ACS URL of a
  request must match), plus ``relaystate``, ``login``, ``logout_url``,
  ``signature_algorithm``, ``certificate_id`` and the ``saml_*`` options (field names as
  OneLogin's own Terraform provider reads them,
  https://github.com/onelogin/terraform-provider-onelogin). OneLogin's own SDK models
  only ``signature_algorithm`` and ``certificate_id`` of it (``ConfigurationSaml``,
  https://github.com/onelogin/onelogin-python-sdk).
* The app holds **one** ACS URL: ``Capabilities(multi_acs=False, max_acs=1)``, so the core
  only ever sets the default, reports ``single_acs_app`` for the other Regions, and checks
  the validator (``acs_url_pattern``) against every desired URL.

Trust: entity ID ``configuration.audience``; ACS URL and default ``consumer_url``.
Encoding writes ``consumer_url``, ``recipient`` when it was empty or equal to the old
ACS URL (it is normally the same URL), and ``audience``; every other member keeps its
value. ``validator`` is never written: widening what an app trusts is an administrator's
decision.
"""

from __future__ import annotations

from typing import Any

from agent.model import AppTrust, Capabilities, TrustedAcs
from connectors.kit.codec import Decoded, Doc, UnsupportedApp

SAML = 2  # auth_method of a SAML app


def _configuration(doc: Doc) -> dict[str, Any]:
    if doc.get("auth_method") != SAML:
        raise UnsupportedApp(f"auth_method is {doc.get('auth_method')!r}, not 2 (SAML)")
    config = doc.get("configuration")
    if not isinstance(config, dict):
        raise UnsupportedApp("the app has no configuration object")
    if "consumer_url" not in config:
        raise UnsupportedApp(
            "configuration has no consumer_url (ACS URL): not a SAML custom connector app"
        )
    for key in ("consumer_url", "audience", "recipient", "validator"):
        if config.get(key) is not None and not isinstance(config[key], str):
            raise UnsupportedApp(f"configuration.{key} is not a string")
    return config


def _text(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    return value if isinstance(value, str) and value else None


def decode(doc: Doc) -> Decoded:
    config = _configuration(doc)
    acs = _text(config, "consumer_url")
    name = doc.get("name")
    return Decoded(
        trust=AppTrust(
            entity_id=_text(config, "audience"),
            acs=(TrustedAcs(url=acs),) if acs else (),
            default_acs=acs,
        ),
        capabilities=Capabilities(
            multi_acs=False,
            max_acs=1,
            indexed=False,
            acs_url_pattern=_text(config, "validator"),
        ),
        kind=f"saml:{doc.get('connector_id')}",
        label=name if isinstance(name, str) else "",
    )


def encode(doc: Doc, trust: AppTrust) -> Doc:
    config = _configuration(doc)
    if len(trust.acs) > 1:
        raise UnsupportedApp(f"the app holds one ACS URL; {len(trust.acs)} were asked for")
    new_config = dict(config)
    old = _text(config, "consumer_url")
    url = trust.acs[0].url if trust.acs else None
    if url != old:
        new_config["consumer_url"] = url or ""
        if not _text(config, "recipient") or config.get("recipient") == old:
            new_config["recipient"] = url or ""
    if trust.entity_id and trust.entity_id != _text(config, "audience"):
        new_config["audience"] = trust.entity_id
    if new_config == config:
        return doc
    return {**doc, "configuration": new_config}
