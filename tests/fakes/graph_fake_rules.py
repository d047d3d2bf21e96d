"""Graph's documented v1.0 behaviours the fake models beyond plain CRUD (issue 15, items 1-4).

Kept out of ``graph_fake.py`` so each rule sits next to the Microsoft page it follows:

* :class:`UriSettingsMode`: what v1.0 does with ``web.redirectUriSettings``, a property the
  v1.0 ``webApplication`` page does not list (three modes, plus the beta shape);
* :func:`gallery_instance`: a fresh "AWS IAM Identity Center" instance as the documented
  ``instantiate`` response has it (a wildcard placeholder reply URL, a null default);
* :func:`policy_refusal`: the identifier-URI protection policy, evaluated against the service
  principal as Graph has *replicated* it (its read lag), with ``excludeSaml``;
* :class:`KeySelectLimit`: the per-tenant limit on service principal requests that select
  ``keyCredentials`` (150 per minute), a sliding window answering 429 with ``Retry-After``.
"""

from __future__ import annotations

import copy
import math
import threading
import time
import uuid
from collections import deque
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

# The documented instantiate response of template 21ed01d2-ec13-4e9e-86c1-cd546719ebc4 carries
# this reply URL (not an ACS URL of any instance) and a matching homePageUrl:
# https://learn.microsoft.com/graph/application-saml-sso-configure-api (step 2, "Instantiate
# the application") and https://learn.microsoft.com/graph/api/applicationtemplate-instantiate
GALLERY_PLACEHOLDER = "https://*.signin.aws.amazon.com/platform/saml/acs/*"
GALLERY_HOME_PAGE = GALLERY_PLACEHOLDER + "?metadata=awssinglesignon|ISV9.1|primary|z"


class UriSettingsMode(StrEnum):
    """How the fake's v1.0 treats ``web.redirectUriSettings``.

    The v1.0 ``webApplication`` resource lists only ``homePageUrl``, ``implicitGrantSettings``,
    ``logoutUrl`` and ``redirectUris``
    (https://learn.microsoft.com/graph/api/resources/webapplication?view=graph-rest-1.0);
    ``redirectUriSettings`` is documented on beta only
    (https://learn.microsoft.com/graph/api/resources/webapplication?view=graph-rest-beta,
    https://learn.microsoft.com/graph/api/resources/redirecturisettings?view=graph-rest-beta).
    What the real v1.0 does with it is not documented, so a client must survive each of:
    """

    REJECT = "reject"  # a PATCH naming it gets 400 on `web`; it is never stored or returned
    IGNORE = "ignore"  # accepted and dropped: never stored, never returned
    SINGLE_GET = "single_get"  # stored; returned on single-object GETs, never in listings
    BETA = "beta"  # stored and returned everywhere (the beta shape; the fake's old default)


def check_patch_web(mode: UriSettingsMode, changes: dict[str, Any]) -> str | None:
    """The 400 message a PATCH gets in ``mode``, or None when it may go on."""
    web = changes.get("web")
    if mode is UriSettingsMode.REJECT and isinstance(web, dict) and "redirectUriSettings" in web:
        return (
            "Invalid property 'redirectUriSettings' on 'web': the property does not exist on "
            "type 'microsoft.graph.webApplication'."
        )
    return None


