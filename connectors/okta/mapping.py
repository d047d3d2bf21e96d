"""PURE mapping between an Okta app's JSON and the vendor-neutral :class:`AppTrust`.

Standard library, ``agent.model`` and the kit's codec and certificate parsing only: no SDK,
no I/O, no clock. The module is the Okta connector's codec (:func:`decode`, :func:`encode`)
and serves the file connector's ``format: okta`` (offline JSON exports) through
:func:`trust_from_raw` and :func:`apply_trust`.

Two app kinds are managed (domain.md 3.1, 3.2, 5):

* custom SAML 2.0 apps: ``settings.signOn.ssoAcsUrl`` (default ACS), ``audience`` (entity
  ID), ``acsEndpoints[{url, index}]`` honoured only with ``allowMultipleAcsEndpoints: true``;
  ``recipient``/``destination`` follow ``ssoAcsUrl`` only where they equalled it before.
* the catalog app ``amazon_aws_sso``: ``settings.app.acsURL``/``entityID``, one ACS URL only.
  A non-null CASB override (``ssoAcsUrlOverride``/``audienceOverride``) is what Okta uses, so
  it is read and written in place of the ``settings.app`` value.

``apply_trust`` returns a new document; every field it does not manage keeps its value,
type and key order (nulls, empty lists and unknown keys included), so a GET → apply → PUT
round trip changes only the managed fields.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agent.model import AppTrust, Capabilities, Certificate, TrustedAcs
from connectors.kit import certs, codec

KIND_CUSTOM_SAML = "custom_saml"
KIND_AWS_SSO = "amazon_aws_sso"

MAX_ACS = 100
MAX_URL_LENGTH = 1024
MAX_INDEX = 65535

CUSTOM_CAPABILITIES = Capabilities(
    multi_acs=True, max_acs=MAX_ACS, max_url_length=MAX_URL_LENGTH, indexed=True
)
AWS_SSO_CAPABILITIES = Capabilities(
    multi_acs=False, max_acs=1, max_url_length=MAX_URL_LENGTH, indexed=False
)


class UnsupportedApp(codec.UnsupportedApp):
    """The document is not an app kind idpsync manages (it is never written)."""


class TrustLimitError(codec.UnsupportedApp):
    """The trust cannot be written to this app (too many endpoints, URL too long, ...)."""


def app_kind(doc: dict[str, Any]) -> str:
    """``custom_saml`` or ``amazon_aws_sso``; anything else raises :class:`UnsupportedApp`."""
    if not isinstance(doc, dict):
        raise UnsupportedApp("an Okta app must be a JSON object")
    name = doc.get("name")
    if name == KIND_AWS_SSO:
        return KIND_AWS_SSO
    if doc.get("signOnMode") != "SAML_2_0":
        raise UnsupportedApp(
            f"app {doc.get('id')!r} has signOnMode {doc.get('signOnMode')!r}; "
            "only SAML 2.0 apps can trust Identity Center"
        )
    settings = doc.get("settings")
    if not isinstance(settings, dict) or not isinstance(settings.get("signOn"), dict):
        # A SAML 2.0 app always has settings.signOn: without it the response is incomplete,
        # and writing the app back would drop whatever Okta did not send.
        raise UnsupportedApp(
            f"app {doc.get('id')!r} has no settings.signOn object (incomplete API response?)"
        )
    sign_on = _sign_on(doc)
    if "ssoAcsUrl" in sign_on or "acsEndpoints" in sign_on or "audience" in sign_on:
        _check_endpoints(doc, sign_on)
        return KIND_CUSTOM_SAML
    raise UnsupportedApp(
        f"app {doc.get('id')!r} is the catalog app {name!r}; idpsync manages custom SAML 2.0 "
        "apps and amazon_aws_sso only"
    )


def capabilities_for(kind: str) -> Capabilities:
    return AWS_SSO_CAPABILITIES if kind == KIND_AWS_SSO else CUSTOM_CAPABILITIES


def trust_from_raw(doc: dict[str, Any]) -> tuple[AppTrust, Capabilities]:
    """The trust an app expresses today and what it can hold."""
    _, trust, caps = read_app(doc)
    return trust, caps


def read_app(doc: dict[str, Any]) -> tuple[str, AppTrust, Capabilities]:
    """:func:`app_kind` and :func:`trust_from_raw` in one pass (the document checked once)."""
    kind = app_kind(doc)
    if kind == KIND_AWS_SSO:
        return kind, _aws_sso_trust(doc), AWS_SSO_CAPABILITIES
    return kind, _custom_trust(doc), CUSTOM_CAPABILITIES


def sp_certificate(doc: dict[str, Any]) -> Certificate | None:
    """``settings.signOn.spCertificate.x5c[0]`` of a custom SAML app, when present."""
    sign_on = (doc.get("settings") or {}).get("signOn") or {}
    held = sign_on.get("spCertificate") if isinstance(sign_on, dict) else None
    if not isinstance(held, dict):
        return None
    cert = certs.from_jwk(held)
    return dataclasses.replace(cert, use="sp") if cert is not None else None


def decode(doc: dict[str, Any]) -> codec.Decoded:
    """The codec's read: kind, trust and limits (:func:`read_app`), label, SP certificate."""
    kind, trust, caps = read_app(doc)
    label = doc.get("label")
    return codec.Decoded(
        trust=trust,
        capabilities=caps,
        kind=kind,
        label=str(label) if label else "",
        sp_certificate=sp_certificate(doc),
    )


