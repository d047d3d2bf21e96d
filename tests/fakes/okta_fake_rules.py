"""Okta's server-side rules as the fake applies them: PUT validation, list filters."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from aiohttp import web

JSON = "application/json"


def oauth_error(code: str, description: str) -> web.Response:
    body = {"error": code, "error_description": description}
    return web.Response(status=401, text=json.dumps(body), content_type=JSON)


def qs(params: dict[str, str]) -> str:
    return urlencode(params, quote_via=quote)


_FILTER = re.compile(r'^\s*(id|status|name)\s+eq\s+"([^"]*)"\s*$')


def matches(app: dict[str, Any], flt: str | None, q: str | None) -> bool:
    if q:
        prefix = q.lower()
        names = (str(app.get("name", "")).lower(), str(app.get("label", "")).lower())
        if not any(n.startswith(prefix) for n in names):
            return False
    if flt:
        m = _FILTER.match(flt)
        if m is None:
            return False
        return str(app.get(m.group(1))) == m.group(2)
    return True


def validate_app(body: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Okta-like server-side checks on a full-replace PUT; each cause names its field.

    Replace application (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/#tag/Application/operation/replaceApplication)
    replaces the whole app, so a body that drops a required setting is refused (400
    E0000001), never stored as a wiped setting. Read-only members (``id``, ``name``,
    ``status``, ``created``, ``lastUpdated``, ``_links``) are ignored by the caller.
    Required here: ``label``, an unchanged ``signOnMode``, ``settings``; for a custom SAML
    app ``settings.signOn`` with the schema's required booleans
    (``SamlApplicationSettingsSignOn``) and the two fields the SAML wizard requires, Single
    sign-on URL (``ssoAcsUrl``) and Audience URI (``audience``)
    (https://help.okta.com/en-us/content/topics/apps/apps_app_integration_wizard_saml.htm);
    for an OIN app the ``settings.app`` it has, with every key it holds that its
    integration requires (``amazon_aws_sso``: ``acsURL`` and ``entityID``; ``bookmark``:
    ``url``, :func:`bookmark_app_causes`).
    """
    causes: list[str] = []
    if not body.get("label"):
        causes.append("label: The field cannot be left blank")
    if body.get("signOnMode") != current.get("signOnMode"):
        causes.append("signOnMode: The sign-on mode cannot be changed")
    settings = body.get("settings")
    if not isinstance(settings, dict):
        return [*causes, "settings: The field is required"]
    current_settings = current.get("settings") or {}
    if current.get("name") == "amazon_aws_sso":
        return causes + _validate_aws_sso_app(settings.get("app"))
    if current.get("name") == "bookmark":
        return causes + bookmark_app_causes(settings.get("app"))
    if isinstance(current_settings.get("app"), dict) and not isinstance(settings.get("app"), dict):
        causes.append("settings.app: The field is required")
    if current.get("signOnMode") != "SAML_2_0":
        return causes
    sign_on = settings.get("signOn")
    if not isinstance(sign_on, dict):
        return [*causes, "settings.signOn: The field is required"]
    if "ssoAcsUrl" in (current_settings.get("signOn") or {}):
        causes += _validate_custom_sign_on(sign_on)
    return causes


def bookmark_app_causes(app: Any) -> list[str]:
    """``settings.app`` of a bookmark app (``BookmarkApplicationSettingsApplication``:
    ``url`` required, "Validation: URL" (RFC 3986); ``requestIntegration`` a boolean;
    https://developer.okta.com/docs/reference/api/apps/#add-bookmark-application)."""
    if not isinstance(app, dict):
        return ["settings.app: The field is required"]
    causes = []
    url = app.get("url")
    if not isinstance(url, str) or not url:
        causes.append("settings.app.url: The field cannot be left blank")
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
            causes.append("settings.app.url: Must be a valid URL")
    flag = app.get("requestIntegration", False)
    if not isinstance(flag, bool):
        causes.append("settings.app.requestIntegration: Must be a boolean")
    return causes


_AWS_SSO_REQUIRED = ("acsURL", "entityID")


def _validate_aws_sso_app(app: Any) -> list[str]:
    if not isinstance(app, dict):
        return ["settings.app: The field is required"]
    causes = []
    for key in _AWS_SSO_REQUIRED:
        value = app.get(key)
        if not value:
            causes.append(f"settings.app.{key}: The field cannot be left blank")
        elif not str(value).startswith("https://"):
            causes.append(f"settings.app.{key}: Must be a valid https URL")
    return causes


def _validate_custom_sign_on(sign_on: dict[str, Any]) -> list[str]:
    causes = [
        f"settings.signOn.{key}: The field cannot be left blank"
        for key in ("ssoAcsUrl", "audience")
        if not isinstance(sign_on.get(key), str) or not sign_on[key]
    ]
    for key in (
        "allowMultipleAcsEndpoints",
        "assertionSigned",
        "honorForceAuthn",
        "requestCompressed",
        "responseSigned",
    ):
        if not isinstance(sign_on.get(key), bool):
            causes.append(f"settings.signOn.{key}: The field is required")
    if not (sign_on.get("assertionSigned") or sign_on.get("responseSigned")):
        causes.append("settings.signOn.responseSigned: Either the response or the assertion")
    endpoints = sign_on.get("acsEndpoints") or []
    if not isinstance(endpoints, list):
        return [*causes, "settings.signOn.acsEndpoints: Must be an array"]
    if len(endpoints) > 100:
        causes.append("settings.signOn.acsEndpoints: At most 100 ACS endpoints are allowed")
    seen: set[int] = set()
    for i, entry in enumerate(endpoints):
        where = f"settings.signOn.acsEndpoints[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            causes.append(f"{where}.url: The field is required")
            continue
        if len(entry["url"]) > 1024:
            causes.append(f"{where}.url: The URL is longer than 1024 characters")
        index = entry.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= 65535:
            causes.append(f"{where}.index: Index must be an integer between 0 and 65535")
        elif index in seen:
            causes.append(f"{where}.index: Index must be unique")
        else:
            seen.add(index)
    return causes