def stored_web(mode: UriSettingsMode, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` as the fake stores them: without the property where v1.0 drops it."""
    web = changes.get("web")
    if mode in (UriSettingsMode.REJECT, UriSettingsMode.IGNORE) and isinstance(web, dict):
        web = {k: v for k, v in web.items() if k != "redirectUriSettings"}
        return {**changes, "web": web}
    return changes


def shown(mode: UriSettingsMode, doc: dict[str, Any], *, single: bool) -> dict[str, Any]:
    """``doc`` (already ``$select``-ed) as a GET returns it in ``mode``."""
    web = doc.get("web")
    hide = mode in (UriSettingsMode.REJECT, UriSettingsMode.IGNORE) or (
        mode is UriSettingsMode.SINGLE_GET and not single
    )
    if hide and isinstance(web, dict) and "redirectUriSettings" in web:
        return {**doc, "web": {k: v for k, v in web.items() if k != "redirectUriSettings"}}
    return doc


def gallery_instance(
    display_name: str, template_id: str, mode: UriSettingsMode
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh application and service principal as ``instantiate`` returns them."""
    app_id = str(uuid.uuid4())
    web: dict[str, Any] = {
        "homePageUrl": GALLERY_HOME_PAGE,
        "logoutUrl": None,
        "redirectUris": [GALLERY_PLACEHOLDER],
        "implicitGrantSettings": {
            "enableAccessTokenIssuance": False,
            "enableIdTokenIssuance": False,
        },
    }
    if mode in (UriSettingsMode.SINGLE_GET, UriSettingsMode.BETA):
        web["redirectUriSettings"] = [{"uri": GALLERY_PLACEHOLDER, "index": None}]
    app: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "appId": app_id,
        "displayName": display_name,
        "applicationTemplateId": template_id,
        "createdDateTime": "2026-02-01T10:00:00Z",
        "signInAudience": "AzureADMyOrg",
        "identifierUris": [],
        "defaultRedirectUri": None,
        "tags": [],
        "web": web,
    }
    sp = {
        "id": str(uuid.uuid4()),
        "appId": app_id,
        "displayName": display_name,
        "applicationTemplateId": template_id,
        "preferredSingleSignOnMode": None,
        "homepage": GALLERY_HOME_PAGE,
        "replyUrls": [],
        "servicePrincipalNames": [app_id],
        "keyCredentials": [],
        "passwordCredentials": [],
        "preferredTokenSigningKeyThumbprint": None,
        "appRoleAssignmentRequired": True,
    }
    return app, copy.deepcopy(sp)


def policy_refusal(
    before: dict[str, Any],
    after: dict[str, Any],
    replicated_sp: dict[str, Any],
    *,
    tenant_id: str,
    exclude_saml: bool,
) -> str | None:
    """The first identifier URI the protection policy refuses, or None.

    The default tenant policy blocks new identifier URIs without a verified domain, the
    tenant ID or the app ID (https://learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions);
    ``identifierUriRestriction.excludeSaml`` exempts SAML applications
    (https://learn.microsoft.com/graph/api/resources/identifierurirestriction?view=graph-rest-1.0).
    Whether the app is a SAML app is read from ``replicated_sp``: the service principal as this
    replica sees it, so a mode switch made a moment ago may not count yet (directory writes
    replicate with a lag, domain.md 4.4 and 9).
    """
    if exclude_saml and replicated_sp.get("preferredSingleSignOnMode") == "saml":
        return None
    old = before.get("identifierUris") or []
    for uri in after.get("identifierUris") or []:
        exempt = uri.startswith("api://") or tenant_id in uri or after["appId"] in uri
        if uri not in old and not exempt:
            return str(uri)
    return None


def selects_key_credentials(method: str, raw_path: str) -> bool:
    """A GET on ``/servicePrincipals`` (list or one) whose ``$select`` names keyCredentials."""
    parts = urlsplit(raw_path)
    if method != "GET" or not parts.path.startswith("/v1.0/servicePrincipals"):
        return False
    query = parse_qs(parts.query, keep_blank_values=True)
    fields = ",".join(query.get("$select", [])).split(",")
    return "keyCredentials" in (f.strip() for f in fields)


class KeySelectLimit:
    """``$select=keyCredentials`` on service principals: at most ``limit`` requests per
    ``window`` seconds for the whole tenant (150 per minute, domain.md 4.5 and 9; the identity
    and access limits are at https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
    Every request counts, inside a ``$batch`` too (each is throttled on its own)."""

    def __init__(self, limit: int = 150, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self.accepted = 0
        self.refused = 0
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """None if the request may proceed, else the Retry-After seconds of its 429."""
        with self._lock:
            now = time.monotonic()
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if len(self._times) < self.limit:
                self._times.append(now)
                self.accepted += 1
                return None
            self.refused += 1
            return max(1, math.ceil(self._times[0] + self.window - now))