def encode(doc: dict[str, Any], trust: AppTrust) -> dict[str, Any]:
    """The codec's write: :func:`apply_trust`."""
    return apply_trust(doc, trust)


def apply_trust(doc: dict[str, Any], trust: AppTrust) -> dict[str, Any]:
    """A copy of ``doc`` expressing ``trust``; unmanaged fields untouched.

    Limits are checked before anything is changed (:class:`TrustLimitError`). If ``doc``
    already expresses ``trust`` an equal copy is returned, so callers can skip the write.
    The copy shares every value it does not change with ``doc`` (see :func:`_own_path`):
    treat both as read-only once this returns.
    """
    kind = app_kind(doc)
    new = _own_path(doc)
    if kind == KIND_AWS_SSO:
        check_limits(trust, AWS_SSO_CAPABILITIES)
        if _aws_sso_trust(doc) != trust:
            _apply_aws_sso(new, trust)
        return new
    check_limits(trust, CUSTOM_CAPABILITIES)
    if _custom_trust(doc) != trust:
        _apply_custom(new, trust)
        # Okta wants settings.app on every PUT (at least {}): a missing one once lost ACS
        # endpoints (domain.md 3.3).
        if not isinstance(new["settings"].get("app"), dict):
            new["settings"]["app"] = {}
    return new


