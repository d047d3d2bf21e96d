"""Check 6 (``--probe``): prove each Region's SP-initiated sign-in path without signing in.

For each Region, request its access-portal URL with no credentials, follow redirects (with
a fresh, throw-away cookie jar) until a URL carries a ``SAMLRequest`` (HTTP-Redirect
binding) or a page holds a ``SAMLRequest`` form (HTTP-POST binding), and stop there: the
IdP itself is never contacted. The AuthnRequest is decoded (base64, raw DEFLATE for the
redirect binding), parsed with python3-saml's hardened parser, and its
``AssertionConsumerServiceURL`` (or ``AssertionConsumerServiceIndex``) must be one every
observed IdP app trusts.
"""

from __future__ import annotations

import base64
import binascii
import html
import http.client
import re
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import parse_qs, urlsplit

from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from agent.doctor.network import Dialer
from agent.doctor.result import Check, CheckResult, Status
from agent.model import DesiredTrust, ObservedApp

MAX_REQUEST_BYTES = 64 * 1024  # an AuthnRequest is a few hundred bytes; cap inflation
MAX_PAGE_BYTES = 1024 * 1024
MAX_REDIRECTS = 10

_ACS_HOST = re.compile(r"(?P<region>[a-z0-9-]+)\.(sso\.)?signin\.aws(\.amazon\.com)?")
_FORM_FIELD = re.compile(
    r"<input[^>]*\bname=[\"']SAMLRequest[\"'][^>]*\bvalue=[\"'](?P<v>[^\"']+)[\"']"
    r"|<input[^>]*\bvalue=[\"'](?P<v2>[^\"']+)[\"'][^>]*\bname=[\"']SAMLRequest[\"']",
    re.IGNORECASE,
)


class ProbeError(Exception):
    """The sign-in path could not be followed or decoded (message says where)."""


class _NoSamlRequest(ProbeError):
    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"the chain ended at {url} without a SAMLRequest")


@dataclass(frozen=True)
class AuthnRequestInfo:
    """What a decoded AuthnRequest asks the IdP for."""

    acs_url: str | None
    acs_index: int | None
    issuer: str | None
    idp_url: str  # where Identity Center sent the browser (the IdP's SSO URL)


def portal_url(instance_id: str, region: str) -> str:
    return f"https://{instance_id}.{region}.portal.amazonaws.com/"


def inflate_redirect_value(value: str) -> bytes:
    """HTTP-Redirect binding: base64, then raw DEFLATE (RFC 1951), size-capped."""
    try:
        compressed = base64.b64decode(value, validate=False)
        inflater = zlib.decompressobj(-15)
        xml = inflater.decompress(compressed, MAX_REQUEST_BYTES)
    except (binascii.Error, zlib.error) as exc:
        raise ProbeError(f"SAMLRequest is not base64 + DEFLATE ({exc})") from exc
    if inflater.unconsumed_tail:
        raise ProbeError(f"SAMLRequest inflates to more than {MAX_REQUEST_BYTES} bytes")
    return xml


def parse_authn_request(xml: bytes, idp_url: str) -> AuthnRequestInfo:
    try:
        root: Any = OneLogin_Saml2_XML.to_etree(xml)
    except Exception as exc:  # lxml / DTDForbidden: translated at this boundary
        raise ProbeError(f"SAMLRequest is not a safe XML document ({exc})") from exc
    if not str(root.tag).endswith("}AuthnRequest"):
        raise ProbeError(f"SAMLRequest holds {root.tag}, not an AuthnRequest")
    index = root.get("AssertionConsumerServiceIndex")
    issuer = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer")
    try:
        acs_index = int(index) if index is not None else None
    except ValueError:
        raise ProbeError(f"AssertionConsumerServiceIndex {index!r} is not a number") from None
    return AuthnRequestInfo(
        acs_url=root.get("AssertionConsumerServiceURL"),
        acs_index=acs_index,
        issuer=(issuer.text or "").strip() if issuer is not None else None,
        idp_url=idp_url,
    )


class _ReachedIdp(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


class _DialedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS through the doctor's :class:`Dialer` (resolver, port and CA are injectable)."""

    def __init__(self, host: str, dialer: Dialer, **kwargs: Any) -> None:
        super().__init__(host, timeout=dialer.timeout, context=dialer.ssl_context)
        self._dialer = dialer

    def connect(self) -> None:
        self.sock = self._dialer.connect(self.host, None if self.port == 443 else self.port)


class _DialedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, dialer: Dialer) -> None:
        super().__init__(context=dialer.ssl_context)
        self._dialer = dialer

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def factory(host: str, **kwargs: Any) -> http.client.HTTPSConnection:
            return _DialedHTTPSConnection(host, self._dialer)

        return self.do_open(factory, req)


