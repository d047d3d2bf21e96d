"""DPoP (RFC 9449) as Okta's org authorization server and Management API check it.

New Okta API service apps require DPoP-bound tokens by default ("Require Demonstrating
Proof of Possession (DPoP) header in token requests"; https://developer.okta.com/docs/guides/dpop/oktaresourceserver/main/).
What the fake enforces, per that guide and RFC 9449 §4.3 and §8:

* the token request carries a ``DPoP`` proof: a JWT with header ``typ: dpop+jwt``, an
  asymmetric ``alg`` and the public ``jwk`` (no private members), signed by that key, with
  claims ``htm`` (the method), ``htu`` (the URL without query and fragment), a recent
  ``iat`` and a ``jti`` never seen before;
* the first proof has no nonce: the answer is ``400 use_dpop_nonce`` with a ``DPoP-Nonce``
  header, and the retry's proof must carry that ``nonce``;
* the token is issued with ``token_type: DPoP`` and bound to the key's RFC 7638 thumbprint;
* each API request then sends ``Authorization: DPoP <token>`` and a fresh proof for that
  request with ``ath`` (base64url SHA-256 of the token), signed by the bound key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}
MAX_AGE = 300  # seconds a proof's iat may be off


class DpopRefused(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (``jkt``)."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise DpopRefused("invalid_dpop_proof", f"unsupported jwk kty {jwk.get('kty')!r}")
    canonical = json.dumps({k: jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


@dataclass
class DpopChecker:
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    seen_jti: set[str] = field(default_factory=set)
    proofs: list[dict[str, Any]] = field(default_factory=list)  # accepted headers + claims
    refusals: list[str] = field(default_factory=list)

    def verify(
        self,
        proof: str | None,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        require_nonce: bool = True,
    ) -> str:
        """The proof's key thumbprint; raises :class:`DpopRefused` with RFC 9449's code."""
        try:
            return self._verify(proof, method, url, access_token, require_nonce)
        except DpopRefused as exc:
            self.refusals.append(f"{exc.code}: {exc.description}")
            raise

    def _verify(
        self,
        proof: str | None,
        method: str,
        url: str,
        access_token: str | None,
        require_nonce: bool,
    ) -> str:
        if not proof:
            raise DpopRefused("invalid_dpop_proof", "DPoP proof is missing")
        try:
            header = jwt.get_unverified_header(proof)
        except jwt.PyJWTError as exc:
            raise DpopRefused("invalid_dpop_proof", f"not a JWT: {exc}") from None
        jwk = header.get("jwk")
        if header.get("typ") != "dpop+jwt":
            raise DpopRefused("invalid_dpop_proof", "typ must be dpop+jwt")
        if header.get("alg") not in ("RS256", "ES256") or not isinstance(jwk, dict):
            raise DpopRefused("invalid_dpop_proof", "an asymmetric alg and a jwk are required")
        if _PRIVATE_MEMBERS & set(jwk):
            raise DpopRefused("invalid_dpop_proof", "the jwk must not hold a private key")
        try:
            key = jwt.PyJWK(jwk, algorithm=header["alg"]).key
            claims = jwt.decode(
                proof,
                key,
                algorithms=[header["alg"]],
                options={"require": ["jti", "htm", "htu", "iat"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise DpopRefused("invalid_dpop_proof", f"signature or claims: {exc}") from None
        self._check_claims(claims, method, url, access_token)
        if require_nonce and claims.get("nonce") != self.nonce:
            raise DpopRefused("use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
        self.seen_jti.add(str(claims["jti"]))
        self.proofs.append({"header": header, "claims": claims})
        return thumbprint(jwk)

    def _check_claims(
        self, claims: dict[str, Any], method: str, url: str, access_token: str | None
    ) -> None:
        if claims["htm"] != method:
            raise DpopRefused("invalid_dpop_proof", f"htm {claims['htm']!r} is not {method}")
        if claims["htu"] != url:
            raise DpopRefused("invalid_dpop_proof", f"htu {claims['htu']!r} is not {url}")
        if abs(time.time() - float(claims["iat"])) > MAX_AGE:
            raise DpopRefused("invalid_dpop_proof", "iat is too far from now")
        if str(claims["jti"]) in self.seen_jti:
            raise DpopRefused("invalid_dpop_proof", "jti was already used (a replayed proof)")
        if access_token is not None:
            expected = _b64(hashlib.sha256(access_token.encode()).digest())
            if claims.get("ath") != expected:
                raise DpopRefused("invalid_dpop_proof", "ath does not match the access token")


def dpop_error(refused: DpopRefused, nonce: str | None = None) -> web.Response:
    """400 with the OAuth error body; a ``DPoP-Nonce`` header on ``use_dpop_nonce``."""
    body = {"error": refused.code, "error_description": refused.description}
    headers = {"DPoP-Nonce": nonce} if nonce and refused.code == "use_dpop_nonce" else None
    return web.Response(
        status=400, text=json.dumps(body), content_type="application/json", headers=headers
    )