def _own_path(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` whose top level, ``settings``, ``settings.signOn`` and
    ``settings.app`` are new dicts: the only containers ``_apply_custom`` and
    ``_apply_aws_sso`` write to (they replace ``acsEndpoints`` with a new list and never
    change an entry in place). Everything else is shared, unchanged, with ``doc``.

    Why not ``copy.deepcopy``: copying the whole app (about 300 objects) cost more than the
    rest of the apply; ``doc`` is still never mutated, and the copy serialises the same.
    """
    new = dict(doc)
    settings = new.get("settings")
    if isinstance(settings, dict):
        settings = new["settings"] = dict(settings)
        for key in ("signOn", "app"):
            value = settings.get(key)
            if isinstance(value, dict):
                settings[key] = dict(value)
    return new


def check_limits(trust: AppTrust, caps: Capabilities) -> None:
    """Every reason ``trust`` cannot be written to an app with ``caps``, in one error."""
    problems: list[str] = []
    urls = [a.url for a in trust.acs]
    if not caps.multi_acs and len(set(urls)) > 1:
        problems.append(
            f"this app holds one ACS URL, the trust lists {len(set(urls))} "
            "(use a custom SAML 2.0 app or one app per Region)"
        )
    if len(urls) > caps.max_acs:
        problems.append(f"{len(urls)} ACS endpoints exceed Okta's limit of {caps.max_acs}")
    if len(set(urls)) != len(urls):
        problems.append("an ACS URL is listed twice")
    for url in [*urls, trust.default_acs or ""]:
        if len(url) > caps.max_url_length:
            problems.append(f"ACS URL longer than {caps.max_url_length} characters: {url[:80]}…")
    if trust.default_acs is not None and trust.default_acs not in urls:
        problems.append(f"default ACS {trust.default_acs} is not one of the ACS URLs")
    if caps.indexed:
        indexes = [a.index for a in trust.acs if a.index is not None]
        if len(set(indexes)) != len(indexes):
            problems.append("ACS indexes must be unique")
        bad = [i for i in indexes if not 0 <= i <= caps.max_index]
        if bad:
            problems.append(f"ACS index out of range 0..{caps.max_index}: {bad}")
    if problems:
        raise TrustLimitError("; ".join(dict.fromkeys(problems)))


# --- custom SAML 2.0 ---------------------------------------------------------------------


def _sign_on(doc: dict[str, Any]) -> dict[str, Any]:
    settings = doc.get("settings")
    sign_on = settings.get("signOn") if isinstance(settings, dict) else None
    return sign_on if isinstance(sign_on, dict) else {}


def _check_endpoints(doc: dict[str, Any], sign_on: dict[str, Any]) -> None:
    """Refuse malformed acsEndpoints: skipping an entry would make the next PUT drop it."""
    endpoints = sign_on.get("acsEndpoints")
    if endpoints is None:
        return
    where = f"app {doc.get('id')!r}: settings.signOn.acsEndpoints"
    if not isinstance(endpoints, list):
        raise UnsupportedApp(f"{where} is a {type(endpoints).__name__}, not a list")
    for i, entry in enumerate(endpoints):
        codec.url_and_index(entry, f"{where}[{i}]")


# (url, index) -> TrustedAcs: the same few URLs recur in every app of an org, and building
# a frozen dataclass costs several times a dict lookup. Values are immutable, so sharing
# them is safe; bounded by clearing, since a lookup miss only costs a new instance.
_ACS_CACHE: dict[tuple[str, int | None], TrustedAcs] = {}
_ACS_CACHE_MAX = 4096


def _trusted_acs(url: str, index: Any) -> TrustedAcs:
    if index is not None and type(index) is not int:  # bool (True == 1) is not cached
        return TrustedAcs(url, index if isinstance(index, int) else None)
    key = (url, index)
    acs = _ACS_CACHE.get(key)
    if acs is None:
        if len(_ACS_CACHE) >= _ACS_CACHE_MAX:
            _ACS_CACHE.clear()
        acs = _ACS_CACHE[key] = TrustedAcs(url, index)
    return acs


def _custom_trust(doc: dict[str, Any]) -> AppTrust:
    sign_on = _sign_on(doc)
    default = sign_on.get("ssoAcsUrl") or None
    acs: list[TrustedAcs] = []
    urls: set[str] = set()
    # Okta ignores acsEndpoints unless allowMultipleAcsEndpoints is true: report what it uses.
    if sign_on.get("allowMultipleAcsEndpoints") is True:
        for entry in sign_on.get("acsEndpoints") or ():
            if isinstance(entry, dict):
                url = entry.get("url")
                if isinstance(url, str):
                    acs.append(_trusted_acs(url, entry.get("index")))
                    urls.add(url)
    if default and default not in urls:
        # ssoAcsUrl is always accepted; index None marks "held by ssoAcsUrl only".
        acs.insert(0, TrustedAcs(default, None))
    audience = sign_on.get("audience") or None
    return AppTrust(entity_id=audience, acs=tuple(acs), default_acs=default)


def _apply_custom(doc: dict[str, Any], trust: AppTrust) -> None:
    sign_on = doc.setdefault("settings", {}).setdefault("signOn", {})
    old_default = sign_on.get("ssoAcsUrl")
    if trust.default_acs is not None and trust.default_acs != old_default:
        sign_on["ssoAcsUrl"] = trust.default_acs
        for follower in ("recipient", "destination"):
            if sign_on.get(follower) == old_default:
                sign_on[follower] = trust.default_acs
    if trust.entity_id is not None:
        sign_on["audience"] = trust.entity_id
    endpoints = _endpoints_for(sign_on, trust)
    if endpoints or sign_on.get("allowMultipleAcsEndpoints") is True:
        sign_on["acsEndpoints"] = endpoints
        sign_on["allowMultipleAcsEndpoints"] = bool(endpoints)


def _endpoints_for(sign_on: dict[str, Any], trust: AppTrust) -> list[dict[str, Any]]:
    """acsEndpoints for ``trust``: existing entries reused as-is, new ones indexed stably."""
    existing: dict[tuple[str, int], dict[str, Any]] = {}
    for entry in sign_on.get("acsEndpoints") or []:
        if isinstance(entry, dict) and isinstance(entry.get("index"), int):
            existing[(str(entry.get("url")), entry["index"])] = entry
    wanted = [
        a for a in trust.acs if not (a.index is None and a.url == trust.default_acs)
    ]  # "index None + default" is held by ssoAcsUrl alone (see _custom_trust)
    used = {a.index for a in wanted if a.index is not None}
    out: list[dict[str, Any]] = []
    for acs in wanted:
        index = acs.index
        if index is None:  # the plan left it to us: lowest free index, never renumbering
            index = next(i for i in range(MAX_INDEX + 1) if i not in used)
            used.add(index)
        out.append(existing.get((acs.url, index)) or {"url": acs.url, "index": index})
    return out


# --- amazon_aws_sso (OIN) ------------------------------------------------------------------


def _app_settings(doc: dict[str, Any]) -> dict[str, Any]:
    settings = doc.get("settings")
    app = settings.get("app") if isinstance(settings, dict) else None
    return app if isinstance(app, dict) else {}


def _aws_sso_trust(doc: dict[str, Any]) -> AppTrust:
    sign_on = _sign_on(doc)
    app = _app_settings(doc)
    acs_url = sign_on.get("ssoAcsUrlOverride") or app.get("acsURL") or None
    entity = sign_on.get("audienceOverride") or app.get("entityID") or None
    acs = (TrustedAcs(acs_url, None),) if acs_url else ()
    return AppTrust(entity_id=entity, acs=acs, default_acs=acs_url)


def _apply_aws_sso(doc: dict[str, Any], trust: AppTrust) -> None:
    settings = doc.setdefault("settings", {})
    app = settings.get("app")
    if not isinstance(app, dict):  # Okta needs settings.app (at least {}) on every PUT
        app = settings["app"] = {}
    sign_on = settings.get("signOn") if isinstance(settings.get("signOn"), dict) else {}
    new_acs = trust.default_acs or (trust.acs[0].url if trust.acs else None)
    old_acs = _aws_sso_trust(doc).default_acs
    if new_acs is not None and new_acs != old_acs:
        if sign_on.get("ssoAcsUrlOverride"):
            sign_on["ssoAcsUrlOverride"] = new_acs
        else:
            app["acsURL"] = new_acs
        for follower in ("recipientOverride", "destinationOverride"):
            if old_acs is not None and sign_on.get(follower) == old_acs:
                sign_on[follower] = new_acs
    if trust.entity_id is not None:
        if sign_on.get("audienceOverride"):
            sign_on["audienceOverride"] = trust.entity_id
        else:
            app["entityID"] = trust.entity_id
