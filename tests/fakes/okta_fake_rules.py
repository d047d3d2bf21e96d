"""Okta's server-side rules as the fake applies them: PUT validation, list filters."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode

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
    """Okta-like server-side checks on a full-replace PUT; each cause names its field."""
    causes: list[str] = []
    if not body.get("label"):
        causes.append("label: The field cannot be left blank")
    if body.get("signOnMode") != current.get("signOnMode"):
        causes.append("signOnMode: The sign-on mode cannot be changed")
    settings = body.get("settings")
    if not isinstance(settings, dict):
        return [*causes, "settings: The field is required"]
    if current.get("name") == "amazon_aws_sso":
        app = settings.get("app")
        if not isinstance(app, dict):
            causes.append("settings.app: The field is required")
        else:
            for key in ("acsURL", "entityID"):
                value = app.get(key)
                if value is not None and not str(value).startswith("https://"):
                    causes.append(f"settings.app.{key}: Must be a valid https URL")
        return causes
    sign_on = settings.get("signOn")
    if current.get("signOnMode") != "SAML_2_0" or not isinstance(sign_on, dict):
        return causes
    if "ssoAcsUrl" in (current.get("settings", {}).get("signOn") or {}):
        causes += _validate_custom_sign_on(sign_on)
    return causes


def _validate_custom_sign_on(sign_on: dict[str, Any]) -> list[str]:
    causes = []
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