class _StopAtIdp(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if "SAMLRequest" in parse_qs(urlsplit(newurl).query):
            fp.close()
            raise _ReachedIdp(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(dialer: Dialer) -> urllib.request.OpenerDirector:
    # Built by hand, not build_opener(): no plain-http handler (a redirect to http:// fails
    # instead of leaving TLS), no proxy handler reading the environment, fresh cookies only.
    opener = urllib.request.OpenerDirector()
    for handler in (
        _DialedHTTPSHandler(dialer),
        _StopAtIdp(),
        urllib.request.HTTPCookieProcessor(CookieJar()),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener


def follow_to_idp(url: str, dialer: Dialer) -> AuthnRequestInfo:
    """Follow the portal's redirects to the IdP and decode the AuthnRequest it carries."""
    request = urllib.request.Request(url, headers={"User-Agent": "idpsync-doctor"})
    try:
        with _opener(dialer).open(request, timeout=dialer.timeout) as response:
            final_url = response.geturl()
            page = response.read(MAX_PAGE_BYTES).decode("utf-8", "replace")
    except _ReachedIdp as reached:
        value = parse_qs(urlsplit(reached.url).query)["SAMLRequest"][0]
        return parse_authn_request(inflate_redirect_value(value), reached.url.split("?", 1)[0])
    except urllib.error.HTTPError as exc:
        raise ProbeError(f"{exc.url} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise ProbeError(f"cannot follow {url}: {reason}") from exc
    match = _FORM_FIELD.search(page)
    if match is None:
        raise _NoSamlRequest(final_url)
    value = html.unescape(match["v"] or match["v2"])
    try:
        xml = base64.b64decode(value, validate=False)
    except binascii.Error as exc:
        raise ProbeError(f"SAMLRequest form field is not base64 ({exc})") from exc
    return parse_authn_request(xml, final_url)


def check_probe(
    regions: Sequence[str],
    instance_id: str,
    desired: DesiredTrust | None,
    apps: Sequence[ObservedApp],
    dialer: Dialer,
) -> list[CheckResult]:
    if not regions:
        return []
    # Regions are independent and each waits on the network: probe them side by side.
    with ThreadPoolExecutor(max_workers=min(8, len(regions))) as pool:
        return list(
            pool.map(lambda r: _probe_region(r, instance_id, desired, apps, dialer), regions)
        )


def _probe_region(
    region: str,
    instance_id: str,
    desired: DesiredTrust | None,
    apps: Sequence[ObservedApp],
    dialer: Dialer,
) -> CheckResult:
    url = portal_url(instance_id, region)
    try:
        info = follow_to_idp(url, dialer)
    except _NoSamlRequest as exc:
        return CheckResult(
            Check.PROBE,
            Status.WARN,
            f"{url} did not lead to an IdP with a SAMLRequest ({exc})",
            fix=f"Open {url} in a private browser window and check that it sends you to your "
            "IdP's sign-in page.",
            region=region,
            subject=url,
        )
    except ProbeError as exc:
        return CheckResult(
            Check.PROBE,
            Status.FAIL,
            f"sign-in path for {region} broken: {exc}",
            fix=f"Check the network results for {region} and that the identity source is your "
            "external IdP, then run idpsync doctor --probe again.",
            region=region,
            subject=url,
        )
    return _judge(region, url, info, desired, apps)


def _judge(
    region: str,
    url: str,
    info: AuthnRequestInfo,
    desired: DesiredTrust | None,
    apps: Sequence[ObservedApp],
) -> CheckResult:
    def result(status: Status, message: str, fix: str = "") -> CheckResult:
        return CheckResult(Check.PROBE, status, message, fix=fix, region=region, subject=url)

    if info.acs_url is None and info.acs_index is None:
        return result(
            Status.WARN,
            f"the AuthnRequest sent to {info.idp_url} names no ACS, so the IdP answers to its "
            "default ACS (the primary's)",
            f"Sign in through {url} in a browser and check you land in {region}.",
        )
    wanted = info.acs_url or f"index {info.acs_index}"
    if not apps:
        return result(
            Status.WARN,
            f"the AuthnRequest asks for {wanted}, but no IdP app was observed to compare",
            "Add the IdP app to targets in the config so doctor can compare its ACS list.",
        )
    refusing = [a.ref.label or a.ref.key for a in apps if not _trusts(a, info)]
    if refusing:
        return result(
            Status.FAIL,
            f"the AuthnRequest asks for {wanted}, which is not trusted by {', '.join(refusing)}",
            f"Run idpsync sync (or add {wanted} to {', '.join(refusing)}) so sign-in through "
            f"{region} is accepted.",
        )
    if info.acs_url is not None:
        m = _ACS_HOST.fullmatch(urlsplit(info.acs_url).hostname or "")
        if desired is not None and info.acs_url not in {a.url for a in desired.acs}:
            return result(
                Status.WARN,
                f"the AuthnRequest asks for {info.acs_url}, which the SP metadata does not list",
                "Download the metadata file again from the IAM Identity Center console; it "
                "is older than the instance's current ACS URLs.",
            )
        if m is None or m["region"] != region:
            return result(
                Status.WARN,
                f"{region}'s portal asks for {info.acs_url}, an ACS URL of another Region",
                f"Sign in through {url} in a browser and check you land in {region}.",
            )
    return result(Status.OK, f"AuthnRequest asks for {wanted}; every observed app trusts it")


def _trusts(app: ObservedApp, info: AuthnRequestInfo) -> bool:
    if info.acs_url is not None:
        return info.acs_url in app.trust.urls()
    return any(a.index == info.acs_index for a in app.trust.acs)
